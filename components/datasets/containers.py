"""The containers of a set: :class:`Dataset`, and the lazy sequences and mappings behind its inputs (files
named by a path or a ZIP member, each read and decoded only when a runner asks for it)."""
from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.core import get_task
from components.datasets.decoding import decode_audio
from components.datasets.limits import DatasetError


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

    def head(self, name: str, size: int) -> bytes:
        """The first ``size`` bytes of ``name`` (its size checked, the rest not read)."""
        raise NotImplementedError

    def _read(self, name: str) -> bytes:
        raise NotImplementedError


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
