"""One UI setting, declared once: its query name, session key, label, codec and help.

``share.PAGES`` holds the declarations; a page draws its widget with ``Setting.draw`` (the label, key and help come
from the declaration) and the shared link carries it with the same record, so neither can drift from the other.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from components.ui.shell.share_codecs import Choice, Codec, Context

T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    name: str  # in the URL
    key: str  # in session state; "{task}" and the like come from the page's context
    label: str  # the widget's label; "" where a shared widget draws it (samples, model and runtime pickers)
    codec: Codec
    when: Callable[[Context], bool] = lambda ctx: True  # written only where it matters
    clears: str = ""  # a session key dropped when the URL changes this value (results of another input)
    cannot_run: Callable[[Context], Mapping[str, str]] | None = None  # models: {id: why not here}, as picked
    help: str | None = None  # the widget's tooltip

    def session_key(self, **context: Any) -> str:
        """The session key here (``context`` fills ``{task}`` and the like)."""
        return self.key.format(**context)

    def options(self) -> list[Any]:
        """A fixed choice's widget values, in the table's order."""
        if not isinstance(self.codec, Choice) or callable(self.codec.options):
            raise TypeError(f"setting {self.name!r} has no fixed options")
        return list(self.codec.options.values())

    def name_of(self, value: Any) -> str:
        """The URL name of a fixed choice's widget value (what the page switches on)."""
        return next(name for name, option in self.codec.options.items() if option == value)

    def draw(self, widget: Callable[..., T], *args: Any, context: Mapping[str, Any] | None = None,
             **kwargs: Any) -> T:
        """``widget(label, *args, key=..., help=..., **kwargs)`` with this setting's label, key and help."""
        if self.help is not None:
            kwargs.setdefault("help", self.help)
        return widget(self.label, *args, key=self.session_key(**(context or {})), **kwargs)
