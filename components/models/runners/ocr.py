"""OCR runner: image in, text lines with boxes out."""
from __future__ import annotations

from typing import Any

import numpy as np

from components.core import OCR
from components.models.loaders.ocr import load_rapidocr, read_text
from components.models.registry import register_engine
from components.models.runners.base import InputError, Runner


class OCRRunner(Runner):
    task = OCR

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        if isinstance(inputs, list):  # the benchmark's batches: its throughput stops at one image per call
            raise InputError(f"{self.entry.name} reads one image at a time.")
        return np.asarray(inputs.convert("RGB"))

    def forward(self, batch: Any) -> Any:
        return read_text(self.loaded, batch)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        return {"lines": outputs, "text": "\n".join(line["text"] for line in outputs)}


register_engine("rapidocr", load_rapidocr, {OCR: OCRRunner}, own_runtime="ONNX Runtime (RapidOCR)")
