"""Runners, one module per task family. Importing this package registers every engine (timm style):
each module below calls ``registry.register_engine`` for the engines it serves (``runtimes.onnx``
registers the ONNX Runtime runtimes)."""
from components.models.runners import (  # noqa: F401  (imported for their registrations)
    architecture,
    image_classification,
    multimodal,
    ocr,
    speech,
    text,
)
from components.models.runtimes import onnx  # noqa: F401  (registers the onnx and onnx-int8 runtimes)
