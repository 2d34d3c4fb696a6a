"""Image classifiers: EfficientNet-Lite from the offline pack, timm, torchvision, transformers."""
from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from components.core import CatalogEntry
from components.models.extras import ImageTransformExtras, ProcessorExtras
from components.models.loaders.hub_files import TORCH_FILE_HINT, check_hub_folder, reading, timm_weights_file
from components.models.manager import LoadedModel
from components.models.measure import module_size_mb


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class descriptions, in index order (they ship inside timm)."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return tuple(info.index_to_description(i) for i in range(1000))


def _eval_on(model: Any, device: str) -> Any:
    return model.eval().to(device)


def load_efficientnet_lite(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """timm's TF-padded EfficientNet-Lite with the packaged weights mapped by position.

    The packaged state dict uses another key naming, but every tensor matches timm's in order and
    shape, so ``strict=True`` loading by position is exact.
    """
    import timm
    import torch

    arch = entry.architecture.name if entry.architecture else f"tf_{entry.id}"
    module = importlib.import_module(entry.source.name.replace("-", "_"))
    file_class = next(getattr(module, n) for n in dir(module) if n.endswith("ModelFile"))
    state = torch.load(file_class.get_model_file_path(), map_location="cpu", weights_only=True)
    model = timm.create_model(arch, pretrained=False)
    target = model.state_dict()
    if len(state) != len(target):
        raise ValueError(f"packaged weights have {len(state)} tensors, {arch} expects {len(target)}")
    mapped = {}
    for (key, ref), value in zip(target.items(), state.values()):
        if ref.shape != value.shape:
            raise ValueError(f"shape mismatch at {key}: {tuple(value.shape)} vs {tuple(ref.shape)}")
        mapped[key] = value
    model.load_state_dict(mapped, strict=True)
    return _timm_loaded(model, device, "real")


def _timm_loaded(model: Any, device: str, weights: str) -> LoadedModel:
    from timm.data import create_transform, resolve_data_config

    config = resolve_data_config({}, model=model)
    return LoadedModel(_eval_on(model, device), module_size_mb(model), device, weights,
                       extras=ImageTransformExtras(create_transform(**config), imagenet_labels(), config))


def load_timm(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """A timm model with its pretrained weights: from ``weights_path`` when availability found them on this
    machine (a ``timm__<name>`` folder or the HF cache: the folder or its model.safetensors), else the Hub."""
    import timm

    if not weights_path:
        return _timm_loaded(timm.create_model(entry.source.name, pretrained=True), device, "real")
    path = timm_weights_file(weights_path)  # names a missing / truncated file before timm reads it
    with reading(path):
        model = timm.create_model(entry.source.name, pretrained=True, pretrained_cfg_overlay={"file": str(path)})
    return _timm_loaded(model, device, "real")


def load_torchvision(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """A torchvision classifier with its DEFAULT weights and their own transforms and labels."""
    from torchvision import models

    weights = models.get_model_weights(entry.source.name).DEFAULT
    if weights_path:  # the checkpoint file availability found (models folder or torch hub cache)
        with reading(weights_path, TORCH_FILE_HINT), _torchvision_reads(weights.url, weights_path):
            model = models.get_model(entry.source.name, weights=weights)
    else:
        with _torchvision_reads(weights.url, None):
            model = models.get_model(entry.source.name, weights=weights)
    return LoadedModel(_eval_on(model, device), module_size_mb(model), device, "real",
                       extras=ImageTransformExtras(weights.transforms(), tuple(weights.meta["categories"])))


_LOCAL_CHECKPOINTS = threading.local()  # url -> local file, for torchvision loads in this thread
_PATCH_LOCK = threading.Lock()


@contextmanager
def _torchvision_reads(url: str, path: str | None) -> Iterator[None]:
    """While a torchvision builder runs in this thread, read ``url``'s checkpoint from the file ``path``
    (``None``: torch.hub's own cache), always as weights only.

    torchvision's builders (with their per-model steps: DenseNet's key renaming, Inception's aux head…)
    only read ``$TORCH_HOME/hub/checkpoints/<file in the URL>``, through ``torch.hub.load_state_dict_from_url``
    whose default unpickles anything (``weights_only=False``: a crafted file runs code). A thread-local
    redirect lets them read a file the user put in a models folder, without touching the cache, the
    environment or other threads; every torchvision checkpoint is read with ``weights_only=True``.
    """
    import os

    from torchvision.models import _api

    with _PATCH_LOCK:
        if not getattr(_api.load_state_dict_from_url, "_reads_local_files", False):
            original = _api.load_state_dict_from_url

            def local_first(url: str, *args: Any, **kwargs: Any) -> Any:
                local = getattr(_LOCAL_CHECKPOINTS, "files", {}).get(url)
                if local is not None:  # torch.hub reads an existing file as is (no download, no hash check)
                    kwargs.update(model_dir=os.path.dirname(local), file_name=os.path.basename(local))
                kwargs["weights_only"] = True  # tensors only: a pickled payload is refused, never run
                return original(url, *args, **kwargs)

            local_first._reads_local_files = True  # type: ignore[attr-defined]
            _api.load_state_dict_from_url = local_first
    files = getattr(_LOCAL_CHECKPOINTS, "files", None)
    if files is None:
        files = _LOCAL_CHECKPOINTS.files = {}
    if path is None:
        yield
        return
    files[url] = str(path)
    try:
        yield
    finally:
        files.pop(url, None)


def load_transformers_vision(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """A transformers image classifier with its image processor."""
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    where = weights_path or entry.source.name
    check_hub_folder(where, preprocessor=True)
    model = AutoModelForImageClassification.from_pretrained(where)
    processor = AutoImageProcessor.from_pretrained(where)
    labels = tuple(model.config.id2label[i] for i in range(len(model.config.id2label)))
    return LoadedModel(_eval_on(model, device), module_size_mb(model), device, "real",
                       extras=ProcessorExtras(processor, labels))
