"""A folder on the server's disk as a set's files: names listed once (up to MAX_STREAMED_FILES), each file read
when it is used."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from components.datasets import limits
from components.datasets.containers import NamedFiles
from components.datasets.limits import DatasetError
from components.datasets.paths import read_file, within


class FileBlobs(Sequence):
    """The bytes of files on disk, read on access (only the paths are held); with ``roots``, a file must
    still lie inside them when it is read."""

    def __init__(self, paths: Sequence[Path], roots: Sequence[Path] | None = None) -> None:
        self._paths, self._roots = list(paths), roots

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, index: int) -> bytes:
        return read_file(self._paths[index], self._roots)


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
            if len(names) > limits.MAX_STREAMED_FILES:
                raise DatasetError(f"'{root}' holds more than {limits.MAX_STREAMED_FILES} files; "
                                   f"the limit for a folder is {limits.MAX_STREAMED_FILES}")
        if not names:
            raise DatasetError(f"'{root}' holds no files")
        self._names, self._known = tuple(sorted(names)), frozenset(names)

    def head(self, name: str, size: int) -> bytes:
        return read_file(self.root / name, self.roots, size)

    def _read(self, name: str) -> bytes:
        return read_file(self.root / name, self.roots)

    def paths(self, names: Sequence[str]) -> FileBlobs:
        return FileBlobs([self.root / name for name in names], self.roots)
