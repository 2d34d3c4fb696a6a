"""Class activation maps: Grad-CAM, Grad-CAM++ and Score-CAM on the last spatial feature map of CNNs and of
vision transformers (ViT, DeiT, Swin), through Captum.

Captum's layer methods read a layer's output as (batch, channels, height, width): its Grad-CAM averages the
gradients over dims 2+ and sums over dim 1. A ViT's tokens (batch, tokens, channels) or a Swin stage's
channels-last map (batch, height, width, channels) would be averaged over the wrong axis. So Captum is pointed at
a ``FeatureTap``: an identity module that a forward hook on the chosen layer routes the layer's output through,
laid out as (B, C, H, W) (ViT / DeiT: the prefix tokens dropped, the patch tokens put back on their grid; Swin:
permuted), then turned back into the layer's own layout for the rest of the forward pass. A hook, not a wrapper
module swapped into the model: the model is shared by every run (the model manager's cache), so it is never
changed; the hook lives only while the layer is read, under the model's exclusive ``hooked()`` lock. Score-CAM's
many masked passes need no hook: they run after it is removed, under the shared ``in_use()`` lock, so other
sessions' runs of the model go on meanwhile.

On the tap, Captum computes: Grad-CAM (``LayerGradCam``); the layer gradients for Grad-CAM++
(``LayerGradientXActivation`` with ``multiply_by_inputs=False``), the tap keeping the activations of that same
pass; the activations for Score-CAM (``LayerActivation``). Captum 0.9 has no Grad-CAM++ or Score-CAM, and the
``grad-cam`` package was not taken (it requires opencv-python-headless beside our opencv-python, and ttach), so
the two formulas are here:

- Grad-CAM++ (Chattopadhay et al., WACV 2018), closed-form alpha for the class score S:
  alpha_kij = g^2 / (2 g^2 + sum_ab A_kab g^3), g = dS/dA_kij; w_k = sum_ij alpha_kij relu(g);
  map = relu(sum_k w_k A_k).
- Score-CAM (Wang et al., CVPRW 2020, as the authors' code): every channel's map, upsampled to the input and
  min-max normalised, masks the input; its weight is the softmax probability of the class on the masked input;
  map = relu(sum_k w_k A_k). Channels with no spatial variation are skipped, as there (a zero channel adds
  nothing).
  One forward pass per channel, batched: far slower than the gradient methods.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from components.models import CannotRun, Runner

SCORE_CAM_BATCH_CPU = 4  # masked inputs per forward pass; on CPU, batches of 8+ cost more per image (measured)
SCORE_CAM_BATCH_ACCELERATOR = 64
TOKEN_MODULES = 12  # more modules than this after the last feature map: a token model no rule below knows
_LAYERS: weakref.WeakKeyDictionary[Any, FeatureLayer] = weakref.WeakKeyDictionary()
Progress = Callable[[float], None]


@dataclass(frozen=True)
class FeatureLayer:
    """Where the map is read and how the layer lays it out."""

    name: str  # the module's name in the model
    layout: str  # "nchw" (CNNs), "nhwc" (Swin stages), "tokens" (ViT / DeiT: B, prefix + patches, C)
    prefix: int = 0  # tokens: class / distillation / register tokens before the patches
    patch: tuple[int, int] = (1, 1)  # tokens: input pixels per patch (the grid is the input size / patch)


def feature_layer(model: Any, batch: Any) -> FeatureLayer:
    """The layer to explain: per transformer family a named layer, for CNNs the last feature map.

    - timm ViT / DeiT (``VisionTransformer`` and subclasses): the last block's ``norm1``, as pytorch-grad-cam's
      docs recommend: with a class-token head, the last block's own output gives the patch tokens no gradient;
      its ``num_prefix_tokens`` (class, distillation, registers) are dropped;
    - torchvision ViT: the last encoder layer's ``ln_1`` (one class token); transformers ViT / DeiT: the last
      layer's ``layernorm_before`` (one class token; DeiT two);
    - Swin (timm ``layers``, torchvision ``features``): the last stage, channels-last;
    - CNNs: the last module whose output is a (B, C, H, W) map with H, W > 1 (``cnn_layer``).
    """
    if model not in _LAYERS:
        _LAYERS[model] = _transformer_layer(model) or FeatureLayer(cnn_layer(model, batch), "nchw")
    return _LAYERS[model]


def _transformer_layer(model: Any) -> FeatureLayer | None:
    kind, library = type(model).__name__, type(model).__module__.split(".")[0]
    if library == "timm" and hasattr(model, "num_prefix_tokens") and hasattr(model, "blocks"):
        return FeatureLayer(_last(model, "blocks") + ".norm1", "tokens", int(model.num_prefix_tokens),
                            _pair(model.patch_embed.patch_size))
    if library == "timm" and kind.startswith("SwinTransformer"):
        return FeatureLayer(_last(model, "layers"), "nhwc")
    if library == "torchvision" and kind == "VisionTransformer":
        return FeatureLayer(_last(model, "encoder.layers") + ".ln_1", "tokens", 1, _pair(model.patch_size))
    if library == "torchvision" and kind == "SwinTransformer":
        return FeatureLayer(_last(model, "features"), "nhwc")
    config = getattr(model, "config", None)
    if library == "transformers" and getattr(config, "model_type", "") in ("vit", "deit"):
        norms = [name for name, _ in model.named_modules() if name.endswith(".layernorm_before")]
        return FeatureLayer(norms[-1], "tokens", 2 if config.model_type == "deit" else 1, _pair(config.patch_size))
    return None


def _last(model: Any, path: str) -> str:
    """The full name of the last child of the container at ``path`` (``blocks`` -> ``blocks.11``)."""
    return f"{path}.{list(model.get_submodule(path).named_children())[-1][0]}"


def _pair(size: Any) -> tuple[int, int]:
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def cnn_layer(model: Any, batch: Any) -> str:
    """The last module (in execution order) whose output is a feature map with height and width > 1.

    Per architecture this is EfficientNet's ``bn2`` (conv head + BN + ReLU6), ResNet's ``layer4``, DenseNet's and
    MobileNet's ``features``, VGG's ``avgpool`` (7 x 7), ConvNeXt's ``norm_pre``: the last place that still knows
    *where*. Token models no rule knows have none: CannotRun. Found by one traced forward pass per model.
    """
    finished: list[tuple[str, bool]] = []  # (module, whether its output is a feature map), in finishing order
    names = {module: name for name, module in model.named_modules() if name}

    def record(module: Any, _inputs: Any, output: Any) -> None:
        if torch.is_tensor(output):
            finished.append((names[module], output.dim() == 4 and min(output.shape[-2:]) > 1))

    hooks = [module.register_forward_hook(record) for module in names]
    try:
        with torch.no_grad():
            model(batch)
    finally:
        for hook in hooks:
            hook.remove()
    maps = [i for i, (_, spatial) in enumerate(finished) if spatial]
    if not maps or len(finished) - maps[-1] > TOKEN_MODULES:  # ViT-like: the map is only the patch embedding
        raise CannotRun("class activation maps need a feature map; this model works on tokens: use occlusion")
    return finished[maps[-1]][0]


class FeatureTap(torch.nn.Module):
    """Identity in value: the layer's output as (B, C, H, W), for Captum; keeps what it last saw."""

    def __init__(self, layer: FeatureLayer, size: tuple[int, int]) -> None:
        super().__init__()
        self.layer = layer
        self.grid = (size[0] // layer.patch[0], size[1] // layer.patch[1])
        self.seen: torch.Tensor | None = None

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        self.seen = grid.detach()
        return grid

    def route(self, _module: Any, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        """Forward hook on the layer: its output through the tap and back into its own layout."""
        layout = self.layer.layout
        if layout == "nchw":
            return self(output)
        if layout == "nhwc":
            return self(output.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        prefix, (rows, cols) = self.layer.prefix, self.grid
        batch, tokens, channels = output.shape
        if tokens - prefix != rows * cols:
            raise CannotRun(f"{tokens} tokens are not {prefix} prefix tokens + a {rows} x {cols} patch grid")
        patches = output[:, prefix:].reshape(batch, rows, cols, channels).permute(0, 3, 1, 2)
        back = self(patches).permute(0, 2, 3, 1).reshape(batch, rows * cols, channels)
        return torch.cat([output[:, :prefix], back], dim=1)


@contextmanager
def tapped(model: Any, layer: FeatureLayer, size: tuple[int, int]) -> Iterator[FeatureTap]:
    """A tap routed into ``layer`` of ``model`` for the duration of the block."""
    tap = FeatureTap(layer, size)
    handle = model.get_submodule(layer.name).register_forward_hook(tap.route)
    try:
        yield tap
    finally:
        handle.remove()


def class_activation_map(runner: Runner, batch: Any, target: int | None, method: str,
                         progress: Progress | None = None) -> tuple[np.ndarray, Any, str]:
    """(map at the feature layer's resolution, logits, layer name) for class ``target`` (None: the top class)."""
    from captum.attr import LayerActivation, LayerGradCam, LayerGradientXActivation

    if method not in ("gradcam", "gradcam++", "scorecam"):
        raise ValueError(f"not a class activation map: {method}")
    outputs: list[Any] = []

    def score(pixels: Any) -> Any:  # the explained class's logit: one forward and one backward pass
        logits = runner.infer(pixels, gradients=True)
        outputs.append(logits.detach())
        index = torch.full((logits.shape[0], 1), target) if target is not None else logits.argmax(1, keepdim=True)
        return logits.gather(1, index.to(logits.device))

    def logits_of(pixels: Any) -> Any:
        outputs.append(runner.infer(pixels))
        return outputs[-1]

    with runner.loaded.hooked():  # hooks on a shared module: no run of this model meanwhile
        layer = feature_layer(runner.model, batch)  # a traced pass with hooks, once per model
        with tapped(runner.model, layer, tuple(batch.shape[-2:])) as tap:
            if method == "gradcam":
                cam = LayerGradCam(score, tap).attribute(batch, target=0, relu_attributions=True)[0, 0]
            elif method == "gradcam++":
                gradients = LayerGradientXActivation(score, tap, multiply_by_inputs=False).attribute(batch, target=0)
                cam = grad_cam_plus_plus(tap.seen.float(), gradients.float())[0]
            else:
                activations = LayerActivation(logits_of, tap).attribute(batch)
    if method == "scorecam":  # the hook is off: the masked passes are plain runs, beside other sessions' runs
        index = int(outputs[0].argmax(-1)[0]) if target is None else target
        with runner.loaded.in_use():
            cam = score_cam(runner, batch, activations.float(), index, progress)
    return cam.detach().float().cpu().numpy(), outputs[0], layer.name


def grad_cam_plus_plus(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Chattopadhay et al. (2018)'s map (B, H, W) from a layer's activations and the score's gradients."""
    squared = gradients.pow(2)
    denominator = 2 * squared + activations.sum(dim=(2, 3), keepdim=True) * gradients.pow(3)
    alpha = torch.where(denominator != 0, squared / torch.where(denominator != 0, denominator, 1.0), 0.0)
    weights = (alpha * gradients.clamp(min=0)).sum(dim=(2, 3), keepdim=True)
    return (weights * activations).sum(1).clamp(min=0)


def score_cam_batch(device_type: str) -> int:
    """Masked inputs per Score-CAM forward pass on a device of this type."""
    return SCORE_CAM_BATCH_CPU if device_type == "cpu" else SCORE_CAM_BATCH_ACCELERATOR


def score_cam(runner: Runner, batch: Any, activations: torch.Tensor, target: int,
              progress: Progress | None = None) -> torch.Tensor:
    """Wang et al. (2020)'s map (H, W) for one input: each channel weighted by the class's probability on the
    input masked by that channel's normalised, upsampled map."""
    maps = activations[0]
    low, high = maps.amin(dim=(1, 2)), maps.amax(dim=(1, 2))
    varied = torch.nonzero(high > low).flatten()
    weights = torch.zeros(maps.shape[0], dtype=maps.dtype, device=maps.device)
    per_pass = score_cam_batch(batch.device.type)
    for start in range(0, len(varied), per_pass):
        channels = varied[start:start + per_pass]
        masks = torch.nn.functional.interpolate(maps[channels][:, None], size=tuple(batch.shape[-2:]),
                                                mode="bilinear", align_corners=False)
        lows, highs = masks.amin(dim=(2, 3), keepdim=True), masks.amax(dim=(2, 3), keepdim=True)
        masks = (masks - lows) / (highs - lows).clamp(min=1e-12)
        probabilities = runner.infer(batch * masks.to(batch.dtype)).float().softmax(-1)[:, target]
        weights[channels] = probabilities.to(weights.dtype)
        if progress is not None:
            progress(min(1.0, (start + len(channels)) / max(len(varied), 1)))
    return (weights[:, None, None] * maps).sum(0).clamp(min=0)
