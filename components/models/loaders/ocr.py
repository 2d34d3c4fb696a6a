"""OCR engine: RapidOCR (PP-OCRv4 detection + recognition on onnxruntime)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from components.core import CatalogEntry
from components.models.manager import LoadedModel


def load_rapidocr(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    import rapidocr_onnxruntime
    from rapidocr_onnxruntime import RapidOCR

    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    size = sum(f.stat().st_size for f in models.glob("*.onnx")) / 2**20
    # RapidOCR's detector stores per-call settings on itself: one call at a time.
    return LoadedModel(RapidOCR(), size, "cpu", "real", thread_safe=False)


def read_text(loaded: LoadedModel, image_rgb: Any) -> list[dict[str, Any]]:
    """Lines of text with their 4-point boxes and confidence."""
    result, _elapsed = loaded.model(image_rgb)
    return [{"box": [[float(x), float(y)] for x, y in box], "text": text, "score": float(score)}
            for box, text, score in (result or [])]
