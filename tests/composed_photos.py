"""The composed test photo of the explanation tests: chelsea (cat) on the left half, coffee on the right."""
from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 224  # each photo fills a SIDE x 2 SIDE half: the model's centre crop keeps most of both


def portrait(image: Image.Image) -> Image.Image:
    """The photo's centre, cropped to 1:2 (width:height) and scaled to SIDE x 2 SIDE."""
    width, height = image.size
    crop_w = min(width, height / 2)
    left = (width - crop_w) / 2
    return image.crop((left, 0, left + crop_w, height)).resize((SIDE, 2 * SIDE))


def cat_left_coffee_right(chelsea: Image.Image, coffee: Image.Image) -> Image.Image:
    both = Image.new("RGB", (2 * SIDE, 2 * SIDE))
    both.paste(portrait(chelsea), (0, 0))
    both.paste(portrait(coffee), (SIDE, 0))
    return both


def left_share(heatmap: np.ndarray) -> float:
    """The share of a heatmap's mass on the left (cat) half."""
    return float(heatmap[:, :SIDE].sum() / heatmap.sum())
