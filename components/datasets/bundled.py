"""The sets shipped in ``data/``: labelled where the task has an evaluation, else unlabelled samples of its kind."""
from __future__ import annotations

from pathlib import Path

from components.core import get_task
from components.datasets.containers import Dataset, ImageFiles
from components.datasets.csv_sets import PARSERS, labelled_text, read_csv, read_text
from components.datasets.decoding import decode_audio

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def load_bundled(task: str) -> Dataset:
    """The labelled set shipped in ``data/``; for other tasks, unlabelled samples of the right kind."""
    spec = get_task(task)
    if spec.evaluation is not None:
        path = DATA_DIR / spec.evaluation.bundled
        if spec.evaluation.format == "image-folders":
            return _bundled_images(task, labelled=True)
        if spec.evaluation.format == "transcripts":
            return _bundled_speech(task, labelled=True)
        return PARSERS[spec.evaluation.format](task, "bundled", read_text(path))
    if spec.input_kind == "image":
        return _bundled_images(task, labelled=False)
    if spec.input_kind == "audio":
        return _bundled_speech(task, labelled=False)
    texts = labelled_text(task, "bundled", read_text(DATA_DIR / "text" / "sentiment.csv"))
    return Dataset(task, "bundled", texts.ids, texts.inputs, None)


def _bundled_images(task: str, labelled: bool) -> Dataset:
    folder = DATA_DIR / "images"  # also the unlabelled samples of every other image task
    rows = read_csv(read_text(folder / "labels.csv"), "data/images/labels.csv", ("file", "accepted"))
    ids, blobs, labels = [], [], []
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        accepted = frozenset(int(i) for i in row["accepted"].split(";") if i.strip())
        ids.append(row["file"])
        blobs.append(data)
        labels.append(accepted)
    return Dataset(task, "bundled", tuple(ids), ImageFiles(blobs, ids), tuple(labels) if labelled else None)


def _bundled_speech(task: str, labelled: bool) -> Dataset:
    folder = DATA_DIR / "speech"
    rows = read_csv(read_text(folder / "transcripts.csv"), "data/speech/transcripts.csv",
                    ("file", "transcript"))
    clips = [decode_audio((folder / r["file"]).read_bytes(), r["file"]) for r in rows]
    labels = tuple(r["transcript"] for r in rows) if labelled else None
    return Dataset(task, "bundled", tuple(r["file"] for r in rows), clips, labels)
