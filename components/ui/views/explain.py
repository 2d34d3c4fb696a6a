"""Explain views: heatmaps on the Vision cards (with the sanity check), token attributions on Text."""
from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable
from typing import Any

import streamlit as st

from components.core import IMAGE_CLASSIFICATION, InputError, limits
from components.explain import (
    CAM_METHODS,
    METHODS,
    Explanation,
    eager_reason,
    explain,
    runnable_method,
    sanity_check,
)
from components.models import CannotRun, create_runner, get_runtime
from components.ui.shell.server_files import models_dir
from components.ui.shell.share import AUTOMATIC, IMAGE_METHODS, setting
from components.ui.views.run import CardData, model_slot, refusal
from components.ui.widgets.chart import NO_MODE_BAR, show_chart
from components.ui.widgets.format import format_latency_ms, literal
from components.viz import heatmap_overlay

log = logging.getLogger(__name__)

OPACITY = 0.6
STATE = "explain_results"  # session key: (input key, target, method) -> {card key: Explanation | error}
SANITY = "explain_sanity"  # session key: (input key, target, method, model id) -> SanityCheck | error
METHOD_HELP = ("Automatic: Grad-CAM (on PyTorch eager where the run's runtime computes no gradients: ONNX; the "
               "same weights, or for int8 the fp32 weights it was quantised from, explaining the card's top class). "
               "Grad-CAM weighs the last feature map's channels by their mean gradient; Grad-CAM++ by their "
               "positive gradients only (often covers more of an object, or several); Score-CAM by how much "
               "each channel alone, used as a mask, keeps the class (no gradients: one forward pass per channel, "
               "far slower). Occlusion hides one square at a time.")


def content_key(data: Any) -> str:
    """A short key for a PIL image's or an array's content (a new input invalidates stored explanations)."""
    return hashlib.blake2b(data.tobytes(), digest_size=8).hexdigest() + f"{data.size}"


def vision_controls(cards: list[CardData], image: Any) -> None:
    """The shared controls (opacity, target, method) and the Explain button for every card with an answer."""
    st.markdown("**:material/visibility: Explain** — where in the photo each model found its class")
    opacity, target, method = st.columns(3)
    st.session_state.setdefault("keep_explain_opacity", OPACITY)
    opacity.slider("Heatmap opacity", 0.0, 1.0, step=0.05, key="keep_explain_opacity")
    setting("vision", "target").draw(target.text_input, placeholder="e.g. tabby, espresso, 285")
    st.session_state.setdefault(setting("vision", "method").key, AUTOMATIC)
    setting("vision", "method").draw(method.selectbox, tuple(IMAGE_METHODS), format_func=IMAGE_METHODS.get,
                                     help=METHOD_HELP)
    chosen = st.session_state.get("keep_explain_method", AUTOMATIC)
    without = _runtimes_without_gradients(cards)
    if chosen != "occlusion" and without:
        int8 = any(get_runtime(card.result.runtime).int8 for card in cards if card.result)
        st.caption(f":material/info: {' and '.join(without)} gives no gradients or feature maps: "
                   f"{METHODS['gradcam' if chosen == AUTOMATIC else chosen]} explains these cards on PyTorch eager, "
                   + ("the fp32 weights before int8 quantisation" if int8 else "the same weights")
                   + ", for each card's top class unless a target is set.")
    if st.button("Explain", icon=":material/visibility:", key="explain_run"):
        answered = [card for card in cards if card.result is not None]
        try:
            if chosen == "scorecam":  # one forward pass per channel: ~9 s a model
                limits.check(limits.MAX_SCORECAM, len(answered))
            with model_slot("Explain"):
                _explain_all(answered, image, chosen)
        except limits.Refused as exc:
            refusal(exc)


def _explain_all(answered: list[CardData], image: Any, chosen: str) -> None:
    """Explain every answered card with ``chosen``, one progress bar; stored for the cards to show."""
    target = st.session_state.get("keep_explain_target", "").strip()
    bar = st.progress(0.0, text="Computing explanations…")
    found: dict[str, Any] = {}
    for number, card in enumerate(answered):
        def progress(share: float, number: int = number, name: str = card.entry.name) -> None:
            bar.progress(min(1.0, (number + share) / len(answered)), text=f"{name}: {share:.0%}")

        progress(0.0)
        found[card_key(card)] = _explain_card(card, image, target, None if chosen == AUTOMATIC else chosen,
                                              progress)
    bar.empty()
    st.session_state[STATE] = ((content_key(image), target, chosen), found)


def card_key(card: CardData) -> str:
    """A card's explanation belongs to its model on the runtime that answered: a rerun on another runtime hides it."""
    return f"{card.entry.id}:{card.result.runtime if card.result is not None else ''}"


def _runtimes_without_gradients(cards: list[CardData]) -> list[str]:
    """The labels of the cards' runtimes that compute no gradients (ONNX Runtime): a CAM explains those cards on
    PyTorch eager (the same weights, or int8's fp32 weights), occlusion on their own runtime."""
    names = sorted({card.result.runtime for card in cards if card.result is not None})
    return [get_runtime(name).label for name in names if not get_runtime(name).gradients]


def _explain_card(card: CardData, inputs: Any, target: str, method: str | None = None,
                  progress: Callable[[float], None] | None = None) -> Explanation | str:
    try:
        runner = create_runner(card.entry, card.result.task, "real", runtime=card.result.runtime,
                               extra_dir=models_dir())
        on_eager = eager_reason(runner, method)
        if on_eager:  # a CAM on ONNX Runtime: the weights on eager (int8: fp32), not occlusion (slower, other method)
            runner = create_runner(card.entry, card.result.task, "real", extra_dir=models_dir())
            if card.result.task == IMAGE_CLASSIFICATION:  # eager's (fp32's) top class may differ from the card's
                target = target or _top_class(card)
        method, instead = runnable_method(runner, method)
        found = explain(runner, inputs, target or None, method, progress)
        if instead:
            found.details["instead"] = instead
        if on_eager:
            found.details["on_eager"] = on_eager
        return found
    except (CannotRun, InputError) as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - one model's failure is a message on its card
        return unexpected(card, exc)


def _top_class(card: CardData) -> str:
    """The class index an image-classification card ranks first ('' when its output has none)."""
    output = card.result.output
    first = output[0] if isinstance(output, list) and output else None
    return str(first["index"]) if isinstance(first, dict) and "index" in first else ""


def unexpected(card: CardData, exc: Exception) -> str:
    log.exception("explaining %s failed", card.entry.id)
    return f"{card.entry.name} could not be explained: {type(exc).__name__}: {exc}"


def show_card_explanation(card: CardData, image: Any) -> None:
    """Inside a Vision card: its heatmap over the photo, and the sanity-check button."""
    stored = st.session_state.get(STATE)
    if stored is None or stored[0][0] != content_key(image) or card_key(card) not in stored[1]:
        return
    found = stored[1][card_key(card)]
    if isinstance(found, str):
        st.error(literal(found))
        return
    opacity = st.session_state.get("keep_explain_opacity", OPACITY)
    st.image(heatmap_overlay(image, found.heatmap, opacity), width="stretch",
             caption=f"Heatmap over the photo: bright where {found.target} draws its evidence")
    instead = found.details.get("instead")
    st.caption(f"{found.method_label} for **{literal(found.target)}** · {format_latency_ms(found.elapsed_ms)}"
               + (f" · occlusion: {instead}" if instead else "")
               + (f" · {found.details['on_eager']}" if "on_eager" in found.details else ""))
    if not found.heatmap.any():
        st.info(f"The map is empty: no place in the photo raises the score of {literal(found.target)} "
                "at this layer.", icon=":material/info:")
    if found.method in CAM_METHODS:  # the check explains the class this map explains (after int8: the card's)
        _sanity(card, image, str(found.details.get("target_index", stored[0][1])), found.method, opacity)


def _sanity(card: CardData, image: Any, target: str, method: str, opacity: float) -> None:
    key = (content_key(image), target, method, card_key(card))
    if st.button("Sanity check", icon=":material/science:", key=f"sanity_{card.entry.id}",
                 help="Adebayo et al. (2018): the same method on the same architecture with random weights "
                      "must give a different map, or the map shows the photo, not the model."):
        bar = st.progress(0.0, text="Real and random weights…")
        try:
            with model_slot("The sanity check"):
                real = create_runner(card.entry, card.result.task, "real", extra_dir=models_dir())
                randomised = create_runner(card.entry, card.result.task, "random")
                check = sanity_check(real, randomised, image, target or None, method,
                                     lambda share: bar.progress(share, text=f"Real and random weights: {share:.0%}"))
            st.session_state[SANITY] = (key, check)
        except (CannotRun, InputError, limits.Refused) as exc:
            st.session_state[SANITY] = (key, str(exc))
        except Exception as exc:  # noqa: BLE001
            st.session_state[SANITY] = (key, unexpected(card, exc))
        bar.empty()
    stored = st.session_state.get(SANITY)
    if stored is None or stored[0] != key:
        return
    if isinstance(stored[1], str):
        st.error(literal(stored[1]))
        return
    check = stored[1]
    left, right = st.columns(2)
    left.image(heatmap_overlay(image, check.real.heatmap, opacity), caption="real weights", width="stretch")
    right.image(heatmap_overlay(image, check.random.heatmap, opacity), caption="random weights", width="stretch")
    verdict = ("low: this map depends on what the model learned" if check.correlation < 0.5 else
               "high: part of this map comes from the architecture and the photo, not from what was learned")
    empty = ("" if check.random.heatmap.any() else
             " The random-weights map is empty: no gradient or score reaches its class there (torchvision's ViT, "
             "for one, starts its classifier at zero).")
    st.caption(f"{METHODS[method]}: Spearman correlation of the two maps **{check.correlation:.2f}** (1 = the same "
               f"map, 0 = unrelated) — {verdict}.{empty}")


# ---------------------------------------------------------------- text

def token_chips(tokens: list[dict[str, Any]]) -> str:
    """HTML: each token tinted by its score (blue supports, vermillion opposes: colour-blind safe), the score
    on hover."""
    peak = max((abs(t["score"]) for t in tokens), default=0.0) or 1.0
    chips = []
    for token in tokens:
        share = token["score"] / peak
        colour = f"rgba(0,114,178,{share:.2f})" if share >= 0 else f"rgba(213,94,0,{-share:.2f})"
        title = f"{token['score']:+.3f}" + (f" (lexicon {token['lexicon']:+.1f})" if "lexicon" in token else "")
        chips.append(f"<span title='{title}' style='background:{colour};padding:2px 4px;margin:1px;"
                     f"border-radius:4px;display:inline-block'>{html.escape(token['token'])}</span>")
    return f"<div style='line-height:2'>{''.join(chips)}</div>"


def text_explanation(card: CardData, lines: list[str], caption: str) -> None:
    """A button under a Text card that explains its answer on ``lines``, then the coloured tokens."""
    key, request = f"explain_text_{card.result.task}_{card.entry.id}", (lines, card.result.runtime)
    if st.button("Why?", icon=":material/visibility:", key=key):
        try:
            with model_slot("Why?"):
                st.session_state[key + "_result"] = (request, _explain_card(card, lines, ""))
        except limits.Refused as exc:
            st.session_state[key + "_result"] = (request, str(exc))
    stored = st.session_state.get(key + "_result")
    if stored is None or stored[0] != request:
        return
    found = stored[1]
    if isinstance(found, str):
        st.error(literal(found))
        return
    for sentence in sorted({t.get("sentence", 1) for t in found.tokens}):
        st.html(token_chips([t for t in found.tokens if t.get("sentence", 1) == sentence]))
    eager = f" ({found.details['on_eager']})" if "on_eager" in found.details else ""
    st.caption(f"{found.method_label} of {literal(found.target)}{eager} · {format_latency_ms(found.elapsed_ms)}. "
               f"{strongest_tokens(found.tokens)} Blue supports the answer, vermillion opposes it. {caption}")


def strongest_tokens(tokens: list[dict[str, Any]], count: int = 3) -> str:
    """The text alternative of the token chips: the tokens that most support and most oppose the answer."""
    ranked = sorted(tokens, key=lambda t: t["score"])
    support = [f"{t['token']} ({t['score']:+.2f})" for t in reversed(ranked[-count:]) if t["score"] > 0]
    against = [f"{t['token']} ({t['score']:+.2f})" for t in ranked[:count] if t["score"] < 0]
    return (f"Most support: {', '.join(support) or 'none'}; most against: {', '.join(against) or 'none'}.")


# ---------------------------------------------------------------- speech

def speech_words(card: CardData, audio: Any) -> None:
    """Under a faster-whisper card: its words with timestamps and probabilities on the waveform."""
    from components.explain import whisper_words
    from components.viz import waveform_words

    if card.entry.source.engine != "whisper_ct2":
        return
    key, clip = f"explain_words_{card.entry.id}", content_key(audio)
    if st.button("Words on the waveform", icon=":material/graphic_eq:", key=key):
        try:
            with model_slot("Words on the waveform"):
                runner = create_runner(card.entry, card.result.task, "real", extra_dir=models_dir())
                st.session_state[key + "_result"] = (clip, whisper_words(runner, audio))
        except (CannotRun, InputError, limits.Refused) as exc:
            st.session_state[key + "_result"] = (clip, str(exc))
        except Exception as exc:  # noqa: BLE001
            st.session_state[key + "_result"] = (clip, unexpected(card, exc))
    stored = st.session_state.get(key + "_result")
    if stored is None or stored[0] != clip:
        return
    if isinstance(stored[1], str):
        st.error(literal(stored[1]))
        return
    show_chart(waveform_words(audio, stored[1]), config=NO_MODE_BAR,
               summary=f"{len(stored[1])} words: " + ", ".join(f"{w['word'].strip()} {w['probability']:.2f}"
                                                               for w in stored[1][:20]))
    st.caption("Each word spans the time Whisper aligned it to (cross-attention timestamps); the number is its "
               "probability: bluish green ≥ 0.5, vermillion below — where the model was unsure.")
