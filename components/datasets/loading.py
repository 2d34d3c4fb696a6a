"""The entry points of a Compare set: bundled, uploaded (bytes) or named by a path (a folder or ZIP on disk is
*streamed*: the set keeps file paths or member names, and each sample is read and decoded when a runner asks
for it, a batch or a shard at a time, so thousands of samples never sit decoded in memory).

Every defect in an upload (not a zip, a zip bomb, missing columns, an undecodable file, an unknown class name)
raises :class:`DatasetError` with one line a user can act on. Nothing is extracted to disk: ZIP members are read
into memory after their declared sizes pass the limits."""
from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from components.core import evaluation_tasks, get_task
from components.datasets.bundled import load_bundled
from components.datasets.containers import Dataset
from components.datasets.csv_sets import PARSERS, decode_text
from components.datasets.folders import FolderFiles
from components.datasets.limits import DatasetError
from components.datasets.media_sets import STREAM_READERS, ZIP_READERS
from components.datasets.paths import read_whole, within
from components.datasets.zips import open_zip, read_zip


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


def _streamable(task: str) -> bool:
    evaluation = get_task(task).evaluation
    return evaluation is not None and evaluation.format in STREAM_READERS


def load_folder(task: str, root: Path, roots: Sequence[Path] | None = None) -> Dataset:
    """A folder laid out like the task's ZIP upload, streamed from disk (up to MAX_STREAMED_FILES files)."""
    evaluation = get_task(task).evaluation
    if not _streamable(task):
        wanted = evaluation.upload if evaluation else "a labelled set"
        raise DatasetError(f"'{root}' is a folder; {task} needs {wanted}")
    members = FolderFiles(root, roots)
    return STREAM_READERS[evaluation.format](task, root.name, members)


def load_zip_file(task: str, path: Path, roots: Sequence[Path] | None = None) -> Dataset:
    """A ZIP on disk, checked like an upload, streamed member by member (up to MAX_STREAMED_FILES files)."""
    return STREAM_READERS[get_task(task).evaluation.format](task, path.name, open_zip(path, roots))


def load_upload(task: str, name: str, data: bytes) -> Dataset:
    """Validate and load an uploaded evaluation set for ``task``."""
    evaluation = get_task(task).evaluation
    if evaluation is None:
        raise DatasetError(f"{task} has no labelled evaluation; tasks that do: {', '.join(evaluation_tasks())}")
    if not data:
        raise DatasetError(f"'{name}' is empty")
    is_zip = data[:4] == b"PK\x03\x04"
    if evaluation.format in ZIP_READERS:
        if not is_zip:
            raise DatasetError(f"'{name}' is not a ZIP file; {task} needs {evaluation.upload}")
        return ZIP_READERS[evaluation.format](task, name, read_zip(data, name))
    if is_zip:
        raise DatasetError(f"'{name}' is a ZIP file; {task} needs {evaluation.upload}")
    return PARSERS[evaluation.format](task, name, decode_text(data, name))
