"""Sets of media files laid out like the ZIP uploads, from a ZIP's members or a folder's files: class-named
folders of images, audio clips with a transcripts.csv."""
from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import PurePosixPath

from components.core import SAMPLE_RATE
from components.datasets import limits
from components.datasets.containers import AudioFiles, Dataset, ImageFiles, MemberBlobs, NamedFiles
from components.datasets.csv_sets import decode_text, read_csv
from components.datasets.decoding import (
    check_image_header,
    check_label_chars,
    check_set_pixels,
    check_set_seconds,
    decode_audio,
)
from components.datasets.folders import FolderFiles
from components.datasets.imagenet import imagenet_indices
from components.datasets.limits import IMAGE_EXTENSIONS, DatasetError


def image_folders(task: str, name: str, members: Mapping[str, bytes], streamed: bool = False) -> Dataset:
    """Class-named image folders. Only each image's header is read here (size, aspect ratio and, in memory,
    the set's total pixels; streamed, only the file's first HEADER_BYTES where they hold it); a file that then
    fails to decode fails its row, with its name."""
    ids, labels, pixels = [], [], 0
    for path in sorted(members):
        pure = PurePosixPath(path)
        if pure.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if len(pure.parts) < 2:
            raise DatasetError(f"'{name}': image '{path}' is not inside a class folder "
                               f"(expected <class name>/<image>)")
        pixels += _image_pixels(members, path)
        if not streamed:
            check_set_pixels(pixels, name)
        ids.append(path)
        labels.append(imagenet_indices(check_label_chars(pure.parent.name, f"'{name}': folder")))
    if not ids:
        raise DatasetError(f"'{name}' holds no images ({', '.join(IMAGE_EXTENSIONS)}) in class folders")
    blobs = members.paths(ids) if isinstance(members, FolderFiles) else MemberBlobs(members, ids)
    return Dataset(task, name, tuple(ids), ImageFiles(blobs, ids), tuple(labels))


def _image_pixels(members: Mapping[str, bytes], path: str) -> int:
    """An image's pixel count from its header: of a file on disk or a member of a ZIP on disk, only its first
    bytes are read unless the header lies beyond them."""
    if isinstance(members, NamedFiles):
        return check_image_header(members.head(path, limits.HEADER_BYTES), path, partial(members.__getitem__, path))
    return check_image_header(members[path], path)


def transcripts(task: str, name: str, members: Mapping[str, bytes], streamed: bool = False) -> Dataset:
    """Audio files with a transcripts.csv. In memory, clips are decoded here (and the total duration is
    capped); streamed, each clip is decoded when a runner asks for it."""
    csv_paths = [p for p in members if PurePosixPath(p).name.lower() == "transcripts.csv"]
    if len(csv_paths) != 1:
        problem = "has no" if not csv_paths else "has more than one"
        raise DatasetError(f"'{name}' {problem} transcripts.csv (columns file,transcript)")
    rows = read_csv(decode_text(members[csv_paths[0]], csv_paths[0]), "transcripts.csv",
                    ("file", "transcript"))
    folder = PurePosixPath(csv_paths[0]).parent
    by_name = {PurePosixPath(p).name: p for p in members}
    ids, paths, clips, labels = [], [], [], []
    total_s = 0.0
    for row in rows:
        path = str(folder / row["file"])
        if path not in members:
            path = by_name.get(PurePosixPath(row["file"]).name)
        if path is None:
            raise DatasetError(f"'{name}': transcripts.csv lists '{row['file']}' but the set has no such file")
        ids.append(row["file"])
        paths.append(path)
        labels.append(check_label_chars(row["transcript"], f"'{name}': transcript of '{row['file']}'"))
        if streamed:
            continue
        audio = decode_audio(members[path], path)
        total_s += len(audio) / SAMPLE_RATE
        check_set_seconds(total_s, name)
        clips.append(audio)
    if streamed:
        blobs = members.paths(paths) if isinstance(members, FolderFiles) else MemberBlobs(members, paths)
        return Dataset(task, name, tuple(ids), AudioFiles(blobs, paths), tuple(labels))
    return Dataset(task, name, tuple(ids), clips, tuple(labels))


# Per evaluation format (components.core.tasks): how a ZIP's members become a Dataset, in memory or streamed.
ZIP_READERS = {"image-folders": image_folders, "transcripts": transcripts}
STREAM_READERS = {fmt: partial(reader, streamed=True) for fmt, reader in ZIP_READERS.items()}
