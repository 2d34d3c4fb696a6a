"""Checks and decoding of a set's samples: image headers, set totals (pixels, seconds), label characters, audio."""
from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable

import numpy as np

from components.core import InputError, check_image_size, load_audio
from components.datasets import limits
from components.datasets.limits import DatasetError

# Bidi overrides / isolates / marks and C0 / C1 controls: refused in labels (class names, CSV labels, transcripts)
_LABEL_FORBIDDEN = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_image_header(data: bytes, path: str, whole: Callable[[], bytes] | None = None) -> int:
    """The pixel count of an image that starts like one of sane size and shape (header only, no decode),
    else DatasetError. With ``whole``, ``data`` is only the file's first bytes: when its size is not found in
    them (a JPEG after a large EXIF block, a TIFF), ``whole()`` reads the file and it is checked again."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad files
        if whole is not None:
            return check_image_header(whole(), path)
        raise DatasetError(f"image '{path}' cannot be decoded ({type(exc).__name__}: {exc})") from None
    try:
        check_image_size(width, height, path)
    except InputError as exc:
        raise DatasetError(f"image {exc}") from None
    return width * height


def check_set_pixels(pixels: int, name: str) -> None:
    """Refuse an uploaded set whose images add up to more than MAX_SET_PIXELS (read from their headers)."""
    if pixels > limits.MAX_SET_PIXELS:
        raise DatasetError(f"'{name}': its images add up to more than {limits.MAX_SET_PIXELS / 1e6:,.0f} "
                           f"megapixels (the limit for a set); use fewer or smaller images")


def check_set_seconds(seconds: float, name: str) -> None:
    """Refuse a set whose clips add up to more than MAX_AUDIO_S."""
    if seconds > limits.MAX_AUDIO_S:
        raise DatasetError(f"'{name}' holds more than {limits.MAX_AUDIO_S / 60:.0f} minutes of audio "
                           f"(the limit for a set)")


def check_label_chars(label: str, where: str) -> str:
    """``label`` unless it holds control characters or bidirectional overrides (text that displays reordered)."""
    bad = next((c for c in label if c in _LABEL_FORBIDDEN or unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise DatasetError(f"{where}: label holds the invisible character U+{ord(bad):04X} (a control or "
                           f"bidirectional character); remove it")
    return label


def decode_audio(data: bytes, path: str) -> np.ndarray:
    """16 kHz mono float32, decoded exactly as the Speech playground decodes (components.core.inputs)."""
    try:
        return load_audio(data, path).data
    except InputError as exc:
        raise DatasetError(f"audio cannot be decoded: {exc}") from None
