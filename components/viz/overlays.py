"""Drawings on images: OCR boxes, and the tensor a vision model actually saw."""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw


def draw_ocr_boxes(image: Image.Image, lines: list[dict[str, Any]]) -> Image.Image:
    """A copy of the image with each detected text box outlined and numbered."""
    canvas = image.convert("RGB").copy()
    draw = ImageDraw.Draw(canvas)
    width = max(2, round(max(canvas.size) / 300))
    for number, line in enumerate(lines, start=1):
        points = [tuple(p) for p in line["box"]]
        draw.polygon(points, outline=(220, 38, 38), width=width)
        draw.text((points[0][0], max(0, points[0][1] - 14)), str(number), fill=(220, 38, 38))
    return canvas


def tensor_to_image(pixels: Any, mean: tuple[float, ...], std: tuple[float, ...]) -> Image.Image:
    """Undo normalisation of a CHW tensor so a person can see the model's input."""
    arr = np.asarray(pixels.detach().cpu().float()).transpose(1, 2, 0)
    arr = arr * np.asarray(std) + np.asarray(mean)
    return Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))


_HEAT_COLOURS = np.array([(48, 18, 59), (70, 134, 251), (27, 229, 181), (164, 252, 60), (251, 185, 56),
                          (225, 68, 12), (122, 4, 3)], dtype=np.float32)  # turbo, dark blue -> dark red


def heatmap_overlay(image: Image.Image, heatmap: np.ndarray, opacity: float) -> Image.Image:
    """The photo with a heatmap (H x W in [0, 1], the photo's size) blended over it at ``opacity``;
    weak places are left almost clear so the photo still reads."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    heat = np.clip(np.asarray(heatmap, dtype=np.float32), 0, 1)
    if heat.shape != rgb.shape[:2]:
        raise ValueError(f"heatmap {heat.shape} does not match the image {rgb.shape[:2]}")
    position = heat * (len(_HEAT_COLOURS) - 1)
    low = np.floor(position).astype(int).clip(0, len(_HEAT_COLOURS) - 2)
    colours = _HEAT_COLOURS[low] + (position - low)[..., None] * (_HEAT_COLOURS[low + 1] - _HEAT_COLOURS[low])
    alpha = (opacity * np.sqrt(heat))[..., None]
    return Image.fromarray((rgb * (1 - alpha) + colours * alpha).clip(0, 255).astype(np.uint8))
