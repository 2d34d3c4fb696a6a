"""Attention view (Text page): where each token of a sentence looks, per layer and head, for transformer text
models; engines without attention say why in one line."""
from __future__ import annotations

import logging
import math
from typing import Any

import streamlit as st

from components.core import CatalogEntry, InputError
from components.explain import (
    TASKS,
    AttentionMaps,
    NoAttention,
    attention_heatmap,
    attention_maps,
    check_model,
    head_entropy,
    head_entropy_grid,
)
from components.models import CannotRun, create_runner, get_runtime
from components.ui.shell.server_files import models_dir
from components.ui.shell.share import setting
from components.ui.widgets.chart import NO_MODE_BAR, show_chart
from components.ui.widgets.format import format_latency_ms
from components.ui.widgets.picker import pick_runtime, runnable_models

log = logging.getLogger(__name__)

STATE = "attention_result"  # session key: ((model id, runtime, text), AttentionMaps | (level, message))
VIEWS = ("One head", "All heads")


def attention_section(lines: list[str]) -> None:
    """Model, runtime and line pickers, the Show button, then one head's map or every head's entropy."""
    candidates = _candidates()
    if not candidates:
        st.info("No text model can run here, so there is no attention to show.", icon=":material/info:")
        return
    model = setting("text", "model")
    st.session_state.setdefault(model.key, "all_minilm_l6_v2")
    if st.session_state[model.key] not in candidates:
        st.session_state[model.key] = next(iter(candidates))
    model_id = model.draw(st.selectbox, list(candidates), format_func=lambda i: candidates[i][0].name)
    runtime = pick_runtime("keep_attention_runtime")
    if not lines:
        st.info("Type or paste a sentence above to see where its tokens look.", icon=":material/info:")
        return
    text = _pick_line(lines)
    entry, task = candidates[model_id]
    request = (model_id, runtime, text)
    if st.button("Show attention", icon=":material/visibility:", type="primary", key="attention_run"):
        with st.spinner(f"Reading {entry.name}'s attention…"):
            st.session_state[STATE] = (request, _compute(entry, task, runtime, text))
    stored = st.session_state.get(STATE)
    if stored is None or stored[0] != request:
        st.caption("Press Show attention for this model and line.")
        return
    found = stored[1]
    if isinstance(found, tuple):
        level, message = found
        (st.info if level == "info" else st.error)(message)
        return
    _show(entry, found)


def _candidates() -> dict[str, tuple[CatalogEntry, str]]:
    """Runnable text models, each with the first of ``TASKS`` it runs."""
    found: dict[str, tuple[CatalogEntry, str]] = {}
    for task in TASKS:
        for entry in runnable_models(task)[0]:
            found.setdefault(entry.id, (entry, task))
    return found


def _pick_line(lines: list[str]) -> str:
    if len(lines) == 1:
        return lines[0]
    line = setting("text", "line")
    if st.session_state.get(line.key, 0) >= len(lines):
        st.session_state[line.key] = 0
    index = line.draw(st.selectbox, range(len(lines)), format_func=lambda i: f"{i + 1}: {lines[i][:80]}")
    return lines[index]


def _compute(entry: CatalogEntry, task: str, runtime: str, text: str) -> AttentionMaps | tuple[str, str]:
    """The maps, or (level, one-line message): "info" where the model has no attention, else "error"."""
    try:
        check_model(entry, task, get_runtime(runtime))  # before loading: an export is not worth a "no"
        runner = create_runner(entry, task, "real", runtime=runtime, extra_dir=models_dir())
        return attention_maps(runner, text)
    except NoAttention as exc:
        return "info", str(exc)
    except (CannotRun, InputError) as exc:
        return "error", str(exc)
    except Exception as exc:  # noqa: BLE001 - a failure is a message; the page keeps working
        log.exception("attention of %s failed", entry.id)
        return "error", f"{entry.name} could not show its attention: {type(exc).__name__}: {exc}"


def _choice(key: str, options: range) -> Any:
    """``key``, its kept value first put back inside ``options`` (another model may have fewer layers or heads)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    return key


def _show(entry: CatalogEntry, maps: AttentionMaps) -> None:
    st.caption(f"{entry.name}: {maps.layers} layers × {maps.heads} heads over {len(maps.tokens)} tokens · "
               f"{format_latency_ms(maps.elapsed_ms)}" + (" · the text was cut to its first tokens" if maps.truncated
                                                          else ""))
    st.session_state.setdefault("keep_attention_view", VIEWS[0])
    view = st.segmented_control("View", VIEWS, key="keep_attention_view") or VIEWS[0]
    left, right = st.columns(2)
    layer = left.selectbox("Layer", range(1, maps.layers + 1), key=_choice("keep_attention_layer",
                                                                        range(1, maps.layers + 1)))
    head = right.selectbox("Head", range(0, maps.heads + 1),
                           key=_choice("keep_attention_head", range(0, maps.heads + 1)),
                           format_func=lambda h: "mean of all heads" if h == 0 else f"head {h}")
    if view == VIEWS[1]:
        entropy = head_entropy(maps.weights)
        show_chart(head_entropy_grid(entropy, len(maps.tokens)), config=NO_MODE_BAR)
        st.caption("Each head's attention entropy in bits, averaged over the tokens: low = a focused head (on the "
                   "next or previous token, on [SEP]); high = a head spread over the whole sentence (at most "
                   f"log2 {len(maps.tokens)} = {math.log2(len(maps.tokens)):.1f}"
                   " bits). Pick a layer and head, then One head, to see its map.")
        return
    layer_maps = maps.weights[layer - 1]
    matrix = layer_maps.mean(0) if head == 0 else layer_maps[head - 1]
    title = f"{entry.name} · layer {layer} · " + ("mean of all heads" if head == 0 else f"head {head}")
    show_chart(attention_heatmap(maps.tokens, matrix, title), config=NO_MODE_BAR)
    st.caption("Row: the token that attends; columns: where it looks (each row sums to 1). Many heads park "
               "attention they do not need on [CLS] or [SEP] (Clark et al., 2019, “What Does BERT Look At?”); "
               "attention shows where information flows, not why the model answered.")
