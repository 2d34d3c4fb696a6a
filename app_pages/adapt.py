"""Adapt: train a small head on a backbone's frozen features from a labelled set; compare backbones,
random weights and (for text) TF-IDF; few-shot curve, embedding map, try it, download."""
import logging

import streamlit as st

from components.adapt import AdaptRun, adapt_backbones, train_backbone, train_tfidf
from components.core import get_entry, get_task, limits
from components.datasets import DatasetError, LabelledSet, load_bundled_labelled, load_labelled_upload
from components.models import CannotRun
from components.ui import literal, model_slot, models_dir, refusal, setting, show_results, show_try_it

RESULT = "adapt_result"


@st.cache_resource(max_entries=3, show_spinner="Reading the bundled set…")
def bundled_set(task: str) -> LabelledSet:
    return load_bundled_labelled(task)


@st.cache_data(max_entries=2, show_spinner="Checking your set…")
def uploaded_set(task: str, name: str, data: bytes) -> LabelledSet:
    return load_labelled_upload(task, name, data)


st.title(":material/model_training: Adapt a model to your data")
st.caption("Feature extraction and transfer learning: the backbone stays frozen, a small head learns your "
           "classes from its features. The same backbone with random weights shows what pre-training is worth.")

DATA, SOURCE = setting("adapt", "data"), setting("adapt", "set")
task = DATA.draw(st.radio, DATA.options(), format_func=lambda t: get_task(t).adapt.label, horizontal=True)
spec = get_task(task)
source = SOURCE.name_of(SOURCE.draw(st.radio, SOURCE.options(), horizontal=True))
dataset = None
try:
    if source == "bundled":
        dataset = bundled_set(task)
    else:
        upload = st.file_uploader(f"Your set: {spec.adapt.upload}", key=f"adapt_upload_{task}",
                                  type=["zip"] if spec.input_kind != "text" else ["csv"])
        if upload is not None:
            dataset = uploaded_set(task, upload.name, upload.getvalue())
except DatasetError as exc:
    st.error(literal(exc), icon=":material/warning:")
if dataset is not None:
    counts = {c: dataset.labels.count(c) for c in dataset.classes}
    what = spec.adapt.bundled_name if source == "bundled" else dataset.source
    st.caption(f"{literal(what)}: {len(dataset)} samples — "
               + ", ".join(f"{literal(c)} ({n})" for c, n in counts.items()))
    if spec.input_kind == "audio":
        st.caption(":material/schedule: Whisper encodes every clip in its 30 s window: about 0.5 s per clip and "
                   "backbone on a 2-core CPU the first time (features are cached after that).")

weights_dir = models_dir()
candidates = adapt_backbones(task, weights_dir)
BACKBONES, HEAD, BASELINE = setting("adapt", "backbones"), setting("adapt", "head"), setting("adapt", "baseline")
st.session_state.setdefault(BACKBONES.session_key(task=task), [e.id for e in candidates][:1])
chosen = BACKBONES.draw(st.multiselect, [e.id for e in candidates], format_func=lambda i: get_entry(i).name,
                        context={"task": task})
left, right = st.columns(2)
head = HEAD.draw(left.radio, HEAD.options(), horizontal=True,
                 format_func={"logistic": "Logistic regression (scikit-learn)",
                              "finetune": "Fine-tune: 2-layer head, gradient descent"}.get)
st.session_state.setdefault(BASELINE.key, True)
baseline = right.checkbox(BASELINE.label + (" and TF-IDF" if spec.input_kind == "text" else ""),
                          key=BASELINE.key)

if st.button("Train", icon=":material/play_arrow:", type="primary", key="adapt_train",
             disabled=dataset is None or not chosen):
    jobs = [(e, w) for e in map(get_entry, chosen) for w in (("real", "random") if baseline else ("real",))]
    bar = st.progress(0.0, text="Starting…")
    runs: list[AdaptRun] = []
    try:
        limits.check(limits.MAX_MODELS, len(chosen))
        limits.check(limits.MAX_SET_SAMPLES, len(dataset))
        with model_slot("Training"):
            for i, (entry, weights) in enumerate(jobs):
                def progress(fraction: float, message: str, i: int = i) -> None:
                    bar.progress(min((i + fraction) / len(jobs), 1.0), text=message)

                def epoch_progress(epoch: int, most: int, loss: float, val_loss: float, i: int = i,
                                   name: str = entry.name) -> None:
                    bar.progress(min((i + 0.85 + 0.15 * epoch / most) / len(jobs), 1.0),
                                 text=f"{name}: epoch {epoch} — train loss {loss:.3f}, validation loss {val_loss:.3f}")

                runs.append(train_backbone(entry, weights, dataset, head, seed=0, progress=progress,
                                           epoch_progress=epoch_progress, extra_dir=weights_dir))
            if baseline and spec.input_kind == "text":
                runs.append(train_tfidf(dataset, seed=0))
        st.session_state[RESULT] = {"dataset": dataset, "runs": runs, "maps": {}}
    except limits.Refused as exc:  # over a visitor's limits, or the server's queue is full
        refusal(exc)
    except (CannotRun, DatasetError) as exc:  # earlier results stay on the page
        st.error(f"Training stopped: {literal(exc)}", icon=":material/warning:")
    except Exception as exc:  # noqa: BLE001 - a failing fit is a message, never a traceback
        logging.getLogger(__name__).exception("Adapt training failed")
        st.error(f"Training failed: {type(exc).__name__}: {literal(exc)}", icon=":material/warning:")
    bar.empty()

result = st.session_state.get(RESULT)
if result:
    show_results(result, weights_dir)
    show_try_it(result, weights_dir)
