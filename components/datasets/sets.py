"""Labelled evaluation sets: the bundled ones in ``data/``, the user's uploads and large sets on disk.

Every defect in an upload (not a zip, a zip bomb, missing columns, an undecodable file, an unknown
class name) raises :class:`DatasetError` with one line a user can act on. Nothing is extracted to
disk: ZIP members are read into memory after their declared sizes pass the limits.

A folder or a ZIP named by its path (the CLI's ``--dataset PATH``, the Compare page's server path) is
*streamed*: the set keeps file paths or member names, and each sample is read and decoded when a
runner asks for it (a batch or a shard at a time), so thousands of samples never sit decoded in memory.
"""
from __future__ import annotations

import csv
import io
import os
import stat
import unicodedata
import weakref
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import numpy as np

from components.core import SAMPLE_RATE, InputError, check_image_size, evaluation_tasks, get_task, load_audio

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

MAX_ZIP_BYTES = 200 * 2**20  # total uncompressed size
MAX_ZIP_RATIO = 100  # uncompressed / compressed, per member and overall
MAX_ZIP_FILES = 2000
ZIP_ENTRIES_PER_FILE = 3  # entries the end record may declare per allowed file (folders, macOS '._' files)
MAX_STREAMED_FILES = 50_000  # a folder or ZIP read from disk keeps only names, not samples
MAX_CSV_ROWS = 10000
MAX_AUDIO_S = 3600.0  # total audio of a set (Compare uploads: decoded; Adapt sets: from the headers)
MAX_SET_PIXELS = 2_000_000_000  # total image pixels of an uploaded set, from the headers
ZIP_READ_CHUNK = 2**20  # ZIP members are inflated a chunk at a time (zipfile stops at the declared size)
# Bidi overrides / isolates / marks and C0 / C1 controls: refused in labels (class names, CSV labels, transcripts)
_LABEL_FORBIDDEN = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, RuntimeError, OSError, EOFError, NotImplementedError)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")

class DatasetError(ValueError):
    """The evaluation set cannot be used; the message (one line) says why."""


class FileBlobs(Sequence):
    """The bytes of files on disk, read on access (only the paths are held); with ``roots``, a file must
    still lie inside them when it is read."""

    def __init__(self, paths: Sequence[Path], roots: Sequence[Path] | None = None) -> None:
        self._paths, self._roots = list(paths), roots

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, index: int) -> bytes:
        return read_file(self._paths[index], self._roots)


class NamedFiles(Mapping):
    """Name -> bytes of a fixed list of names, each read on access by :meth:`_read` (a ZIP member, a file)."""

    _names: tuple[str, ...]
    _known: frozenset[str]

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def __getitem__(self, name: str) -> bytes:
        if name not in self._known:
            raise KeyError(name)
        return self._read(name)

    def _read(self, name: str) -> bytes:
        raise NotImplementedError


class ZipArchive(NamedFiles):
    """Member name -> bytes of a ZIP file on disk, read on access; pickles as its path (Ray workers).
    The archive is opened on first access (inside ``roots`` then, if given) and closed when this mapping is
    collected (weakref.finalize)."""

    def __init__(self, path: Path, names: Sequence[str], roots: Sequence[Path] | None = None) -> None:
        self.path, self._names, self._known, self._roots = path, tuple(names), frozenset(names), roots
        self._archive: zipfile.ZipFile | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_archive": None}

    def _read(self, name: str) -> bytes:
        try:
            archive = self._open()
        except _READ_ERRORS as exc:
            raise DatasetError(f"'{self.path.name}' cannot be read ({exc})") from None
        return read_member(archive, archive.getinfo(name), self.path.name)

    def _open(self) -> zipfile.ZipFile:
        if self._archive is None:
            file = open_checked(self.path, self._roots)
            self._archive = zipfile.ZipFile(file)
            weakref.finalize(self, self._archive.close)
            weakref.finalize(self, file.close)  # a ZipFile leaves a file object it was given open
        return self._archive


class MemberBlobs(Sequence):
    """Chosen members of a name -> bytes mapping, looked up on access."""

    def __init__(self, members: Mapping[str, bytes], names: Sequence[str]) -> None:
        self._members, self._names = members, list(names)

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, index: int) -> bytes:
        return self._members[self._names[index]]


class EncodedFiles(Sequence):
    """Encoded files (bytes in memory or read from disk per access), each decoded only when it is accessed."""

    def __init__(self, blobs: Sequence[bytes], names: Sequence[str] = ()) -> None:
        self._blobs, self._names = blobs, list(names)

    def __len__(self) -> int:
        return len(self._blobs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self.decode(self._blobs[index], self._names[index] if self._names else f"sample {index}")

    def decode(self, data: bytes, name: str) -> Any:
        raise NotImplementedError


class ImageFiles(EncodedFiles):
    """Images decoded to RGB PIL images on access; one that cannot be decoded raises DatasetError with its name
    (file or member path)."""

    def decode(self, data: bytes, name: str) -> Any:
        from PIL import Image

        try:
            return Image.open(io.BytesIO(data)).convert("RGB")
        except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad files
            raise DatasetError(f"image '{name}' cannot be decoded ({type(exc).__name__}: {exc})") from None


class AudioFiles(EncodedFiles):
    """Audio clips decoded to 16 kHz mono float32 on access (one clip at a time)."""

    def decode(self, data: bytes, name: str) -> Any:
        return decode_audio(data, name)


class Window(Sequence):
    """Items ``start`` to ``stop`` of a sequence, without copying or decoding anything up front."""

    def __init__(self, items: Sequence[Any], start: int, stop: int) -> None:
        self._items, self._start, self._stop = items, start, stop

    def __len__(self) -> int:
        return self._stop - self._start

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                return self._items[self._start + start : self._start + stop]
            return [self[i] for i in range(start, stop, step)]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._items[self._start + index % len(self)]


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

    def window(self, start: int, stop: int) -> Dataset:
        """Samples ``start`` to ``stop`` as a set of their own (a shard), still decoded only on access."""
        stop = min(stop, len(self))
        return Dataset(self.task, self.source, self.ids[start:stop], Window(self.inputs, start, stop),
                       None if self.labels is None else self.labels[start:stop])


# ---------------------------------------------------------------- entry points

def load_dataset(task: str, source: str | Path = "bundled", roots: Sequence[Path] | None = None) -> Dataset:
    """The bundled set for ``task`` (``"bundled"``), or the user's folder or file at ``source``.

    Folders and ZIP files are streamed (see the module docstring); CSV files are read whole (up to
    MAX_ZIP_BYTES). ``roots``: the only folders the set may come from, its files included (the Compare
    page's MODEL_EXPLORER_DATA_ROOTS; a folder's files that resolve elsewhere, e.g. through a symlink,
    are skipped); None: anywhere (the CLI).
    """
    if str(source) == "bundled":
        return load_bundled(task)
    path = Path(source).expanduser()
    if roots is not None and not within(path, roots):
        raise DatasetError(f"'{source}' is outside the folders this server shares")
    if path.is_dir():
        return load_folder(task, path, roots)
    if path.is_file() and zipfile.is_zipfile(path) and _streamable(task):
        return load_zip_file(task, path, roots)
    return load_upload(task, path.name, read_whole(path, roots))


def within(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path``, symlinks resolved, lies inside one of ``roots``."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(Path(root).resolve()) for root in roots)


def _streamable(task: str) -> bool:
    evaluation = get_task(task).evaluation
    return evaluation is not None and evaluation.format in _STREAM_READERS


def load_folder(task: str, root: Path, roots: Sequence[Path] | None = None) -> Dataset:
    """A folder laid out like the task's ZIP upload, streamed from disk (up to MAX_STREAMED_FILES files)."""
    evaluation = get_task(task).evaluation
    if not _streamable(task):
        wanted = evaluation.upload if evaluation else "a labelled set"
        raise DatasetError(f"'{root}' is a folder; {task} needs {wanted}")
    members = FolderFiles(root, roots)
    return _STREAM_READERS[evaluation.format](task, root.name, members)


def load_zip_file(task: str, path: Path, roots: Sequence[Path] | None = None) -> Dataset:
    """A ZIP on disk, checked like an upload, streamed member by member (up to MAX_STREAMED_FILES files)."""
    return _STREAM_READERS[get_task(task).evaluation.format](task, path.name, open_zip(path, roots))


class FolderFiles(NamedFiles):
    """Relative POSIX path -> bytes of the files under ``root`` (hidden ones skipped), read on access.
    With ``roots``, files that resolve outside them (symlinks out of the shared folders) are skipped."""

    def __init__(self, root: Path, roots: Sequence[Path] | None = None) -> None:
        self.root, self.roots = root, roots
        names = []
        for folder, subfolders, files in os.walk(root):  # stops at the limit, not after walking everything
            subfolders[:] = [d for d in subfolders if not d.startswith(".") and d != "__MACOSX"]
            base = Path(folder).relative_to(root)
            names += [(base / name).as_posix() for name in files if not name.startswith(".")
                      and (roots is None or within(Path(folder) / name, roots))]
            if len(names) > MAX_STREAMED_FILES:
                raise DatasetError(f"'{root}' holds more than {MAX_STREAMED_FILES} files; "
                                   f"the limit for a folder is {MAX_STREAMED_FILES}")
        if not names:
            raise DatasetError(f"'{root}' holds no files")
        self._names, self._known = tuple(sorted(names)), frozenset(names)

    def _read(self, name: str) -> bytes:
        return read_file(self.root / name, self.roots)

    def paths(self, names: Sequence[str]) -> FileBlobs:
        return FileBlobs([self.root / name for name in names], self.roots)


def read_whole(path: Path, roots: Sequence[Path] | None = None) -> bytes:
    """A dataset file read whole (a CSV, a ZIP for a task that does not stream): a regular file of at most
    MAX_ZIP_BYTES, checked before reading."""
    try:
        info = path.stat()
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise DatasetError(f"'{path}' is neither a file nor a folder")
    if info.st_size > MAX_ZIP_BYTES:
        raise DatasetError(f"'{path.name}' is {info.st_size / 2**20:.0f} MB; a file read whole (a CSV) may be at "
                           f"most {MAX_ZIP_BYTES / 2**20:.0f} MB (folders and ZIPs of images or audio are streamed)")
    return read_file(path, roots)


def read_file(path: Path, roots: Sequence[Path] | None = None) -> bytes:
    """A user's dataset file (or one sample of a streamed set), or a DatasetError that says why it cannot be read."""
    try:
        with open_checked(path, roots) as file:
            return file.read()
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from None


def open_checked(path: Path, roots: Sequence[Path] | None = None) -> BinaryIO:
    """``path`` opened for reading. With ``roots``, it is resolved and checked again now (a file swapped for a
    symlink since the set was listed) and opened with O_NOFOLLOW, so a link made after the check is refused."""
    if roots is None:
        return path.open("rb")
    real = path.resolve()
    if not within(real, roots):
        raise DatasetError(f"'{path}' now lies outside the folders this server shares")
    return os.fdopen(os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")


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
    labels = tuple(check_label_chars(r["label"], f"'{name}' data row {i + 1}") for i, r in enumerate(rows))
    return Dataset(task, name, tuple(f"row {i + 1}" for i in range(len(rows))), [r["text"] for r in rows], labels)


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
    _check_entry_count(io.BytesIO(data), name, MAX_ZIP_FILES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise DatasetError(f"'{name}' is not a valid ZIP file (corrupt or truncated)") from None
    with archive:
        infos = _checked_members(archive, name, MAX_ZIP_FILES)
        total = sum(i.file_size for i in infos)
        if total > MAX_ZIP_BYTES:
            raise DatasetError(f"'{name}' unpacks to {total / 2**20:.0f} MB; the limit is "
                               f"{MAX_ZIP_BYTES / 2**20:.0f} MB")
        packed = sum(i.compress_size for i in infos)
        if total > MAX_ZIP_RATIO * max(packed, 1) and total > 2**20:
            raise DatasetError(f"'{name}' looks like a zip bomb: it expands {total / max(packed, 1):.0f}x")
        return {info.filename: read_member(archive, info, name) for info in infos}


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """One member's bytes, inflated a chunk at a time: the stream stops at the size the member declares (a
    member that inflates further ends there, and fails its CRC), whereas ``archive.read`` inflates up to 2 GiB
    in one call first. Every read error (bad CRC, a damaged deflate stream, a truncated file) becomes one
    DatasetError line."""
    chunks = []
    try:
        with archive.open(info) as member:
            while chunk := member.read(ZIP_READ_CHUNK):
                chunks.append(chunk)
    except _READ_ERRORS as exc:
        raise DatasetError(f"'{name}': member '{info.filename}' cannot be read "
                           f"({type(exc).__name__}: {str(exc)[:120]})") from None
    return b"".join(chunks)


def open_zip(path: Path, roots: Sequence[Path] | None = None) -> ZipArchive:
    """A ZIP on disk, its members checked (count up to MAX_STREAMED_FILES, no zip bomb), none read yet."""
    try:
        with open_checked(path, roots) as file:
            _check_entry_count(file, path.name, MAX_STREAMED_FILES)
            with zipfile.ZipFile(file) as archive:
                infos = _checked_members(archive, path.name, MAX_STREAMED_FILES)
    except DatasetError:
        raise
    except (zipfile.BadZipFile, ValueError):
        raise DatasetError(f"'{path.name}' is not a valid ZIP file (corrupt or truncated)") from None
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from None
    return ZipArchive(path, [i.filename for i in infos], roots)


def _check_entry_count(file: Any, name: str, max_files: int) -> None:
    """Refuse a ZIP whose end record declares too many entries, before its central directory is parsed."""
    end = zipfile._EndRecData(file)  # the stdlib's own end-record reader (ZIP64 included)
    if end is None:
        return  # not a ZIP: zipfile.ZipFile says so
    entries, limit = end[zipfile._ECD_ENTRIES_TOTAL], ZIP_ENTRIES_PER_FILE * max_files
    if entries > limit:
        raise DatasetError(f"'{name}' holds {entries:,} entries; the limit is {limit:,} "
                           f"({max_files:,} files)")


def _checked_members(archive: zipfile.ZipFile, name: str, max_files: int) -> list[zipfile.ZipInfo]:
    """The visible files of ``archive``: at least one, at most ``max_files``, no name twice, none a zip bomb."""
    infos = [i for i in archive.infolist() if not i.is_dir() and not _hidden(i.filename)]
    if not infos:
        raise DatasetError(f"'{name}' holds no files")
    if len(infos) > max_files:
        raise DatasetError(f"'{name}' holds {len(infos)} files; the limit is {max_files}")
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise DatasetError(f"'{name}' holds '{info.filename}' more than once; keep one of them")
        seen.add(info.filename)
    for info in infos:
        if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
            raise DatasetError(f"'{name}' looks like a zip bomb: '{info.filename}' expands "
                               f"{info.file_size / max(info.compress_size, 1):.0f}x")
    return infos


def _hidden(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _zip_images(task: str, name: str, members: Mapping[str, bytes], streamed: bool = False) -> Dataset:
    """Class-named image folders. Only each image's header is read here (size, aspect ratio and, in memory,
    the set's total pixels); a file that then fails to decode fails its row, with its name."""
    ids, labels, pixels = [], [], 0
    for path in sorted(members):
        pure = PurePosixPath(path)
        if pure.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if len(pure.parts) < 2:
            raise DatasetError(f"'{name}': image '{path}' is not inside a class folder "
                               f"(expected <class name>/<image>)")
        pixels += check_image_header(members[path], path)
        if not streamed:
            check_set_pixels(pixels, name)
        ids.append(path)
        labels.append(imagenet_indices(check_label_chars(pure.parent.name, f"'{name}': folder")))
    if not ids:
        raise DatasetError(f"'{name}' holds no images ({', '.join(IMAGE_EXTENSIONS)}) in class folders")
    blobs = members.paths(ids) if isinstance(members, FolderFiles) else MemberBlobs(members, ids)
    return Dataset(task, name, tuple(ids), ImageFiles(blobs, ids), tuple(labels))


def _zip_speech(task: str, name: str, members: Mapping[str, bytes], streamed: bool = False) -> Dataset:
    """Audio files with a transcripts.csv. In memory, clips are decoded here (and the total duration is
    capped); streamed, each clip is decoded when a runner asks for it."""
    csv_paths = [p for p in members if PurePosixPath(p).name.lower() == "transcripts.csv"]
    if len(csv_paths) != 1:
        problem = "has no" if not csv_paths else "has more than one"
        raise DatasetError(f"'{name}' {problem} transcripts.csv (columns file,transcript)")
    rows = read_csv(_decode_text(members[csv_paths[0]], csv_paths[0]), "transcripts.csv",
                    ("file", "transcript"))
    folder = PurePosixPath(csv_paths[0]).parent
    by_name = {PurePosixPath(p).name: p for p in members}
    ids, paths, clips, transcripts = [], [], [], []
    total_s = 0.0
    for row in rows:
        path = str(folder / row["file"])
        if path not in members:
            path = by_name.get(PurePosixPath(row["file"]).name)
        if path is None:
            raise DatasetError(f"'{name}': transcripts.csv lists '{row['file']}' but the set has no such file")
        ids.append(row["file"])
        paths.append(path)
        transcripts.append(check_label_chars(row["transcript"], f"'{name}': transcript of '{row['file']}'"))
        if streamed:
            continue
        audio = decode_audio(members[path], path)
        total_s += len(audio) / SAMPLE_RATE
        check_set_seconds(total_s, name)
        clips.append(audio)
    if streamed:
        blobs = members.paths(paths) if isinstance(members, FolderFiles) else MemberBlobs(members, paths)
        return Dataset(task, name, tuple(ids), AudioFiles(blobs, paths), tuple(transcripts))
    return Dataset(task, name, tuple(ids), clips, tuple(transcripts))


# ---------------------------------------------------------------- decoding

def check_image_header(data: bytes, path: str) -> int:
    """The pixel count of an image that starts like one of sane size and shape (header only, no decode),
    else DatasetError."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
        check_image_size(width, height, path)
    except InputError as exc:
        raise DatasetError(f"image {exc}") from None
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad files
        raise DatasetError(f"image '{path}' cannot be decoded ({type(exc).__name__}: {exc})") from None
    return width * height


def check_set_pixels(pixels: int, name: str) -> None:
    """Refuse an uploaded set whose images add up to more than MAX_SET_PIXELS (read from their headers)."""
    if pixels > MAX_SET_PIXELS:
        raise DatasetError(f"'{name}': its images add up to more than {MAX_SET_PIXELS / 1e6:,.0f} megapixels "
                           f"(the limit for a set); use fewer or smaller images")


def check_set_seconds(seconds: float, name: str) -> None:
    """Refuse a set whose clips add up to more than MAX_AUDIO_S."""
    if seconds > MAX_AUDIO_S:
        raise DatasetError(f"'{name}' holds more than {MAX_AUDIO_S / 60:.0f} minutes of audio (the limit for a set)")


def check_label_chars(label: str, where: str) -> str:
    """``label`` unless it holds control characters or bidirectional overrides (text that displays reordered)."""
    bad = next((c for c in label if c in _LABEL_FORBIDDEN or unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise DatasetError(f"{where}: label holds the invisible character U+{ord(bad):04X} (a control or "
                           f"bidirectional character); remove it")
    return label


def decode_audio(data: bytes, path: str) -> np.ndarray:
    """16 kHz mono float32, decoded exactly as the Speech playground decodes (components.core.inputs)."""
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
    return Dataset(task, "bundled", tuple(ids), ImageFiles(blobs, ids), tuple(labels) if labelled else None)


def _bundled_speech(task: str, labelled: bool) -> Dataset:
    folder = DATA_DIR / "speech"
    rows = read_csv(_read_text(folder / "transcripts.csv"), "data/speech/transcripts.csv",
                    ("file", "transcript"))
    clips = [decode_audio((folder / r["file"]).read_bytes(), r["file"]) for r in rows]
    labels = tuple(r["transcript"] for r in rows) if labelled else None
    return Dataset(task, "bundled", tuple(r["file"] for r in rows), clips, labels)


# Per evaluation format (components.core.tasks): how an upload or bundled file becomes a Dataset.
_PARSERS = {"text-label": _labelled_text, "sentence-pairs": _sentence_pairs}
_ZIP_READERS = {"image-folders": _zip_images, "transcripts": _zip_speech}
_STREAM_READERS = {fmt: partial(reader, streamed=True) for fmt, reader in _ZIP_READERS.items()}
