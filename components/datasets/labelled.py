"""Labelled sets for Adapt: a class name per sample (images, text or audio), bundled or uploaded.

Uploads are read with the same checks as Compare's sets (ZIP limits, image headers, CSV columns, audio
decoding: the ``zips``, ``decoding`` and ``csv_sets`` modules). On top, a set must be learnable: at least two
classes, two examples per class, a folder per class with nothing nested, one kind of file, readable labels.
Every defect raises :class:`DatasetError` with one line that says what to fix.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from components.core import TEXT_CLASSIFICATION, InputError, audio_seconds, get_task, tasks_with
from components.datasets.bundled import DATA_DIR
from components.datasets.containers import AudioFiles, ImageFiles
from components.datasets.csv_sets import read_csv
from components.datasets.decoding import check_image_header, check_set_pixels, check_set_seconds
from components.datasets.limits import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, DatasetError
from components.datasets.paths import read_file
from components.datasets.zips import read_zip

LABEL_PATTERN = re.compile(r"[^\W_][\w .()'&+-]*")  # starts with a letter or digit
MAX_LABEL_CHARS = 60
MIN_PER_CLASS = 2  # one to train on, one to test on


@dataclass(frozen=True)
class LabelledSet:
    """Samples with one class label each; ``digest`` hashes the content (the feature cache key)."""

    task: str
    source: str  # "bundled" or the uploaded file's name
    ids: tuple[str, ...]
    inputs: Sequence[Any]  # PIL images or 16 kHz float32 arrays (both decoded on access), or strings
    labels: tuple[str, ...]
    digest: str

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.labels)))


def load_labelled(task: str, source: str | Path = "bundled") -> LabelledSet:
    """The bundled set for ``task`` or the user's file at ``source``."""
    if task not in tasks_with("adapt"):
        raise DatasetError(f"unknown task '{task}' (Adapt does: {', '.join(tasks_with('adapt'))})")
    if str(source) == "bundled":
        return load_bundled_labelled(task)
    path = Path(source)
    return load_labelled_upload(task, path.name, read_file(path))


def load_bundled_labelled(task: str) -> LabelledSet:
    spec = get_task(task)
    where = DATA_DIR / spec.adapt.bundled
    if spec.input_kind == "text":
        return _text_set("bundled", where.read_bytes())
    members = {str(p.relative_to(where)): p.read_bytes() for p in sorted(where.rglob("*")) if p.is_file()}
    return _folder_set(task, "bundled", members)


def load_labelled_upload(task: str, name: str, data: bytes) -> LabelledSet:
    """Validate and load an uploaded set for ``task``."""
    if not data:
        raise DatasetError(f"'{name}' is empty")
    is_zip = data[:4] == b"PK\x03\x04"
    spec = get_task(task)
    if spec.input_kind == "text":
        if is_zip:
            raise DatasetError(f"'{name}' is a ZIP file; text classification needs {spec.adapt.upload}")
        return _text_set(name, data)
    if not is_zip:
        raise DatasetError(f"'{name}' is not a ZIP file; {task} needs {spec.adapt.upload}")
    members = read_zip(data, name)
    kind = "images" if spec.input_kind == "image" else "audio clips"
    empty = sorted(f for f in _folders(data) if not any(p.startswith(f + "/") for p in members))
    if empty:
        raise DatasetError(f"'{name}': folder '{empty[0]}' is empty; remove it or add {kind}")
    return _folder_set(task, name, _strip_wrapper(members))


def _text_set(name: str, data: bytes) -> LabelledSet:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"'{name}' is not UTF-8 text (is it really a CSV file?)") from None
    rows = read_csv(text, name, ("text", "label"))
    texts = [r["text"] for r in rows]
    labels = tuple(_check_label(r["label"], f"'{name}' line {i + 2}") for i, r in enumerate(rows))
    return _finish(TEXT_CLASSIFICATION, name, tuple(f"row {i + 1}" for i in range(len(rows))), texts,
                   labels, [t.encode() for t in texts])


def _folders(data: bytes) -> set[str]:
    """Visible folder entries of a ZIP (read_zip keeps files only): to find empty class folders."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename.rstrip("/") for i in archive.infolist()
                if i.is_dir() and not any(part.startswith(".") or part == "__MACOSX"
                                          for part in PurePosixPath(i.filename).parts)}


def _strip_wrapper(members: dict[str, bytes]) -> dict[str, bytes]:
    """'myset/cat/1.jpg' -> 'cat/1.jpg' when every file sits under one common top folder."""
    tops = {PurePosixPath(p).parts[0] for p in members}
    if len(tops) == 1 and all(len(PurePosixPath(p).parts) >= 3 for p in members):
        return {str(PurePosixPath(*PurePosixPath(p).parts[1:])): b for p, b in members.items()}
    return members


def _folder_set(task: str, name: str, members: dict[str, bytes]) -> LabelledSet:
    """Class folders of images or clips, checked from their headers (size and total pixels, duration and
    total duration) and kept encoded: each is decoded when it is used."""
    image = get_task(task).input_kind == "image"
    extensions = IMAGE_EXTENSIONS if image else AUDIO_EXTENSIONS
    kind = "image" if image else "audio clip"
    ids, labels, raw, pixels, seconds = [], [], [], 0, 0.0
    for path in sorted(members):
        pure = PurePosixPath(path)
        if pure.suffix.lower() not in extensions:
            raise DatasetError(f"'{name}': '{path}' is not an {kind} ({', '.join(extensions)}); "
                               f"the set must hold only {kind}s")
        if len(pure.parts) != 2:
            where = "is not inside a class folder" if len(pure.parts) < 2 else "is in a nested folder"
            raise DatasetError(f"'{name}': '{path}' {where}; put each {kind} directly in a folder "
                               f"named after its class (<class>/<file>)")
        label = _check_label(pure.parent.name, f"'{name}': folder")
        data = members[path]
        if image:
            pixels += check_image_header(data, path)
            check_set_pixels(pixels, name)
        else:
            seconds += _clip_seconds(data, path)
            check_set_seconds(seconds, name)
        ids.append(path)
        labels.append(label)
        raw.append(data)
    if not ids:
        raise DatasetError(f"'{name}' holds no {kind}s in class folders")
    inputs = ImageFiles(raw, ids) if image else AudioFiles(raw, ids)
    return _finish(task, name, tuple(ids), inputs, tuple(labels), raw)


def _clip_seconds(data: bytes, path: str) -> float:
    """A clip's duration from its header (rate, channels and length checked), as Compare words its errors."""
    try:
        return audio_seconds(data, path)
    except InputError as exc:
        raise DatasetError(f"audio cannot be decoded: {exc}") from None


def _check_label(label: str, where: str) -> str:
    label = label.strip()
    if len(label) > MAX_LABEL_CHARS or not LABEL_PATTERN.fullmatch(label):
        raise DatasetError(f"{where} label '{label[:MAX_LABEL_CHARS]}' has characters a class name cannot "
                           f"use; use letters, digits, spaces and - _ . ( ) ' & + (at most "
                           f"{MAX_LABEL_CHARS} characters, starting with a letter or digit)")
    return label


def _finish(task: str, name: str, ids: tuple[str, ...], inputs: Sequence[Any], labels: tuple[str, ...],
            raw: list[bytes]) -> LabelledSet:
    check_learnable(labels, name)
    digest = hashlib.sha256()
    for sample_id, label, blob in zip(ids, labels, raw):
        digest.update(f"{sample_id}\0{label}\0{len(blob)}\0".encode())
        digest.update(blob)
    return LabelledSet(task, name, ids, inputs, labels, digest.hexdigest()[:16])


def check_learnable(labels: Sequence[str], name: str) -> None:
    """Raise DatasetError unless a head can be trained and tested: >= 2 classes, >= 2 examples each."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if len(counts) < 2:
        only = next(iter(counts), "none")
        raise DatasetError(f"'{name}' has one class only ('{only}'); a classifier needs at least two")
    if len(labels) <= len(counts):
        raise DatasetError(f"'{name}' has {len(labels)} examples for {len(counts)} classes; each class "
                           f"needs at least {MIN_PER_CLASS} (one to train on, one to test on)")
    thin = sorted(label for label, n in counts.items() if n < MIN_PER_CLASS)
    if thin:
        raise DatasetError(f"'{name}': class '{thin[0]}' has one example; give every class at least "
                           f"{MIN_PER_CLASS} (one to train on, one to test on)")
