"""ZIP safety: the entry count checked before the central directory is parsed, sizes and ratios before a member
is read, no name twice, members inflated a chunk at a time; a ZIP in memory (an upload) or on disk (streamed)."""
from __future__ import annotations

import io
import weakref
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from components.datasets import limits
from components.datasets.containers import NamedFiles
from components.datasets.limits import DatasetError, check_file_size
from components.datasets.paths import open_checked

_READ_ERRORS = (zipfile.BadZipFile, zlib.error, RuntimeError, OSError, EOFError, NotImplementedError)


class ZipArchive(NamedFiles):
    """Member name -> bytes of a ZIP file on disk, read on access; pickles as its path (Ray workers).
    The archive is opened on first access (inside ``roots`` then, if given) and closed when this mapping is
    collected (weakref.finalize)."""

    def __init__(self, path: Path, names: Sequence[str], roots: Sequence[Path] | None = None) -> None:
        self.path, self._names, self._known, self._roots = path, tuple(names), frozenset(names), roots
        self._archive: zipfile.ZipFile | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_archive": None}

    def head(self, name: str, size: int) -> bytes:
        return read_member(self._open(), self._info(name), self.path.name, size)

    def _read(self, name: str) -> bytes:
        return read_member(self._open(), self._info(name), self.path.name)

    def _info(self, name: str) -> zipfile.ZipInfo:
        if name not in self._known:
            raise KeyError(name)
        return self._open().getinfo(name)

    def _open(self) -> zipfile.ZipFile:
        if self._archive is None:
            try:
                file = open_checked(self.path, self._roots)
                self._archive = zipfile.ZipFile(file)
            except _READ_ERRORS as exc:
                raise DatasetError(f"'{self.path.name}' cannot be read ({exc})") from None
            weakref.finalize(self, self._archive.close)
            weakref.finalize(self, file.close)  # a ZipFile leaves a file object it was given open
        return self._archive


def read_zip(data: bytes, name: str) -> dict[str, bytes]:
    """Member path -> bytes, after checking count, total size and compression ratio before reading."""
    _check_entry_count(io.BytesIO(data), name, limits.MAX_ZIP_FILES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise DatasetError(f"'{name}' is not a valid ZIP file (corrupt or truncated)") from None
    with archive:
        infos = _checked_members(archive, name, limits.MAX_ZIP_FILES)
        total = sum(i.file_size for i in infos)
        if total > limits.MAX_ZIP_BYTES:
            raise DatasetError(f"'{name}' unpacks to {total / 2**20:.0f} MB; the limit is "
                               f"{limits.MAX_ZIP_BYTES / 2**20:.0f} MB")
        packed = sum(i.compress_size for i in infos)
        if total > limits.MAX_ZIP_RATIO * max(packed, 1) and total > 2**20:
            raise DatasetError(f"'{name}' looks like a zip bomb: it expands {total / max(packed, 1):.0f}x")
        return {info.filename: read_member(archive, info, name) for info in infos}


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, size: int = -1) -> bytes:
    """One member's bytes (with ``size``, only its first ``size``), its declared size checked against
    MAX_FILE_BYTES first, inflated a chunk at a time: the stream stops at the size the member declares (a
    member that inflates further ends there, and fails its CRC, checked when that end is read), whereas
    ``archive.read`` inflates up to 2 GiB in one call first. Every read error (bad CRC, a damaged deflate
    stream, a truncated file) becomes one DatasetError line."""
    check_file_size(info.file_size, f"{name}: {info.filename}")
    chunks, left = [], info.file_size if size < 0 else size
    try:
        with archive.open(info) as member:
            while left > 0 and (chunk := member.read(min(limits.ZIP_READ_CHUNK, left))):
                chunks.append(chunk)
                left -= len(chunk)
    except _READ_ERRORS as exc:
        raise DatasetError(f"'{name}': member '{info.filename}' cannot be read "
                           f"({type(exc).__name__}: {str(exc)[:120]})") from None
    return b"".join(chunks)


def open_zip(path: Path, roots: Sequence[Path] | None = None) -> ZipArchive:
    """A ZIP on disk, its members checked (count up to MAX_STREAMED_FILES, no zip bomb), none read yet."""
    try:
        with open_checked(path, roots) as file:
            _check_entry_count(file, path.name, limits.MAX_STREAMED_FILES)
            with zipfile.ZipFile(file) as archive:
                infos = _checked_members(archive, path.name, limits.MAX_STREAMED_FILES)
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
    entries, limit = end[zipfile._ECD_ENTRIES_TOTAL], limits.ZIP_ENTRIES_PER_FILE * max_files
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
        if info.file_size > limits.MAX_ZIP_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
            raise DatasetError(f"'{name}' looks like a zip bomb: '{info.filename}' expands "
                               f"{info.file_size / max(info.compress_size, 1):.0f}x")
    return infos


def _hidden(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)
