"""Image explanations: class activation maps (Grad-CAM, Grad-CAM++, Score-CAM: ``explain_cam``) where the
engine is a torch module with gradients, occlusion sensitivity (``captum.attr.Occlusion``) where it is not.
The map is computed on the tensor the model saw (resized and centre-cropped by its own preprocessing), then
pasted back into the photo's own frame: a 2-D float array in [0, 1] of the photo's height x width, 0 where
the model saw nothing.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from components.models import CannotRun, ImageTransformExtras, ProcessorExtras, Runner

Progress = Callable[[float], None]
Box = tuple[float, float, float, float]  # left, top, right, bottom in the photo's pixels
CAM_METHODS = ("gradcam", "gradcam++", "scorecam")  # class activation maps (explain_cam): eager torch models
OCCLUSION_WINDOW = 5  # the occluding square is 1/5 of the model's input side, moved by half of that


@dataclass(frozen=True)
class ImageMap:
    """One map: ``heatmap`` in the photo's frame, ``model_map`` at the model's feature resolution."""

    heatmap: np.ndarray
    model_map: np.ndarray
    box: Box
    logits: Any  # the forward pass's output (1 x classes), for the top-5
    layer: str  # the class activation map's layer; "" for occlusion


def has_gradients(runner: Runner) -> bool:
    """Whether this runner's model is a torch module on a runtime that computes gradients."""
    import torch

    if not isinstance(runner.model, torch.nn.Module):
        return False
    try:
        with runner.runtime.context(gradients=True):
            return True
    except CannotRun:
        return False


def occlusion(runner: Runner, batch: Any, target: int | None) -> tuple[np.ndarray, Any]:
    """(map at the input's resolution, logits): the drop in the class's probability when a grey square
    (the normalised mean, 0) hides each place, slid over the input."""
    from captum.attr import Occlusion

    logits = runner.infer(batch)
    index = int(logits.argmax(-1)[0]) if target is None else target
    side = max(2, batch.shape[-1] // OCCLUSION_WINDOW)
    drops = Occlusion(lambda pixels: runner.infer(pixels).float().softmax(-1)).attribute(
        batch, sliding_window_shapes=(batch.shape[1], side, side), strides=(batch.shape[1], side // 2, side // 2),
        baselines=0.0, target=index, perturbations_per_eval=16)
    return drops[0].sum(0).float().cpu().numpy(), logits


def explain_pixels(runner: Runner, image: Any, target: int | None, method: str,
                   preprocessing: Runner | None = None, progress: Progress | None = None) -> ImageMap:
    """A class activation map (``explain_cam.CAM_METHODS``) or occlusion of ``runner``'s classifier on a PIL
    ``image``, in the photo's frame.

    ``preprocessing``: another runner whose input to use (the sanity check feeds a random-weights model
    exactly what the real one saw). ``progress``: called with the share done (Score-CAM's many passes).
    """
    from components.explain.cam import class_activation_map

    preprocessing = preprocessing or runner
    batch = preprocessing.preprocess(image)
    if method in CAM_METHODS:  # takes the model's locks itself: exclusive only while its hook is on
        if not has_gradients(runner):
            raise CannotRun(f"{runner.entry.name} runs on {runner.runtime.name}, which computes no "
                            "gradients and shows no inner layer: use occlusion")
        raw, logits, layer = class_activation_map(runner, batch, target, method, progress)
    else:
        with runner.loaded.in_use():  # occlusion only runs the model on altered inputs: no hooks
            (raw, logits), layer = occlusion(runner, batch, target), ""
    model_map = normalise(raw)
    box = seen_box(preprocessing.loaded.extras, image.width, image.height)
    return ImageMap(paste(model_map, box, image.width, image.height), model_map, box, logits, layer)


def normalise(raw: np.ndarray) -> np.ndarray:
    """Positive evidence only, scaled so the strongest place is 1 (all zeros stay zeros)."""
    positive = np.clip(np.nan_to_num(raw.astype(np.float32)), 0, None)
    peak = float(positive.max()) if positive.size else 0.0
    return positive / peak if peak > 0 else positive


def seen_box(extras: Any, width: int, height: int) -> Box:
    """The part of a ``width`` x ``height`` photo the model's preprocessing keeps (resize, centre crop)."""
    resize, crop = _resize_and_crop(extras)
    if resize is None or crop is None:
        return (0.0, 0.0, float(width), float(height))  # squashed to the input size: the whole photo
    scale = resize / min(width, height)
    crop_w, crop_h = min(crop[1] / scale, width), min(crop[0] / scale, height)
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    return (left, top, left + crop_w, top + crop_h)


def _resize_and_crop(extras: Any) -> tuple[int | None, tuple[int, int] | None]:
    """(shorter side after resizing, (crop height, crop width)); (None, None) for a squash to size."""
    if isinstance(extras, ImageTransformExtras) and extras.data_config is not None:  # timm
        config = extras.data_config
        size = tuple(config["input_size"][-2:])
        if config.get("crop_mode", "center") != "center":
            return None, None
        return math.floor(min(size) / config.get("crop_pct", 1.0)), size
    if isinstance(extras, ImageTransformExtras):  # torchvision's ImageClassification preset
        resize, crop = getattr(extras.transform, "resize_size", None), getattr(extras.transform, "crop_size", None)
        if resize and crop:
            return int(resize[0]), (int(crop[0]), int(crop[-1]))
    if isinstance(extras, ProcessorExtras) and getattr(extras.processor, "do_center_crop", False):
        size, crop = extras.processor.size, extras.processor.crop_size
        if "shortest_edge" in size:
            return int(size["shortest_edge"]), (int(crop["height"]), int(crop["width"]))
    return None, None  # processors that squash, random-weights architectures


def paste(model_map: np.ndarray, box: Box, width: int, height: int) -> np.ndarray:
    """``model_map`` stretched (bilinear) over ``box`` in a zero ``height`` x ``width`` frame."""
    import torch

    left, top, right, bottom = (int(round(v)) for v in box)
    frame = np.zeros((height, width), dtype=np.float32)
    if right <= left or bottom <= top:
        return frame
    stretched = torch.nn.functional.interpolate(torch.from_numpy(model_map)[None, None],
                                                size=(bottom - top, right - left), mode="bilinear",
                                                align_corners=False)[0, 0].clamp(0, 1).numpy()
    frame[top:bottom, left:right] = stretched
    return frame


def map_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps of one shape, as in Adebayo et al. (2018); 0 if one is flat."""
    from scipy.stats import spearmanr

    if a.shape != b.shape:
        raise ValueError(f"maps differ in shape: {a.shape} vs {b.shape}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a.ravel(), b.ravel()).statistic)

