"""Shareable state: each page's settings live in the URL (``st.query_params``) and come back from it.

``PAGES`` says, per page, what travels: each ``Setting`` (``settings.py``: query name, session-state key, the
widget's label, codec from ``share_codecs``), declared once and drawn by its page with ``Setting.draw``. app.py
calls ``restore`` before a page draws its widgets, and ``publish`` after it ran:

* ``restore`` seeds session state from the URL when a page is entered (a pasted link), on the browser's
  Back / Forward, or when told to (``follow_next_url``: a lesson step); a value it cannot use, or a model that
  cannot run here, is a one-line note (the link's own text in it shown literally: ``share_codecs.quoted``).
  Otherwise, on the page it last wrote, the URL is only an echo of this session's own state, and a browser
  under load may send an older copy of it with a click: never applied (it undid the click before it).
* ``publish`` writes the current values back to the URL and shows the link with a copy button.

A key may name another setting's value, as ``keep_vision_models_{task}``: the page's ``context`` fills it.
Uploads never travel (only a bundled sample's name does); the link says so.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from string import Formatter
from typing import Any
from urllib.parse import quote, urlencode

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.core import (
    IMAGE_CLASSIFICATION,
    SPEECH_RECOGNITION,
    TASKS,
    limits,
    playground_tasks,
    tasks_with,
)
from components.ui.shell.settings import Setting
from components.ui.shell.share_codecs import (
    AboveRange,
    Choice,
    Context,
    Flag,
    Many,
    Number,
    PartlyUsed,
    Sample,
    Text,
    TextSample,
    TypedText,
    quoted,
)

State = Mapping[str, Any]
WRITTEN = "share_written"  # (page, the query params this session last wrote)
NOTES = "share_notes"  # (page, notes about the link this page was opened with)


# ---------------------------------------------------------------- what each page shares

@dataclass(frozen=True)
class PageSpec:
    params: tuple[Setting, ...] = ()
    context: Callable[[State], dict[str, Any]] = lambda state: {}


def _ids_for_task(ctx: Context) -> list[str]:
    from components.core import default_catalog

    return [e.id for e in default_catalog() if ctx.get("task") in e.tasks]


def _cannot_run(weights: str = "real") -> Callable[[Context], dict[str, str]]:
    """{model id: why it cannot run ``ctx["task"]`` here}: what the page's model picker leaves out."""
    def reasons(ctx: Context) -> dict[str, str]:
        from components.ui.widgets.picker import runnable_models

        return {entry.id: f"{entry.name} cannot run here: {reason.rstrip('.')}"
                for entry, reason in runnable_models(ctx["task"], weights)[1]}
    return reasons


def _not_backbones(ctx: Context) -> dict[str, str]:
    """{model id: why Adapt cannot use it as a backbone for ``ctx["task"]`` here}: what its picker leaves out."""
    from components.adapt import adapt_backbones
    from components.core import default_catalog
    from components.models import compute_availability
    from components.ui.shell.server_files import models_dir

    folder = models_dir()
    offered = {entry.id for entry in adapt_backbones(ctx["task"], folder)}
    reasons = {}
    for entry in default_catalog():
        if entry.id not in offered:
            availability = compute_availability(entry, folder)
            why = (availability.reason.rstrip(".") if not availability.runnable
                   else f"it gives no {ctx['task']} features")
            reasons[entry.id] = f"{entry.name} cannot be a backbone here: {why}"
    return reasons


def _no_attention_view(ctx: Context) -> dict[str, str]:
    """{model id: why the attention view cannot load it here}: the text models the view leaves out."""
    from components.core import default_catalog
    from components.explain import TASKS
    from components.ui.widgets.picker import runnable_models

    ready: set[str] = set()
    reasons = {entry.id: f"{entry.name} reads no text" for entry in default_catalog()}
    for task in TASKS:
        runnable, blocked = runnable_models(task)
        ready |= {entry.id for entry in runnable}
        reasons.update({entry.id: f"{entry.name} cannot run here: {why.rstrip('.')}" for entry, why in blocked})
    return {model: why for model, why in reasons.items() if model not in ready}


def _not_estimated(ctx: Context) -> dict[str, str]:
    """{model id: why Compare's estimates leave it out here}: the task's models that are not estimate-only here
    (they run, or have no public configuration to build)."""
    from components.core import default_catalog
    from components.models import ESTIMATE_ONLY, compute_availability, runner_tasks
    from components.ui.shell.server_files import models_dir

    folder, task = models_dir(), ctx.get("task")
    reasons = {}
    for entry in default_catalog():
        availability = compute_availability(entry, folder) if task in entry.tasks else None
        if availability is not None and availability.status != ESTIMATE_ONLY:
            runs = task in runner_tasks(entry, "auto", folder)  # a Compare row (random weights at least)
            why = "it runs here (pick it among the models)" if runs else availability.reason.rstrip(".")
            reasons[entry.id] = f"{entry.name} has no estimate here: {why}"
    return reasons


def _catalog_ids(ctx: Context) -> list[str]:
    from components.core import default_catalog

    return [e.id for e in default_catalog()]


def _runtimes(ctx: Context) -> tuple[str, ...]:
    from components.models import runtime_names

    return runtime_names()


def _perturbations(ctx: Context) -> tuple[str, ...]:
    from components.core import get_task
    from components.explain import perturbations_for

    return perturbations_for(get_task(ctx["task"]).input_kind)


def _comparable(ctx: Context) -> list[str]:
    from components.core import TASKS

    return [name for name, spec in TASKS.items() if spec.comparable]


AUTOMATIC = "automatic"  # the explain method per model: Grad-CAM (on eager where the runtime has no gradients)
IMAGE_METHODS = {AUTOMATIC: "Automatic", "gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++",
                 "scorecam": "Score-CAM (slow)", "occlusion": "Occlusion"}


def _explain_methods(ctx: Context) -> list[str]:
    return list(IMAGE_METHODS)


def _tokenizers(ctx: Context) -> list[str]:
    from components.models import TOKENIZERS

    return list(TOKENIZERS)


def _catalog_field(field: str) -> Callable[[Context], list[str]]:
    def values(ctx: Context) -> list[str]:
        from components.core import MODALITIES, default_catalog
        from components.models import STATUS_ORDER

        fixed = {"modality": MODALITIES, "status": STATUS_ORDER}
        if field in fixed:
            return list(fixed[field])
        if field == "tasks":
            return sorted({t for e in default_catalog() for t in e.tasks})
        return sorted({getattr(e, field) for e in default_catalog()})
    return values


# the stress test's perturbation and strength, per task (any playground that shows the section)
STRESS_KIND = Setting("stress", "keep_stress_kind_{task}", "Perturbation", Choice(_perturbations))
STRESS_STRENGTH = Setting("strength", "keep_stress_strength_{task}", "Strength", Number(0.0, 1.0))


def _stress(when: Callable[[Context], bool]) -> tuple[Setting, ...]:
    """The stress settings, written where ``when`` says the page shows the section."""
    return replace(STRESS_KIND, when=when), replace(STRESS_STRENGTH, when=when)


VISION_TASKS = {task: TASKS[task].playground.label for task in playground_tasks("vision").values()}
TEXT_TOOLS = {"similarity": "Similarity & search", "zero-shot": "Zero-shot labels", "language": "Language",
              "sentiment": "Sentiment", "tokenizer": "Tokenizer view", "attention": "Attention"}
TEXT_TASKS = playground_tasks("text")
MM_TOOLS = {"zero-shot": "Zero-shot labels", "caption": "Caption", "ocr-chain": "Image → OCR → text models"}
MM_MODELS = {tool: (key, playground_tasks("multimodal")[tool])
             for tool, key in {"zero-shot": "keep_mm_models", "caption": "keep_mm_caption_models"}.items()}
ADAPT_TASKS = {TASKS[task].adapt.link: task for task in tasks_with("adapt")}
SETS = {"bundled": "Bundled", "upload": "Upload my own"}
COMPARE_SETS = {**SETS, "server": "A file or folder on this server"}


def _key_of(options: Mapping[str, Any], value: Any, default: str) -> str:
    return next((name for name, v in options.items() if v == value), default)


def _vision_context(state: State) -> dict[str, Any]:
    return {"task": _key_of(VISION_TASKS, state.get("keep_vision_task"), IMAGE_CLASSIFICATION)}


def _text_context(state: State) -> dict[str, Any]:
    tool = _key_of(TEXT_TOOLS, state.get("keep_text_tool"), "similarity")
    return {"tool": tool, "task": TEXT_TASKS.get(tool)}


def _mm_context(state: State) -> dict[str, Any]:
    tool = _key_of(MM_TOOLS, state.get("keep_mm_tool"), "zero-shot")
    models_key, task = MM_MODELS.get(tool, (None, None))
    return {"tool": tool, "models_key": models_key, "task": task}


def _is(name: str, *values: Any) -> Callable[[Context], bool]:
    return lambda ctx: ctx.get(name) in values


CLASSIFYING = _is("task", IMAGE_CLASSIFICATION)
PAGES: dict[str, PageSpec] = {
    "home": PageSpec(),
    "lessons": PageSpec(),
    "vision": PageSpec((
        Setting("task", "keep_vision_task", "Task", Choice(VISION_TASKS)),
        Setting("sample", "vision_input", "", Sample("images", ("*.jpg", "*.png"), "image"),
                clears="vision_input_results"),
        Setting("models", "keep_vision_models_{task}", "", Many(_ids_for_task), cannot_run=_cannot_run()),
        Setting("runtime", "keep_vision_runtime", "", Choice(_runtimes), CLASSIFYING),
        Setting("target", "keep_explain_target", "Class to explain (name or index; empty: each model's top class)",
                Text(80), CLASSIFYING),
        Setting("method", "keep_explain_method", "Method", Choice(_explain_methods), CLASSIFYING),
        *_stress(CLASSIFYING),
    ), _vision_context),
    "text": PageSpec((
        Setting("tool", "keep_text_tool", "Tool", Choice(TEXT_TOOLS)),
        Setting("sample", "keep_text_input", "", TextSample()),
        Setting("text", "keep_text_input", "", TypedText()),
        Setting("query", "keep_text_query", "Search query (optional): rank your lines by meaning", Text(),
                _is("tool", "similarity")),
        Setting("labels", "keep_text_labels", "Labels, comma-separated", Text(500), _is("tool", "zero-shot")),
        Setting("tokenizer", "keep_text_tokenizer", "Tokenizer", Choice(_tokenizers), _is("tool", "tokenizer")),
        Setting("models", "keep_text_models_{task}", "", Many(_ids_for_task), cannot_run=_cannot_run()),
        Setting("runtime", "keep_text_runtime_{task}", "", Choice(_runtimes), _is("tool", "similarity", "zero-shot")),
        Setting("model", "keep_attention_model", "Model", Choice(_catalog_ids), _is("tool", "attention"),
                cannot_run=_no_attention_view,
                help="Transformer encoders show their attention; other engines say why they cannot."),
        Setting("line", "keep_attention_line", "Line", Number(0, 999, integer=True), _is("tool", "attention")),
        *_stress(lambda ctx: True),
    ), _text_context),
    "speech": PageSpec((
        Setting("sample", "speech_input", "", Sample("speech", ("*.wav",), "clip"), clears="speech_input_results"),
        Setting("models", "keep_speech_models", "", Many(lambda ctx: _ids_for_task({"task": SPEECH_RECOGNITION})),
                cannot_run=_cannot_run()),
        *_stress(lambda ctx: True),
    ), lambda state: {"task": SPEECH_RECOGNITION}),
    "multimodal": PageSpec((
        Setting("tool", "keep_mm_tool", "Tool", Choice(MM_TOOLS)),
        Setting("sample", "multimodal_input", "", Sample("images", ("*.jpg", "*.png"), "image"),
                clears="multimodal_input_results"),
        Setting("labels", "keep_mm_labels", "Labels, comma-separated", Text(500), _is("tool", "zero-shot")),
        Setting("models", "{models_key}", "", Many(_ids_for_task), cannot_run=_cannot_run()),
    ), _mm_context),
    "compare": PageSpec((
        Setting("task", "keep_cmp_task", "Task", Choice(_comparable)),
        Setting("models", "keep_cmp_models_{task}", "Models", Many(_ids_for_task), cannot_run=_cannot_run("auto"),
                help="(random weights) = no weights here: the architecture is built with random weights to measure "
                     "its cost (latency, memory, params, FLOPs); accuracy is n/a."),
        Setting("runtimes", "keep_cmp_runtimes", "Runtimes", Many(_runtimes),
                help="Each (model, runtime) is a row. ONNX Runtime rows export the model once (cached on disk) and "
                     "report their speed-up over eager and their agreement with eager on the same samples; int8 is "
                     "static (calibrated on the bundled photos) for image models and dynamic for text encoders."),
        Setting("estimates", "keep_cmp_estimates_{task}", "Estimates for models that cannot run here",
                Many(_ids_for_task), cannot_run=_not_estimated,
                help="Built on PyTorch's meta device from the public configuration (exact parameters, memory per "
                     "dtype) with a roofline latency from this machine's measured bandwidth and FLOP/s: estimates, "
                     "drawn with open markers on the latency and memory charts, never on the accuracy axis nor in "
                     "the results table."),
        Setting("set", "keep_cmp_source", "Evaluation set", Choice(COMPARE_SETS)),
        Setting("path", "keep_cmp_path", "Path on this server", Text(500), _is("set", "server")),
        Setting("runs", "keep_cmp_runs", "Timed runs per model", Number(3, 100, integer=True)),
        Setting("warmup", "keep_cmp_warmup", "Warm-up runs", Number(0, 10, integer=True)),
    ), lambda state: {"task": state.get("keep_cmp_task", IMAGE_CLASSIFICATION),
                      "set": _key_of(COMPARE_SETS, state.get("keep_cmp_source"), "bundled")}),
    "adapt": PageSpec((
        Setting("data", "keep_adapt_task", "Data", Choice(ADAPT_TASKS)),
        Setting("set", "keep_adapt_source", "Labelled set", Choice(SETS)),
        Setting("backbones", "keep_adapt_backbones_{task}", "Backbones (pre-trained, frozen)", Many(_catalog_ids),
                cannot_run=_not_backbones),
        Setting("head", "keep_adapt_head", "Head", Choice({"logistic": "logistic", "finetune": "finetune"}),
                help="Both train on the frozen backbone's cached features. Fine-tune trains a small torch head for a "
                     "few epochs with early stopping on a validation split."),
        Setting("baseline", "keep_adapt_baseline", "Baseline rows: random weights", Flag()),
    ), lambda state: {"task": state.get("keep_adapt_task", IMAGE_CLASSIFICATION)}),
    "catalog": PageSpec((
        Setting("q", "keep_cat_query", "Search", Text()),
        Setting("modality", "keep_cat_modality", "Modality", Many(_catalog_field("modality"))),
        Setting("status", "keep_cat_status", "Availability", Many(_catalog_field("status"))),
        Setting("task", "keep_cat_task", "Task", Many(_catalog_field("tasks"))),
        Setting("family", "keep_cat_family", "Family", Many(_catalog_field("family"))),
        Setting("size", "keep_cat_size", "Size (parameters)",
                Choice({size: size for size in ("any", "< 10M", "< 100M", "< 1B", "< 10B")})),
        Setting("model", "keep_cat_card", "Open a model card", Choice(_catalog_ids)),
    )),
}
# On every page: presenter view and the lesson in progress (their modules own what they mean).
PRESENT = Setting("present", "keep_presenter", "Presenter view", Flag(), lambda ctx: bool(ctx.get("present")),
                  help="For a projector: hides the sidebar and the tuning settings, enlarges the results, keeps a "
                       "lesson's Back / Next at hand.")
GLOBAL = (PRESENT,
          Setting("lesson", "lesson_id", "", Text(60)),
          Setting("step", "lesson_step", "", Number(1, 99, integer=True)))
RESERVED = {"embed", "embed_options"}  # Streamlit's own query parameters
# a link asking for more than a visitor may run is cut to the cap, with a note (components/core/limits.py)
CAPS = {"models": limits.MAX_MODELS, "backbones": limits.MAX_MODELS, "runtimes": limits.MAX_RUNTIMES,
        "runs": limits.MAX_TIMED_RUNS}


def page_name(url_path: str) -> str:
    """The PAGES name of a navigation page (its url_path; the default page's is empty)."""
    return url_path or "home"


def param_names(page: str) -> set[str]:
    return {p.name for p in PAGES[page].params}


def setting(page: str, name: str) -> Setting:
    """The setting ``name`` of ``page`` (or of every page: ``GLOBAL``), as declared once in ``PAGES``."""
    return next(p for p in (*PAGES[page].params, *GLOBAL) if p.name == name)


# ---------------------------------------------------------------- URL -> state

def _key(param: Setting, ctx: Context) -> str | None:
    """The session key of ``param`` here; None where the context leaves it open (no task on this tool)."""
    fields = [name for _, name, _, _ in Formatter().parse(param.key) if name]
    if any(ctx.get(name) is None for name in fields):
        return None
    return param.key.format(**ctx)


def decode(page: str, params: Mapping[str, str], state: State) -> tuple[dict[str, Any], list[str]]:
    """({session key: value}, [one note per value that cannot be used]) for a page's query params."""
    spec = PAGES[page]
    values: dict[str, Any] = {}
    notes = [f"The link's setting {quoted(name)} means nothing on this page: ignored."
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
            except PartlyUsed as exc:
                values[key] = exc.value
                notes.append(f"The link's {param.name} setting was used without {exc}.")
            except ValueError as exc:
                if isinstance(exc, AboveRange) and param.name in CAPS:
                    values[key] = exc.number  # :func:`clamp` cuts it to the cap, with its note
                else:
                    notes.append(f"The link's {param.name} setting was not used: {exc}.")
        ctx = spec.context({**state, **values})
    return values, notes


def problems(page: str, params: Mapping[str, str]) -> list[str]:
    """Why a page name or its params would not open cleanly (lesson files are checked with this)."""
    if page not in PAGES:
        return [f"unknown page '{page}' (pages: {', '.join(PAGES)})"]
    unknown = [f"unknown setting '{name}' for page {page} (settings: {', '.join(sorted(param_names(page)))})"
               for name in params if name not in param_names(page)]
    values, notes = decode(page, {k: v for k, v in params.items() if k in param_names(page)}, {})
    return unknown + notes + clamp(page, values, {})  # a value over its cap is cut when the page opens: say so


def cannot_run(page: str, values: Mapping[str, Any], state: State) -> list[str]:
    """One note per model a link names (``values``: decoded) that cannot run here: its page leaves it out."""
    spec = PAGES[page]
    ctx = spec.context({**state, **values})
    notes = []
    for param in spec.params:
        key = _key(param, ctx)
        if param.cannot_run is None or key not in values:
            continue
        reasons, chosen = param.cannot_run(ctx), values[key]
        notes += [f"The link's {param.name}: {reasons[model]}."
                  for model in (chosen if isinstance(chosen, (list, tuple)) else [chosen]) if model in reasons]
    return notes


def clamp(page: str, values: dict[str, Any], state: State) -> list[str]:
    """Cut the link's decoded ``values`` (in place) to the caps in CAPS, and a number to its widget's maximum
    where the cap is higher; one note per value cut."""
    spec = PAGES[page]
    ctx = spec.context({**state, **values})
    notes = []
    for param in spec.params:
        limit, key = CAPS.get(param.name), _key(param, ctx)
        if limit is None or key not in values:
            continue
        value, cap = values[key], limit.value()
        many = isinstance(value, (list, tuple))
        asked = len(value) if many else value
        top = getattr(param.codec, "high", None)  # a number's widget goes no higher, whatever the cap
        if top is not None and top < min(asked, cap):
            values[key] = top
            notes.append(f"The link's {param.name} setting asks for {asked:g} {limit.what}: this page offers at most "
                         f"{top:g}, so {top:g} is used.")
        elif asked > cap:
            values[key] = value[:cap] if many else cap
            kept = (f"the first {cap} are used" if cap > 1 else "only the first is used") if many else f"{cap} is used"
            notes.append(f"The link's {param.name} setting asks for {asked} {limit.what}: this server allows {cap} "
                         f"({limit.env} raises it), so {kept}.")
    return notes


def follow_next_url() -> None:
    """Apply the URL of the next page run even on the page this session last wrote (a lesson's next step)."""
    st.session_state.pop(WRITTEN, None)


def restore(page: str) -> None:
    """Seed session state from the URL when ``page`` is entered, on Back / Forward, or after ``follow_next_url``."""
    url = st.query_params.to_dict()
    written = st.session_state.get(WRITTEN)
    run = get_script_run_ctx()
    history = run is not None and run.is_history_navigation
    if page not in PAGES or (written is not None and written[0] == page and not history):
        return
    st.session_state[WRITTEN] = (page, url)  # applied: a click that cuts this pass short must not apply it again
    values, notes = decode(page, url, st.session_state)
    notes += cannot_run(page, values, st.session_state) + clamp(page, values, st.session_state)
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
