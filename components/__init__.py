"""Model Explorer's code, one package per capability (see README, Layout). Each package's ``__init__`` is
its face: the only names other packages and the pages import from it."""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

Getattr = Callable[[str], object]


def lazy_face(package: str, exports: dict[str, str]) -> tuple[Getattr, Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package face.

    ``exports`` maps a name to the submodule defining it (``"factory"``), to a submodule and another name
    there (``"attention:main"``), or to a submodule that is itself the export (``"shell.share:"``).
    A name is imported on first use and kept, so a page that needs one light name never imports torch through
    a face."""

    def __getattr__(name: str) -> object:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        submodule, _, attribute = target.partition(":")
        module = importlib.import_module(f"{package}.{submodule}")
        value = getattr(module, attribute or name) if attribute or ":" not in target else module
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
