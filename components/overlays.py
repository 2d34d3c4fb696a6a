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
