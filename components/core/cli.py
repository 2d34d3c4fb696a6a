"""What every headless CLI here shares (bench, adapt, explain): its JSON output and one-line errors."""
from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

INTERRUPTED = 130


def description(doc: str | None) -> str:
    """A module docstring's first paragraph on one line: a CLI's ``--help`` description (its first line alone stops
    mid-sentence where the sentence wraps)."""
    return " ".join((doc or "").strip().split("\n\n")[0].split())


class CliError(Exception):
    """Reported as one line on stderr, exit status 1."""


def write_json(path: Path, data: Any) -> None:
    """``data`` as strict JSON (a NaN or infinity, which JSON has no word for, becomes null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(finite(data), indent=2, allow_nan=False), encoding="utf-8")


def finite(data: Any) -> Any:
    """``data`` with every float that is not finite replaced by None, through dicts, lists and tuples."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite(v) for v in data]
    return data


def fail(exc: BaseException) -> int:
    """Print ``exc`` as one line on stderr (no traceback); the exit status: 130 if interrupted, else 1."""
    if isinstance(exc, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        return INTERRUPTED
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    print(f"error: {message}", file=sys.stderr)
    return 1


def json_cli(produce: Callable[[], tuple[Any, str]], path: Path, expected: tuple[type[BaseException], ...]) -> int:
    """Run ``produce`` -> (JSON data, a summary line), write the data to ``path`` and print the line; an
    ``expected`` error, an OSError or an interrupt becomes one line on stderr (:func:`fail`)."""
    try:
        data, summary = produce()
        write_json(path, data)
    except (CliError, OSError, KeyboardInterrupt, *expected) as exc:
        return fail(exc)
    print(summary)
    return 0
