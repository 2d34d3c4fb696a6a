"""Shareable state: each page's settings live in the URL (``st.query_params``) and come back from it.

``PAGES`` says, per page, what travels: (query name, session-state key, codec). app.py calls ``restore``
before a page draws its widgets, and ``publish`` after it ran:

* ``restore`` seeds session state from the URL when the URL is not the one this session last wrote (a
  pasted link, a lesson step, the browser's Back button); a value it cannot use is a one-line note.
* ``publish`` writes the current values back to the URL and shows the link with a copy button.

A key may name another setting's value, as ``keep_vision_models_{task}``: the page's ``context`` fills it.
Uploads never travel (only a bundled sample's name does); the link says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, urlencode

import streamlit as st

Context = Mapping[str, Any]
State = Mapping[str, Any]
DATA = Path(__file__).resolve().parents[2] / "data"
WRITTEN = "share_written"  # (page, the query params this session last wrote)
NOTES = "share_notes"  # (page, notes about the link this page was opened with)
MAX_TEXT = 2000  # characters of typed text a link carries


# ---------------------------------------------------------------- codecs: URL text <-> session value

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
            raise ValueError(f"'{text}' is not one of {', '.join(options)}")
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
        if unknown:
            raise ValueError(f"unknown here: {', '.join(unknown)}")
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
            raise ValueError(f"'{text}' is not a{'n integer' if self.integer else ' number'}") from None
        if not self.low <= number <= self.high:
            raise ValueError(f"{text} is outside {self.low:g}–{self.high:g}")
        return number


class Flag(Codec):
    def encode(self, value: Any, ctx: Context) -> str | None:
        return None if value is None else ("1" if value else "0")

    def decode(self, text: str, ctx: Context) -> bool:
        if text not in ("0", "1"):
            raise ValueError(f"'{text}' is not 0 or 1")
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
        from components.ui.input_widgets import RawInput

        path = self.files().get(text)
        if path is None:
            raise ValueError(f"no bundled sample named '{text}'")
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
        from components.ui.text_widgets import english_sample, multilingual_sample

        return {"english": english_sample(), "multilingual": multilingual_sample()}

    def encode(self, value: Any, ctx: Context) -> str | None:
        return next((name for name, text in self.samples().items() if text == value), None)

    def decode(self, text: str, ctx: Context) -> str:
        samples = self.samples()
        if text not in samples:
            raise ValueError(f"'{text}' is not one of {', '.join(samples)}")
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


# ---------------------------------------------------------------- what each page shares

@dataclass(frozen=True)
class Param:
    name: str  # in the URL
    key: str  # in session state; "{task}" and the like come from the page's context
    codec: Codec
    when: Callable[[Context], bool] = lambda ctx: True  # written only where it matters
    clears: str = ""  # a session key dropped when the URL changes this value (results of another input)


@dataclass(frozen=True)
class PageSpec:
    params: tuple[Param, ...] = ()
    context: Callable[[State], dict[str, Any]] = lambda state: {}


def _ids_for_task(ctx: Context) -> list[str]:
    from components.catalog import default_catalog

    return [e.id for e in default_catalog() if ctx.get("task") in e.tasks]


def _catalog_ids(ctx: Context) -> list[str]:
    from components.catalog import default_catalog

    return [e.id for e in default_catalog()]


def _runtimes(ctx: Context) -> tuple[str, ...]:
    from components.runners.runtimes import runtime_names

    return runtime_names()


def _perturbations(ctx: Context) -> tuple[str, ...]:
    from components.stress import perturbations_for
    from components.tasks import get_task

    return perturbations_for(get_task(ctx["task"]).input_kind)


def _comparable(ctx: Context) -> list[str]:
    from components.tasks import TASKS

    return [name for name, spec in TASKS.items() if spec.comparable]


def _explain_methods(ctx: Context) -> list[str]:
    from components.ui.explain_view import IMAGE_METHODS

    return list(IMAGE_METHODS)


def _tokenizers(ctx: Context) -> list[str]:
    from components.backends.tokenization import TOKENIZERS

    return list(TOKENIZERS)


def _catalog_field(field: str) -> Callable[[Context], list[str]]:
    def values(ctx: Context) -> list[str]:
        from components.availability import STATUS_ORDER
        from components.catalog import MODALITIES, default_catalog

        fixed = {"modality": MODALITIES, "status": STATUS_ORDER}
        if field in fixed:
            return list(fixed[field])
        if field == "tasks":
            return sorted({t for e in default_catalog() for t in e.tasks})
        return sorted({getattr(e, field) for e in default_catalog()})
    return values


def _stress(when: Callable[[Context], bool]) -> tuple[Param, ...]:
    """The stress test's perturbation and strength, per task (any playground that shows the section)."""
    return (Param("stress", "keep_stress_kind_{task}", Choice(_perturbations), when),
            Param("strength", "keep_stress_strength_{task}", Number(0.0, 1.0), when))


VISION_TASKS = {"image-classification": "Image classification (ImageNet-1k)", "ocr": "Read text (OCR)"}
TEXT_TOOLS = {"similarity": "Similarity & search", "zero-shot": "Zero-shot labels", "language": "Language",
              "sentiment": "Sentiment", "tokenizer": "Tokenizer view", "attention": "Attention"}
TEXT_TASKS = {"similarity": "sentence-similarity", "zero-shot": "zero-shot-classification",
              "language": "language-identification", "sentiment": "sentiment-analysis"}
MM_TOOLS = {"zero-shot": "Zero-shot labels", "caption": "Caption", "ocr-chain": "Image → OCR → text models"}
MM_MODELS = {"zero-shot": ("keep_mm_models", "zero-shot-image-classification"),
             "caption": ("keep_mm_caption_models", "image-captioning")}
ADAPT_TASKS = {"images": "image-classification", "text": "text-classification", "audio": "audio-classification"}
SETS = {"bundled": "Bundled", "upload": "Upload my own"}
COMPARE_SETS = {**SETS, "server": "A file or folder on this server"}


def _key_of(options: Mapping[str, Any], value: Any, default: str) -> str:
    return next((name for name, v in options.items() if v == value), default)


def _vision_context(state: State) -> dict[str, Any]:
    return {"task": _key_of(VISION_TASKS, state.get("keep_vision_task"), "image-classification")}


def _text_context(state: State) -> dict[str, Any]:
    tool = _key_of(TEXT_TOOLS, state.get("keep_text_tool"), "similarity")
    return {"tool": tool, "task": TEXT_TASKS.get(tool)}


def _mm_context(state: State) -> dict[str, Any]:
    tool = _key_of(MM_TOOLS, state.get("keep_mm_tool"), "zero-shot")
    models_key, task = MM_MODELS.get(tool, (None, None))
    return {"tool": tool, "models_key": models_key, "task": task}


def _is(name: str, *values: Any) -> Callable[[Context], bool]:
    return lambda ctx: ctx.get(name) in values


CLASSIFYING = _is("task", "image-classification")
PAGES: dict[str, PageSpec] = {
    "home": PageSpec(),
    "lessons": PageSpec(),
    "vision": PageSpec((
        Param("task", "keep_vision_task", Choice(VISION_TASKS)),
        Param("sample", "vision_input", Sample("images", ("*.jpg", "*.png"), "image"), clears="vision_input_results"),
        Param("models", "keep_vision_models_{task}", Many(_ids_for_task)),
        Param("runtime", "keep_vision_runtime", Choice(_runtimes), CLASSIFYING),
        Param("target", "keep_explain_target", Text(80), CLASSIFYING),
        Param("method", "keep_explain_method", Choice(_explain_methods), CLASSIFYING),
        *_stress(CLASSIFYING),
    ), _vision_context),
    "text": PageSpec((
        Param("tool", "keep_text_tool", Choice(TEXT_TOOLS)),
        Param("sample", "keep_text_input", TextSample()),
        Param("text", "keep_text_input", TypedText()),
        Param("query", "keep_text_query", Text(), _is("tool", "similarity")),
        Param("labels", "keep_text_labels", Text(500), _is("tool", "zero-shot")),
        Param("tokenizer", "keep_text_tokenizer", Choice(_tokenizers), _is("tool", "tokenizer")),
        Param("models", "keep_text_models_{task}", Many(_ids_for_task)),
        Param("runtime", "keep_text_runtime_{task}", Choice(_runtimes), _is("tool", "similarity", "zero-shot")),
        Param("model", "keep_attention_model", Choice(_catalog_ids), _is("tool", "attention")),
        Param("line", "keep_attention_line", Number(0, 999, integer=True), _is("tool", "attention")),
        *_stress(lambda ctx: True),
    ), _text_context),
    "speech": PageSpec((
        Param("sample", "speech_input", Sample("speech", ("*.wav",), "clip"), clears="speech_input_results"),
        Param("models", "keep_speech_models", Many(lambda ctx: _ids_for_task({"task": "speech-recognition"}))),
        *_stress(lambda ctx: True),
    ), lambda state: {"task": "speech-recognition"}),
    "multimodal": PageSpec((
        Param("tool", "keep_mm_tool", Choice(MM_TOOLS)),
        Param("sample", "multimodal_input", Sample("images", ("*.jpg", "*.png"), "image"),
              clears="multimodal_input_results"),
        Param("labels", "keep_mm_labels", Text(500), _is("tool", "zero-shot")),
        Param("models", "{models_key}", Many(_ids_for_task)),
    ), _mm_context),
    "compare": PageSpec((
        Param("task", "keep_cmp_task", Choice(_comparable)),
        Param("models", "keep_cmp_models_{task}", Many(_ids_for_task)),
        Param("runtimes", "keep_cmp_runtimes", Many(_runtimes)),
        Param("set", "keep_cmp_source", Choice(COMPARE_SETS)),
        Param("path", "keep_cmp_path", Text(500), _is("set", "server")),
        Param("runs", "keep_cmp_runs", Number(3, 100, integer=True)),
        Param("warmup", "keep_cmp_warmup", Number(0, 10, integer=True)),
    ), lambda state: {"task": state.get("keep_cmp_task", "image-classification"),
                      "set": _key_of(COMPARE_SETS, state.get("keep_cmp_source"), "bundled")}),
    "adapt": PageSpec((
        Param("data", "keep_adapt_task", Choice(ADAPT_TASKS)),
        Param("set", "keep_adapt_source", Choice(SETS)),
        Param("backbones", "keep_adapt_backbones_{task}", Many(_catalog_ids)),
        Param("head", "keep_adapt_head", Choice({"logistic": "logistic", "finetune": "finetune"})),
        Param("baseline", "keep_adapt_baseline", Flag()),
    ), lambda state: {"task": state.get("keep_adapt_task", "image-classification")}),
    "catalog": PageSpec((
        Param("q", "keep_cat_query", Text()),
        Param("modality", "keep_cat_modality", Many(_catalog_field("modality"))),
        Param("status", "keep_cat_status", Many(_catalog_field("status"))),
        Param("task", "keep_cat_task", Many(_catalog_field("tasks"))),
        Param("family", "keep_cat_family", Many(_catalog_field("family"))),
        Param("size", "keep_cat_size", Choice(lambda ctx: ["any", "< 10M", "< 100M", "< 1B", "< 10B"])),
        Param("model", "keep_cat_card", Choice(_catalog_ids)),
    )),
}
# On every page: presenter view and the lesson in progress (their modules own what they mean).
GLOBAL = (Param("present", "keep_presenter", Flag(), lambda ctx: bool(ctx.get("present"))),
          Param("lesson", "lesson_id", Text(60)),
          Param("step", "lesson_step", Number(1, 99, integer=True)))
RESERVED = {"embed", "embed_options"}  # Streamlit's own query parameters


def page_name(url_path: str) -> str:
    """The PAGES name of a navigation page (its url_path; the default page's is empty)."""
    return url_path or "home"


def param_names(page: str) -> set[str]:
    return {p.name for p in PAGES[page].params}


# ---------------------------------------------------------------- URL -> state

def _key(param: Param, ctx: Context) -> str | None:
    """The session key of ``param`` here; None where the context leaves it open (no task on this tool)."""
    fields = [name for _, name, _, _ in Formatter().parse(param.key) if name]
    if any(ctx.get(name) is None for name in fields):
        return None
    return param.key.format(**ctx)


def decode(page: str, params: Mapping[str, str], state: State) -> tuple[dict[str, Any], list[str]]:
    """({session key: value}, [one note per value that cannot be used]) for a page's query params."""
    spec = PAGES[page]
    values: dict[str, Any] = {}
    notes = [f"The link's setting '{name}' means nothing on this page: ignored."
             for name in params if name not in param_names(page) | {p.name for p in GLOBAL} | RESERVED]
    plain = [p for p in (*GLOBAL, *spec.params) if "{" not in p.key]
    templated = [p for p in spec.params if "{" in p.key]
    ctx: dict[str, Any] = {}
    for group in (plain, templated):
        for param in group:
            if param.name not in params:
                continue
            key = _key(param, ctx)
            if key is None:
                continue
            try:
                values[key] = param.codec.decode(params[param.name], ctx)
            except ValueError as exc:
                notes.append(f"The link's {param.name} was not used: {exc}.")
        ctx = spec.context({**state, **values})
    return values, notes


def problems(page: str, params: Mapping[str, str]) -> list[str]:
    """Why a page name or its params would not open cleanly (lesson files are checked with this)."""
    if page not in PAGES:
        return [f"unknown page '{page}' (pages: {', '.join(PAGES)})"]
    unknown = [f"unknown setting '{name}' for page {page} (settings: {', '.join(sorted(param_names(page)))})"
               for name in params if name not in param_names(page)]
    return unknown + decode(page, {k: v for k, v in params.items() if k in param_names(page)}, {})[1]


def restore(page: str) -> None:
    """Seed session state from the URL, unless the URL is the one this session wrote last."""
    url = st.query_params.to_dict()
    if st.session_state.get(WRITTEN) == (page, url) or page not in PAGES:
        return
    values, notes = decode(page, url, st.session_state)
    for key, value in values.items():
        if st.session_state.get(key) != value:
            st.session_state[key] = value
            clears = next((p.clears for p in PAGES[page].params if p.key == key and p.clears), "")
            if clears:
                st.session_state.pop(clears, None)
    st.session_state[NOTES] = (page, notes)


def show_notes(page: str) -> None:
    """The notes about the link this page was opened with, until the page is left."""
    stored = st.session_state.get(NOTES)
    if stored and stored[0] == page:
        for note in stored[1]:
            st.warning(note, icon=":material/link_off:")


# ---------------------------------------------------------------- state -> URL

def current(page: str, state: State) -> tuple[dict[str, str], list[str]]:
    """(the query params that reproduce this page's state, [what stays behind and why])."""
    spec = PAGES.get(page, PageSpec())
    ctx = {**spec.context(state), "present": state.get("keep_presenter")}
    params: dict[str, str] = {}
    behind: list[str] = []
    for param in (*spec.params, *GLOBAL):
        key = _key(param, ctx)
        if key is None or key not in state or not param.when(ctx):
            continue
        text = param.codec.encode(state[key], ctx)
        if text is not None:
            params.setdefault(param.name, text)
        elif note := param.codec.stays_behind(state[key]):
            behind.append(note)
    return params, behind


def link(page: str, params: Mapping[str, str]) -> str:
    """The full link to this view (the server's address from the browser, then the query)."""
    base = st.context.url or f"/{'' if page == 'home' else page}"
    return base + ("?" + urlencode(params, safe=",", quote_via=quote) if params else "")


def publish(page: str) -> None:
    """Write the page's state to the URL and show the link to copy (in the sidebar)."""
    params, behind = current(page, st.session_state)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    st.session_state[WRITTEN] = (page, params)
    with st.sidebar.container(key="share_link"):
        st.markdown("**:material/link: Copy link** — opens this view, settings and sample included")
        st.code(link(page, params), language=None, wrap_lines=True)
        for note in behind:
            st.caption(f":material/info: {note}")
