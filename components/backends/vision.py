"""Image classifiers: EfficientNet-Lite from the offline pack, timm, torchvision, transformers."""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from components.catalog import CatalogEntry
from components.measure import module_size_mb
from components.model_manager import LoadedModel


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
                       extras={"transform": create_transform(**config), "data_config": config,
                               "labels": imagenet_labels()})


def load_timm(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """A timm model with its pretrained weights (downloads when online, else from the HF cache)."""
    import timm

    model = timm.create_model(entry.source.name, pretrained=True)
    return _timm_loaded(model, device, "real")


def load_torchvision(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """A torchvision classifier with its DEFAULT weights and their own transforms and labels."""
    from torchvision import models

    weights = models.get_model_weights(entry.source.name).DEFAULT
    model = models.get_model(entry.source.name, weights=weights)
    return LoadedModel(_eval_on(model, device), module_size_mb(model), device, "real",
                       extras={"transform": weights.transforms(),
                               "labels": tuple(weights.meta["categories"])})


def load_transformers_vision(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """A transformers image classifier with its image processor."""
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    where = weights_path or entry.source.name
    model = AutoModelForImageClassification.from_pretrained(where)
    processor = AutoImageProcessor.from_pretrained(where)
    labels = tuple(model.config.id2label[i] for i in range(len(model.config.id2label)))
    return LoadedModel(_eval_on(model, device), module_size_mb(model), device, "real",
                       extras={"processor": processor, "labels": labels})
