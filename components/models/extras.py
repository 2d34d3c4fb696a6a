"""What each engine's loader hands its runner beside the model: one small typed record per engine kind.

Kept apart from the engines (no imports) so the UI can read, e.g., the transform a model used
without importing torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImageTransformExtras:
    """timm / torchvision classifiers: their own preprocessing and class names."""

    transform: Any  # PIL image -> CHW tensor
    labels: tuple[str, ...]
    data_config: dict[str, Any] | None = None  # timm's resolved mean / std / crop (for "what the model saw")


@dataclass(frozen=True)
class ProcessorExtras:
    """transformers models with a processor (ViT, CLIP, BLIP…); labels for classifiers."""

    processor: Any
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenizerExtras:
    """transformers text models; classifiers also carry their labels (the runtime may not keep the config)."""

    tokenizer: Any
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class CTranslate2Extras:
    compute_type: str  # "int8" on CPU, "float16" on CUDA


@dataclass(frozen=True)
class ArchitectureExtras:
    """Random-weights architectures: what input to build for them."""

    input_spec: dict[str, Any]


Extras = ImageTransformExtras | ProcessorExtras | TokenizerExtras | CTranslate2Extras | ArchitectureExtras
