"""Labelled evaluation sets: the bundled ones in ``data/`` and the user's own uploads.

Every defect in an upload (not a zip, a zip bomb, missing columns, an undecodable file, an unknown
class name) raises :class:`DatasetError` with one line a user can act on. Nothing is extracted to
disk: ZIP members are read into memory after their declared sizes pass the limits.
"""
from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Sequence

import numpy as np

from components.inputs import MAX_IMAGE_PIXELS, SAMPLE_RATE, InputError, load_audio
from components.tasks import evaluation_tasks, get_task

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

MAX_ZIP_BYTES = 200 * 2**20  # total uncompressed size
MAX_ZIP_RATIO = 100  # uncompressed / compressed, per member and overall
MAX_ZIP_FILES = 2000
MAX_CSV_ROWS = 10000
MAX_AUDIO_S = 3600.0  # total decoded audio

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")

class DatasetError(ValueError):
    """The evaluation set cannot be used; the message (one line) says why."""


class ImageFiles(Sequence):
    """Encoded images kept as bytes, decoded to RGB PIL images on access (bounded memory)."""

    def __init__(self, blobs: list[bytes]) -> None:
        self._blobs = blobs

    def __len__(self) -> int:
        return len(self._blobs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        from PIL import Image

        return Image.open(io.BytesIO(self._blobs[index])).convert("RGB")


@dataclass(frozen=True)
class Dataset:
    """One evaluation set: runner inputs and their labels (``None`` for unlabelled samples).

    inputs, per task: PIL image; str; float32 16 kHz mono array; (sentence1, sentence2) pair.
    labels, per task: frozenset of accepted ImageNet indices; transcript; class label; similarity score.
    """

    task: str
    source: str  # "bundled" or the uploaded file's name
    ids: tuple[str, ...]
    inputs: Sequence[Any]
    labels: tuple[Any, ...] | None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def labelled(self) -> bool:
        return self.labels is not None

    def items(self) -> Sequence[Any]:
        """Single runner inputs for timing: sentence pairs are split into their sentences."""
        evaluation = get_task(self.task).evaluation
        if self.labelled and evaluation is not None and evaluation.format == "sentence-pairs":
            return [sentence for pair in self.inputs for sentence in pair]
        return self.inputs


# ---------------------------------------------------------------- entry points

def load_dataset(task: str, source: str | Path = "bundled") -> Dataset:
    """The bundled set for ``task`` (``"bundled"``) or the user's file at ``source``."""
    if str(source) == "bundled":
        return load_bundled(task)
    path = Path(source)
    return load_upload(task, path.name, read_file(path))


def read_file(path: Path) -> bytes:
    """A user's dataset file, or a DatasetError that says why it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from None


def load_bundled(task: str) -> Dataset:
    """The labelled set shipped in ``data/``; for other tasks, unlabelled samples of the right kind."""
    spec = get_task(task)
    if spec.evaluation is not None:
        path = DATA_DIR / spec.evaluation.bundled
        if spec.evaluation.format == "image-folders":
            return _bundled_images(task, labelled=True)
        if spec.evaluation.format == "transcripts":
            return _bundled_speech(task, labelled=True)
        return _PARSERS[spec.evaluation.format](task, "bundled", _read_text(path))
    if spec.input_kind == "image":
        return _bundled_images(task, labelled=False)
    if spec.input_kind == "audio":
        return _bundled_speech(task, labelled=False)
    texts = _labelled_text(task, "bundled", _read_text(DATA_DIR / "text" / "sentiment.csv"))
    return Dataset(task, "bundled", texts.ids, texts.inputs, None)


def load_upload(task: str, name: str, data: bytes) -> Dataset:
    """Validate and load an uploaded evaluation set for ``task``."""
    evaluation = get_task(task).evaluation
    if evaluation is None:
        raise DatasetError(f"{task} has no labelled evaluation; tasks that do: {', '.join(evaluation_tasks())}")
    if not data:
        raise DatasetError(f"'{name}' is empty")
    is_zip = data[:4] == b"PK\x03\x04"
    if evaluation.format in _ZIP_READERS:
        if not is_zip:
            raise DatasetError(f"'{name}' is not a ZIP file; {task} needs {evaluation.upload}")
        return _ZIP_READERS[evaluation.format](task, name, read_zip(data, name))
    if is_zip:
        raise DatasetError(f"'{name}' is a ZIP file; {task} needs {evaluation.upload}")
    return _PARSERS[evaluation.format](task, name, _decode_text(data, name))


# ---------------------------------------------------------------- CSV

def _read_text(path: Path) -> str:
    try:
        return _decode_text(path.read_bytes(), path.name)
    except OSError as exc:
        raise DatasetError(f"bundled set {path} cannot be read: {exc.strerror or exc}") from None


def _decode_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"'{name}' is not UTF-8 text (is it really a CSV file?)") from None


def read_csv(text: str, name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV with the required ``columns`` (matched case-insensitively), all non-empty."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None:
            raise DatasetError(f"'{name}' is empty; expected columns {','.join(columns)}")
        found = [h.strip().lower() for h in header]
        missing = [c for c in columns if c not in found]
        if missing:
            raise DatasetError(f"'{name}' is missing column(s) {', '.join(missing)} "
                               f"(found: {', '.join(h for h in found if h) or 'none'}); "
                               f"expected columns {','.join(columns)}")
        where = {c: found.index(c) for c in columns}
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= MAX_CSV_ROWS:
                raise DatasetError(f"'{name}' has more than {MAX_CSV_ROWS} rows; use a smaller sample")
            record = {c: (row[i].strip() if i < len(row) else "") for c, i in where.items()}
            empty = [c for c, v in record.items() if not v]
            if empty:
                raise DatasetError(f"'{name}' line {reader.line_num}: empty {', '.join(empty)}")
            rows.append(record)
    except csv.Error as exc:
        raise DatasetError(f"'{name}' is not a readable CSV: {exc}") from None
    if not rows:
        raise DatasetError(f"'{name}' has a header but no data rows")
    return rows


def _labelled_text(task: str, name: str, text: str) -> Dataset:
    rows = read_csv(text, name, ("text", "label"))
    return Dataset(task, name, tuple(f"row {i + 1}" for i in range(len(rows))),
                   [r["text"] for r in rows], tuple(r["label"] for r in rows))


def _sentence_pairs(task: str, name: str, text: str) -> Dataset:
    rows = read_csv(text, name, ("sentence1", "sentence2", "score"))
    scores = []
    for i, row in enumerate(rows):
        try:
            scores.append(float(row["score"]))
        except ValueError:
            raise DatasetError(f"'{name}' data row {i + 1}: score must be a number, "
                               f"got '{row['score']}'") from None
    return Dataset(task, name, tuple(f"pair {i + 1}" for i in range(len(rows))),
                   [(r["sentence1"], r["sentence2"]) for r in rows], tuple(scores))


# ---------------------------------------------------------------- ZIP

def read_zip(data: bytes, name: str) -> dict[str, bytes]:
    """Member path -> bytes, after checking count, total size and compression ratio before reading."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise DatasetError(f"'{name}' is not a valid ZIP file (corrupt or truncated)") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and not _hidden(i.filename)]
        if not infos:
            raise DatasetError(f"'{name}' holds no files")
        if len(infos) > MAX_ZIP_FILES:
            raise DatasetError(f"'{name}' holds {len(infos)} files; the limit is {MAX_ZIP_FILES}")
        total = sum(i.file_size for i in infos)
        if total > MAX_ZIP_BYTES:
            raise DatasetError(f"'{name}' unpacks to {total / 2**20:.0f} MB; the limit is "
                               f"{MAX_ZIP_BYTES / 2**20:.0f} MB")
        packed = sum(i.compress_size for i in infos)
        for info in infos:
            if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
                raise DatasetError(f"'{name}' looks like a zip bomb: '{info.filename}' expands "
                                   f"{info.file_size / max(info.compress_size, 1):.0f}x")
        if total > MAX_ZIP_RATIO * max(packed, 1) and total > 2**20:
            raise DatasetError(f"'{name}' looks like a zip bomb: it expands {total / max(packed, 1):.0f}x")
        members = {}
        for info in infos:
            try:
                members[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError) as exc:
                raise DatasetError(f"'{name}': member '{info.filename}' cannot be read ({exc})") from None
    return members


def _hidden(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _zip_images(task: str, name: str, members: dict[str, bytes]) -> Dataset:
    ids, blobs, labels = [], [], []
    for path in sorted(members):
        pure = PurePosixPath(path)
        if pure.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if len(pure.parts) < 2:
            raise DatasetError(f"'{name}': image '{path}' is not inside a class folder "
                               f"(expected <class name>/<image>)")
        check_image(members[path], path)
        ids.append(path)
        blobs.append(members[path])
        labels.append(imagenet_indices(pure.parent.name))
    if not ids:
        raise DatasetError(f"'{name}' holds no images ({', '.join(IMAGE_EXTENSIONS)}) in class folders")
    return Dataset(task, name, tuple(ids), ImageFiles(blobs), tuple(labels))


def _zip_speech(task: str, name: str, members: dict[str, bytes]) -> Dataset:
    csv_paths = [p for p in members if PurePosixPath(p).name.lower() == "transcripts.csv"]
    if len(csv_paths) != 1:
        problem = "has no" if not csv_paths else "has more than one"
        raise DatasetError(f"'{name}' {problem} transcripts.csv (columns file,transcript)")
    rows = read_csv(_decode_text(members[csv_paths[0]], csv_paths[0]), "transcripts.csv",
                    ("file", "transcript"))
    folder = PurePosixPath(csv_paths[0]).parent
    by_name = {PurePosixPath(p).name: p for p in members}
    ids, clips, transcripts = [], [], []
    total_s = 0.0
    for row in rows:
        path = str(folder / row["file"])
        if path not in members:
            path = by_name.get(PurePosixPath(row["file"]).name)
        if path is None:
            raise DatasetError(f"'{name}': transcripts.csv lists '{row['file']}' but the ZIP has no such file")
        audio = decode_audio(members[path], path)
        total_s += len(audio) / SAMPLE_RATE
        if total_s > MAX_AUDIO_S:
            raise DatasetError(f"'{name}' holds more than {MAX_AUDIO_S / 60:.0f} minutes of audio")
        ids.append(row["file"])
        clips.append(audio)
        transcripts.append(row["transcript"])
    return Dataset(task, name, tuple(ids), clips, tuple(transcripts))


# ---------------------------------------------------------------- decoding

def check_image(data: bytes, path: str) -> None:
    """Raise DatasetError unless ``data`` decodes as an image of sane size (fast reduced decode)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise DatasetError(f"image '{path}' is {img.width}x{img.height}; the limit is "
                                   f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels")
            img.draft("RGB", (64, 64))  # JPEG: decode at reduced scale, still reads every byte
            img.load()
    except DatasetError:
        raise
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad files
        raise DatasetError(f"image '{path}' cannot be decoded ({type(exc).__name__}: {exc})") from None


def decode_audio(data: bytes, path: str) -> np.ndarray:
    """16 kHz mono float32, decoded exactly as the Speech playground decodes (components.inputs)."""
    try:
        return load_audio(data, path).data
    except InputError as exc:
        raise DatasetError(f"audio cannot be decoded: {exc}") from None


# ---------------------------------------------------------------- ImageNet class names

def _norm_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).replace("_", " ").lower().split())


@lru_cache(maxsize=1)
def _imagenet_lookup() -> dict[str, frozenset[int]]:
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    lookup: dict[str, set[int]] = {}
    for index in range(info.num_classes()):
        description = info.index_to_description(index)
        keys = {str(index), info.index_to_label_name(index), description,
                *(part for part in description.split(","))}
        for key in keys:
            lookup.setdefault(_norm_name(key), set()).add(index)
    return {k: frozenset(v) for k, v in lookup.items() if k}


def imagenet_indices(folder: str) -> frozenset[int]:
    """ImageNet-1k indices a class-folder name stands for: index, synset id, description or synonym.

    An ambiguous synonym (e.g. "crane": bird or machine) accepts every class it names.
    """
    found = _imagenet_lookup().get(_norm_name(folder))
    if found is None:
        raise DatasetError(f"unknown ImageNet class folder '{folder}': name it by a class description "
                           f"(e.g. 'tabby cat'), a synset id (n02123045) or an index 0-999")
    return found


# ---------------------------------------------------------------- bundled media

def _bundled_images(task: str, labelled: bool) -> Dataset:
    folder = DATA_DIR / "images"  # also the unlabelled samples of every other image task
    rows = read_csv(_read_text(folder / "labels.csv"), "data/images/labels.csv", ("file", "accepted"))
    ids, blobs, labels = [], [], []
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        accepted = frozenset(int(i) for i in row["accepted"].split(";") if i.strip())
        ids.append(row["file"])
        blobs.append(data)
        labels.append(accepted)
    return Dataset(task, "bundled", tuple(ids), ImageFiles(blobs), tuple(labels) if labelled else None)


def _bundled_speech(task: str, labelled: bool) -> Dataset:
    folder = DATA_DIR / "speech"
    rows = read_csv(_read_text(folder / "transcripts.csv"), "data/speech/transcripts.csv",
                    ("file", "transcript"))
    clips = [decode_audio((folder / r["file"]).read_bytes(), r["file"]) for r in rows]
    labels = tuple(r["transcript"] for r in rows) if labelled else None
    return Dataset(task, "bundled", tuple(r["file"] for r in rows), clips, labels)


# Per evaluation format (components.tasks): how an upload or bundled file becomes a Dataset.
_PARSERS = {"text-label": _labelled_text, "sentence-pairs": _sentence_pairs}
_ZIP_READERS = {"image-folders": _zip_images, "transcripts": _zip_speech}
