"""Adapt page widgets: the results of a training (table, curves, per-backbone cards), try it, download."""
from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from components.adapt import (
    AdaptRun,
    classify,
    confusion_heatmap,
    embedding_map,
    embedding_scatter,
    fewshot_chart,
    file_name,
    head_bundle,
    per_class_bars,
    row_label,
    snippet,
)
from components.compare import interval_text
from components.core import InputError, get_entry, get_task, limits, load_audio, load_image, wav_bytes
from components.datasets import LabelledSet
from components.models import CannotRun
from components.ui.views.run import model_slot
from components.ui.widgets.chart import show_chart
from components.ui.widgets.format import literal

MAX_COLUMNS = 2
GALLERY = 12


def summary_table(runs: list[AdaptRun]) -> pd.DataFrame:
    return pd.DataFrame([{
        "Backbone": r.row["backbone_name"], "Weights": r.row["weights"], "Head": r.row["head"],
        "Held-out accuracy": round(r.row["accuracy"], 3),
        "Accuracy 95% interval": interval_text((r.row.get("metrics_ci") or {}).get("accuracy")),
        "Macro-F1": round(r.row["macro_f1"], 3),
        "Macro-F1 95% interval": interval_text((r.row.get("metrics_ci") or {}).get("macro_f1")),
        "Train / test": f"{r.row['n_train']} / {r.row['n_test']}", "Feature dim": r.row["feature_dim"],
        "Features s": r.row["embed_s"], "Features from": r.row["features_from"], "Head s": r.row["train_s"],
    } for r in runs])


def show_results(result: dict[str, Any], models_dir: str | None) -> None:
    dataset: LabelledSet = result["dataset"]
    runs: list[AdaptRun] = result["runs"]
    st.subheader("Results", divider="gray")
    st.caption(f"Set: {literal(dataset.source)} — stratified split (seed 0), {runs[0].row['n_test']} held-out samples.")
    st.dataframe(summary_table(runs), hide_index=True, width="stretch")
    show_chart(fewshot_chart([r.row for r in runs]), key="adapt_fewshot")
    real = [r for r in runs if r.row["weights"] == "real"]
    for start in range(0, len(real), MAX_COLUMNS):
        for column, run in zip(st.columns(MAX_COLUMNS), real[start:start + MAX_COLUMNS]):
            with column, st.container(border=True):
                _card(run, _baseline_of(run, runs), dataset, result["maps"])


def _baseline_of(run: AdaptRun, runs: list[AdaptRun]) -> AdaptRun | None:
    return next((r for r in runs if r.row["backbone_id"] == run.row["backbone_id"] and r.row["weights"] == "random"),
                None)


def _card(run: AdaptRun, baseline: AdaptRun | None, dataset: LabelledSet, maps: dict) -> None:
    row = run.row
    st.markdown(f"**{row['backbone_name']}** · :material/check_circle: pre-trained weights · {row['head']} head")
    metric, f1 = st.columns(2)
    gain = None if baseline is None else (row['accuracy'] - baseline.row['accuracy']) * 100
    delta = None if gain is None else f"{gain:+.0f} pts vs random weights"
    metric.metric("Held-out accuracy", f"{row['accuracy']:.0%}", delta)
    f1.metric("Macro-F1", f"{row['macro_f1']:.2f}")
    show_chart(confusion_heatmap(row), key=f"adapt_cm_{row['backbone_id']}")
    show_chart(per_class_bars(row), key=f"adapt_pc_{row['backbone_id']}")
    _gallery(run, dataset)
    method = st.radio("Embedding map", ["pca", "tsne"], horizontal=True, key=f"keep_adapt_map_{row['backbone_id']}",
                      format_func={"pca": "PCA", "tsne": "t-SNE"}.get)
    key = (row["backbone_id"], method)
    if key not in maps:
        with st.spinner(f"Projecting features ({method})…"):
            maps[key] = embedding_map(run.features, method)
    hover = [_hover(dataset, i) for i in range(len(dataset))]
    show_chart(embedding_scatter(maps[key], dataset.labels, hover,
                                 f"{'PCA' if method == 'pca' else 't-SNE'} of {row['backbone_name']} features"),
               key=f"adapt_map_{row['backbone_id']}")


def _hover(dataset: LabelledSet, index: int) -> str:
    if get_task(dataset.task).input_kind == "text":
        text = dataset.inputs[index]
        return text if len(text) <= 90 else text[:90] + "…"
    return dataset.ids[index]


def _gallery(run: AdaptRun, dataset: LabelledSet) -> None:
    wrong = run.misclassified
    with st.expander(f"What it got wrong ({len([1 for i, p in zip(run.test, run.predicted) if p != run.labels[i]])} "
                     f"of {len(run.test)} held out)", icon=":material/error:"):
        if not wrong:
            st.caption("Nothing: every held-out sample was right.")
        elif get_task(dataset.task).input_kind == "image":
            shown = wrong[:GALLERY]
            st.image([dataset.inputs[w["index"]] for w in shown], width=96,
                     caption=[literal(f"{w['true']} → {w['predicted']}") for w in shown])
        elif get_task(dataset.task).input_kind == "audio":
            for w in wrong[:GALLERY]:
                st.caption(literal(f"{dataset.ids[w['index']]}: {w['true']} → {w['predicted']}"))
                st.audio(wav_bytes(dataset.inputs[w["index"]]), format="audio/wav")
        else:
            st.dataframe(pd.DataFrame([{"Text": dataset.inputs[w["index"]], "True": w["true"],
                                        "Predicted": w["predicted"]} for w in wrong]), hide_index=True)


def show_try_it(result: dict[str, Any], models_dir: str | None) -> None:
    runs: list[AdaptRun] = result["runs"]
    dataset: LabelledSet = result["dataset"]
    st.subheader("Try it", divider="gray")
    labels = {i: row_label(r.row) for i, r in enumerate(runs)}
    choice = st.selectbox("Trained head", list(labels), format_func=labels.get, key="adapt_try_run")
    run = runs[choice]
    kind = get_task(dataset.task).input_kind
    if kind == "image":
        item, given = _try_image()
    elif kind == "audio":
        item, given = _try_audio()
    else:
        text = st.text_area("A new text", key="adapt_try_text").strip()
        item, given = text or None, text
    if item is not None and st.button("Classify", icon=":material/label:", key="adapt_try"):
        entry = None if run.row["weights"] == "none" else get_entry(run.row["backbone_id"])
        try:
            with model_slot("Classify"):
                ranked = classify(run, entry, item, extra_dir=models_dir)
        except (CannotRun, InputError, limits.Refused) as exc:
            st.error(literal(exc), icon=":material/warning:")
            return
        except Exception as exc:  # noqa: BLE001 - a failing model is a message, never a traceback
            st.error(f"Classifying failed: {type(exc).__name__}: {literal(exc)}", icon=":material/warning:")
            return
        st.session_state["adapt_try_result"] = {"run": run, "input": given, "ranked": ranked}
    shown = st.session_state.get("adapt_try_result")
    if shown and shown["run"] is run and shown["input"] == given:  # another head, training or input: not its answer
        best, score = shown["ranked"][0]
        st.success(f"**{literal(best)}** ({score:.0%})", icon=":material/label:")
        st.dataframe(pd.DataFrame(shown["ranked"], columns=["Class", "Probability"]), hide_index=True,
                     column_config={"Probability": st.column_config.NumberColumn(format="percent")})
    st.download_button("Download the head", head_bundle(run.row, run.head), file_name=file_name(run.row),
                       icon=":material/download:", key="adapt_download", mime="application/octet-stream")
    st.code(snippet(run.row), language="python")


def _digest(data: bytes) -> str:
    """A short key for an upload's bytes: a stored answer belongs to the input it was given."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _try_image() -> tuple[Any, str | None]:
    """(a photo to classify, shown small; or None, the error said), and the key of the upload (None: none)."""
    upload = st.file_uploader("A new image", type=["jpg", "jpeg", "png", "bmp", "gif", "webp", "tif", "tiff"],
                              key="adapt_try_image")
    if upload is None:
        return None, None
    data = upload.getvalue()
    try:
        image = load_image(data, upload.name).data
    except InputError as exc:
        st.error(literal(exc), icon=":material/warning:")
        return None, _digest(data)
    st.image(image, width=160, caption=f"{literal(upload.name)} · {image.width}×{image.height}")
    return image, _digest(data)


def _try_audio() -> tuple[Any, str | None]:
    """(a clip to classify: an uploaded file, else a recording; played back, or None), and the key of its bytes."""
    upload = st.file_uploader("A new clip", type=["wav", "flac", "ogg", "mp3"], key="adapt_try_audio")
    recording = st.audio_input("…or record one", key="adapt_try_mic")
    chosen = upload or recording
    if chosen is None:
        return None, None
    data = chosen.getvalue()
    try:
        audio = load_audio(data, chosen.name or "recording.wav").data
    except InputError as exc:
        st.error(literal(exc), icon=":material/warning:")
        return None, _digest(data)
    st.audio(wav_bytes(audio), format="audio/wav")
    return audio, _digest(data)
