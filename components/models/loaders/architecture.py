"""Build a catalog architecture offline with random weights (timm, torchvision, transformers configs).

Used to measure a model's cost (latency, memory, params, FLOPs) when its weights are not here.
"""
from __future__ import annotations

from typing import Any

from components.core import Architecture, CatalogEntry
from components.models.extras import ArchitectureExtras
from components.models.manager import LoadedModel
from components.models.measure import module_size_mb

TORCHVISION_INPUT = {"inception_v3": 299}


def build_architecture(arch: Architecture) -> tuple[Any, dict[str, Any]]:
    """(module in eval mode, input spec) for an architecture, with random weights, no download."""
    import torch

    torch.manual_seed(0)
    if arch.library == "timm":
        import timm
        from timm.data import resolve_data_config

        model = timm.create_model(arch.name, pretrained=False, **arch.overrides)
        size = resolve_data_config({}, model=model)["input_size"][-1]
        return model.eval(), {"kind": "pixels", "size": size}
    if arch.library == "torchvision":
        from torchvision import models

        model = models.get_model(arch.name, weights=None, **arch.overrides)
        return model.eval(), {"kind": "pixels", "size": TORCHVISION_INPUT.get(arch.name, 224)}
    import transformers

    config = getattr(transformers, arch.name)(**arch.overrides)
    model = getattr(transformers, arch.model_class)(config)
    return model.eval(), _transformers_input_spec(model, config)


def _transformers_input_spec(model: Any, config: Any) -> dict[str, Any]:
    main = getattr(model, "main_input_name", "input_ids")
    text_config = getattr(config, "text_config", config)
    spec: dict[str, Any] = {"kind": main, "vocab_size": getattr(text_config, "vocab_size", 30522)}
    if getattr(config, "is_encoder_decoder", False):
        spec["decoder_start"] = getattr(config, "decoder_start_token_id", None) or 0
    if hasattr(config, "vision_config") and hasattr(config, "text_config"):
        spec["pixels"] = getattr(config.vision_config, "image_size", 224)
    if main == "pixel_values":
        vision = getattr(config, "vision_config", config)
        spec["size"] = getattr(vision, "image_size", 224)
    if main == "input_features":
        spec["mel_bins"] = getattr(config, "num_mel_bins", 80)
    return spec


def load_architecture(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    if entry.architecture is None:
        raise ValueError(f"{entry.name} has no architecture to build")
    model, spec = build_architecture(entry.architecture)
    model = model.to(device)
    return LoadedModel(model, module_size_mb(model), device, "random", extras=ArchitectureExtras(spec))
