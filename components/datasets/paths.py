"""Files of a set on the server's disk: the shared-folder policy (``within``, ``open_checked``) and reads that
check a file's size before reading it."""
from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from components.datasets import limits
from components.datasets.limits import DatasetError, check_file_size


def within(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path``, symlinks resolved, lies inside one of ``roots``."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(Path(root).resolve()) for root in roots)


def open_checked(path: Path, roots: Sequence[Path] | None = None) -> BinaryIO:
    """``path`` opened for reading. With ``roots``, it is resolved and checked again now (a file swapped for a
    symlink since the set was listed) and opened with O_NOFOLLOW, so a link made after the check is refused."""
    if roots is None:
        return path.open("rb")
    real = path.resolve()
    if not within(real, roots):
        raise DatasetError(f"'{path}' now lies outside the folders this server shares")
    return os.fdopen(os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")


def read_file(path: Path, roots: Sequence[Path] | None = None, size: int = -1) -> bytes:
    """A user's dataset file (or one sample of a streamed set), at most MAX_FILE_BYTES (checked before
    reading); with ``size``, only its first ``size`` bytes. A DatasetError says why it cannot be read."""
    try:
        with open_checked(path, roots) as file:
            check_file_size(os.fstat(file.fileno()).st_size, path.name)
            return file.read(size)
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from None


def read_whole(path: Path, roots: Sequence[Path] | None = None) -> bytes:
    """A dataset file read whole (a CSV, a ZIP for a task that does not stream): a regular file of at most
    MAX_ZIP_BYTES, checked before reading."""
    try:
        info = path.stat()
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise DatasetError(f"'{path}' is neither a file nor a folder")
    if info.st_size > limits.MAX_ZIP_BYTES:
        raise DatasetError(f"'{path.name}' is {info.st_size / 2**20:.0f} MB; a file read whole (a CSV) may be at "
                           f"most {limits.MAX_ZIP_BYTES / 2**20:.0f} MB (folders and ZIPs of images or audio are "
                           f"streamed)")
    return read_file(path, roots)
