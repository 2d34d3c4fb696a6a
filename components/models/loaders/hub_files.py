"""Checks of a local checkpoint (a Hub repo folder, a cache snapshot, a timm / torchvision weights file)
before an engine reads it, so an incomplete copy is named file by file instead of failing deep inside
transformers / timm / torch with a message about something else.

Nothing here imports an engine: only the files are read (a safetensors header is 8 bytes + JSON).
"""
from __future__ import annotations

import json
import os
import pickle
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# What ``hf download`` leaves in a repo folder, by role (any one of each group will do).
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model")
PREPROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")  # image processor / feature extractor
HINT = "copy the whole model folder again (every file `hf download` fetches)"
TORCH_FILE_HINT = "copy the file again (torchvision keeps its downloads in ~/.cache/torch/hub/checkpoints)"
# torch.load(weights_only=True) refusing what a pickle names: "Unsupported global: GLOBAL x was not an allowed
# global", "GLOBAL x whose module y is blocked", "Can only build Tensor ... or types allowlisted", "Can only create
# new object for nn.Parameter or classes allowlisted"
_REFUSED_OBJECT = re.compile(r"Weights only load failed.*(\bGLOBAL \S+ (was not an allowed global|whose module)"
                             r"|allowlisted)", re.DOTALL)


class IncompleteCheckpoint(ValueError):
    """A local checkpoint lacks a file or has a damaged one; the message names it."""


def _one_of(folder: Path, names: tuple[str, ...], role: str) -> Path:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise IncompleteCheckpoint(f"{folder} has no {role} file (expected one of: {', '.join(names)}); {HINT}")


def check_safetensors(path: Path) -> None:
    """Raise unless ``path`` is a whole safetensors file: its header's last tensor must end at the file's end."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as handle:
            (header_len,) = struct.unpack("<Q", handle.read(8))
            if header_len > size - 8:
                raise ValueError("header longer than the file")
            header = json.loads(handle.read(header_len))
        end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    except (struct.error, ValueError, KeyError, TypeError, IndexError) as exc:
        raise IncompleteCheckpoint(f"{path} is damaged or truncated (not a readable safetensors file: {exc}); "
                                   f"{HINT}") from None
    if 8 + header_len + end != size:
        raise IncompleteCheckpoint(f"{path} is damaged or truncated ({size:,} bytes; its header describes "
                                   f"{8 + header_len + end:,}); {HINT}")


def _check_weights_file(path: Path) -> None:
    if path.stat().st_size == 0:
        raise IncompleteCheckpoint(f"{path} is empty (0 bytes); {HINT}")
    if path.suffix == ".safetensors":
        check_safetensors(path)
    elif path.name.endswith(".index.json"):
        try:
            shards = sorted(set(json.loads(path.read_text(encoding="utf-8"))["weight_map"].values()))
        except (ValueError, KeyError, AttributeError) as exc:
            raise IncompleteCheckpoint(f"{path} is damaged (no readable weight_map: {exc}); {HINT}") from None
        for shard in shards:
            if not (path.parent / shard).is_file():
                raise IncompleteCheckpoint(f"{path.parent / shard} is missing (listed in {path.name}); {HINT}")
            _check_weights_file(path.parent / shard)


def check_hub_folder(where: str, *, tokenizer: bool = False, preprocessor: bool = False) -> None:
    """Raise IncompleteCheckpoint naming the first missing or damaged file of a transformers checkpoint.

    ``where`` may be a Hub repo id (not a folder): then transformers fetches and checks the files itself.
    """
    if not where or not os.path.isdir(where):
        return
    folder = Path(where)
    _one_of(folder, ("config.json",), "config")
    _check_weights_file(_one_of(folder, WEIGHT_FILES, "weights"))
    if tokenizer:
        _one_of(folder, TOKENIZER_FILES, "tokenizer")
    if preprocessor:
        _one_of(folder, PREPROCESSOR_FILES, "image processor / feature extractor")


def timm_weights_file(where: str) -> Path:
    """The weights file of a timm checkpoint: ``where`` itself, or the one in a Hub repo folder; checked."""
    path = Path(where)
    if path.is_dir():
        path = _one_of(path, ("model.safetensors", "pytorch_model.bin"), "timm weights")
    _check_weights_file(path)
    return path


def not_only_weights(path: str | os.PathLike) -> str:
    """Why a checkpoint whose pickle holds more than tensors (code, arbitrary objects) is not loaded."""
    return (f"{path} holds not only weights (its pickle names other objects, which could run code), so it was "
            "refused; use a checkpoint from a source you trust, preferably a .safetensors file")


def refused_pickle(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it: timm re-raises) is torch's weights-only unpickler refusing an object
    the pickle names (a global, a class to build). Its other errors (an unknown opcode, a pickle cut short) mean
    a damaged file, and so does any other UnpicklingError."""
    while exc is not None:
        if isinstance(exc, pickle.UnpicklingError) and _REFUSED_OBJECT.search(str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextmanager
def reading(path: str | os.PathLike, hint: str = HINT) -> Iterator[None]:
    """Name ``path`` in any error raised while an engine reads it (a torch file cut short, a wrong file)."""
    try:
        yield
    except IncompleteCheckpoint:
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        if refused_pickle(exc):
            raise IncompleteCheckpoint(not_only_weights(path)) from exc
        raise IncompleteCheckpoint(f"{path} could not be read as this model's weights: {type(exc).__name__}: "
                                   f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}; {hint}") from exc
