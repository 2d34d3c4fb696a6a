"""How closely a runtime reproduces eager PyTorch on the same samples: the Runtimes comparison's
"agreement" figure. Classifiers: the share of samples whose top-1 class matches; everything else
(encoders, random-weights networks): the mean cosine between the two raw outputs."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.core import TASKS
from components.models.runners.base import Runner

MAX_SAMPLES = 32  # agreement is checked on at most this many samples of the set


def _first_tensor(output: Any) -> Any:
    import torch

    if torch.is_tensor(output):
        return output
    values = output.values() if hasattr(output, "values") else output
    return next(v for v in values if torch.is_tensor(v))


def raw_output(runner: Runner, sample: Any, options: dict[str, Any]) -> Any:
    """The forward output (first tensor) for one sample, as float32 on the CPU."""
    return _first_tensor(runner.infer(runner.preprocess(sample, **options))).float().cpu()


def agreement(reference: Runner, candidate: Runner, samples: Sequence[Any],
              options: dict[str, Any] | None = None) -> dict[str, Any]:
    """{"basis", "value", "n", "items"}: top-1 match share for classifiers, else mean cosine of the outputs;
    ``items`` holds the per-sample 0/1 matches or cosines (for the interval, components.core stats)."""
    import torch

    chosen = list(samples[:MAX_SAMPLES])
    pairs = [(raw_output(reference, s, options or {}), raw_output(candidate, s, options or {})) for s in chosen]
    if reference.task in TASKS and TASKS[reference.task].classifier:
        matches = [bool(torch.equal(a.argmax(-1), b.argmax(-1))) for a, b in pairs]
        return {"basis": "top-1 match", "value": sum(matches) / len(matches), "n": len(matches),
                "items": [int(m) for m in matches]}
    cosines = [float(torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim=0)) for a, b in pairs]
    return {"basis": "output cosine", "value": sum(cosines) / len(cosines), "n": len(cosines),
            "min": min(cosines), "items": cosines}
