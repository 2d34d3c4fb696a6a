"""Codecs for shareable links: a session value <-> the text a URL carries, refusing text they cannot use.

Pure: no Streamlit here (``components.ui.shell.share`` holds the page table and the URL sync). A refusal is a
``ValueError`` whose message shows the link's text through ``quoted``, so a page can put it in a note.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

Context = Mapping[str, Any]
DATA = Path(__file__).resolve().parents[3] / "data"
MAX_TEXT = 2000  # characters of typed text a link carries
MAX_QUOTED = 80  # characters of a link's text shown in a note


def quoted(text: str) -> str:
    """A link's text for a Markdown note, shown literally: one line, cut short, as a code span (so no link,
    image, HTML or Streamlit directive in it is rendered)."""
    line = " ".join(str(text).replace("`", "").split())
    return f"`{line[:MAX_QUOTED]}{'…' if len(line) > MAX_QUOTED else ''}`" if line else "``"


def listed(names: Iterable[str], most: int = 8) -> str:
    """Allowed values for a note: all of them when few, else the first ``most`` and how many there are."""
    names = list(names)
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"the {len(names)} allowed values ({shown}, …)"


class PartlyUsed(ValueError):
    """Some of a list is unusable: the message names what is left out, ``value`` is the rest."""

    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.value = value


class AboveRange(ValueError):
    """A number above its setting's range; ``number`` is the number asked (a capped setting cuts it)."""

    def __init__(self, message: str, number: float) -> None:
        super().__init__(message)
        self.number = number


class Codec:
    """Turns a session value into URL text (None: nothing to write) and back (ValueError: unusable)."""

    def encode(self, value: Any, ctx: Context) -> str | None:
        return str(value)

    def decode(self, text: str, ctx: Context) -> Any:
        return text

    def stays_behind(self, value: Any) -> str | None:
        """Why a value that exists cannot travel in a link (None when it can, or when there is none)."""
        return None


class Text(Codec):
    def __init__(self, limit: int = 200) -> None:
        self.limit = limit

    def encode(self, value: Any, ctx: Context) -> str | None:
        return value if isinstance(value, str) and len(value) <= self.limit else None

    def decode(self, text: str, ctx: Context) -> str:
        if len(text) > self.limit:
            raise ValueError(f"longer than {self.limit} characters")
        return text


class Choice(Codec):
    """One of a fixed set: ``options`` maps URL text to the session value (a callable gets the context)."""

    def __init__(self, options: Mapping[str, Any] | Callable[[Context], Iterable[str]]) -> None:
        self.options = options

    def _options(self, ctx: Context) -> dict[str, Any]:
        if callable(self.options):
            return {name: name for name in self.options(ctx)}
        return dict(self.options)

    def encode(self, value: Any, ctx: Context) -> str | None:
        return next((name for name, v in self._options(ctx).items() if v == value), None)

    def decode(self, text: str, ctx: Context) -> Any:
        options = self._options(ctx)
        if text not in options:
            raise ValueError(f"{quoted(text)} is not one of {listed(options)}")
        return options[text]


class Many(Codec):
    """A comma-separated list; every item must be one of ``allowed(ctx)`` (model ids, runtimes, …)."""

    def __init__(self, allowed: Callable[[Context], Iterable[str]]) -> None:
        self.allowed = allowed

    def encode(self, value: Any, ctx: Context) -> str | None:
        return ",".join(value) if isinstance(value, (list, tuple)) else None

    def decode(self, text: str, ctx: Context) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        allowed = set(self.allowed(ctx))
        unknown = [item for item in items if item not in allowed]
        known = [item for item in items if item in allowed]
        if unknown and known:
            raise PartlyUsed(f"{quoted(', '.join(unknown))} (unknown here)", known)
        if unknown:
            raise ValueError(f"unknown here: {quoted(', '.join(unknown))}")
        return items


class Number(Codec):
    def __init__(self, low: float, high: float, integer: bool = False) -> None:
        self.low, self.high, self.integer = low, high, integer

    def encode(self, value: Any, ctx: Context) -> str | None:
        return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def decode(self, text: str, ctx: Context) -> float | int:
        try:
            number = int(text) if self.integer else float(text)
        except ValueError:
            raise ValueError(f"{quoted(text)} is not a{'n integer' if self.integer else ' number'}") from None
        if not self.low <= number <= self.high:  # NaN too
            outside = f"{quoted(text)} is outside {self.low:g}–{self.high:g}"
            raise AboveRange(outside, number) if number > self.high else ValueError(outside)
        return number


class Flag(Codec):
    def encode(self, value: Any, ctx: Context) -> str | None:
        return None if value is None else ("1" if value else "0")

    def decode(self, text: str, ctx: Context) -> bool:
        if text not in ("0", "1"):
            raise ValueError(f"{quoted(text)} is not 0 or 1")
        return text == "1"


class Sample(Codec):
    """A bundled sample file, by its name without extension; an upload or a recording stays behind."""

    def __init__(self, folder: str, patterns: tuple[str, ...], what: str) -> None:
        self.folder, self.patterns, self.what = DATA / folder, patterns, what

    def files(self) -> dict[str, Path]:
        return {path.stem: path for pattern in self.patterns for path in sorted(self.folder.glob(pattern))}

    def encode(self, value: Any, ctx: Context) -> str | None:
        if getattr(value, "origin", None) == "sample":
            return Path(value.name).stem
        return None

    def decode(self, text: str, ctx: Context) -> Any:
        from components.ui.widgets.inputs import RawInput

        path = self.files().get(text)
        if path is None:
            raise ValueError(f"no bundled sample named {quoted(text)}")
        return RawInput(path.name, path.read_bytes(), "sample")

    def stays_behind(self, value: Any) -> str | None:
        origin = getattr(value, "origin", None)
        if origin in (None, "sample"):
            return None
        return (f"Your {'uploaded' if origin == 'upload' else origin} {self.what} stays on this computer: a link "
                f"cannot carry uploads. Whoever opens it uploads it again or picks a sample.")


class TextSample(Codec):
    """The Text page's bundled sample texts, by name (typed text travels as ``text``)."""

    @staticmethod
    def samples() -> dict[str, str]:
        from components.ui.widgets.text_inputs import english_sample, multilingual_sample

        return {"english": english_sample(), "multilingual": multilingual_sample()}

    def encode(self, value: Any, ctx: Context) -> str | None:
        return next((name for name, text in self.samples().items() if text == value), None)

    def decode(self, text: str, ctx: Context) -> str:
        samples = self.samples()
        if text not in samples:
            raise ValueError(f"{quoted(text)} is not one of {listed(samples)}")
        return samples[text]


class TypedText(Text):
    """Typed text (not a bundled sample), up to ``MAX_TEXT`` characters."""

    def __init__(self) -> None:
        super().__init__(MAX_TEXT)

    def encode(self, value: Any, ctx: Context) -> str | None:
        return None if value in TextSample.samples().values() else super().encode(value, ctx)

    def stays_behind(self, value: Any) -> str | None:
        if isinstance(value, str) and len(value) > MAX_TEXT:
            return f"Your text is longer than {MAX_TEXT} characters: the link opens the page without it."
        return None
