"""Runners, one module per task family. Importing this package registers every engine (timm style):
each module below calls ``registry.register_engine`` for the engines it serves
(``onnx_runtime`` registers the ONNX Runtime runtimes)."""
from components.runners import (  # noqa: F401  (imported for their registrations)
    architecture,
    image_classification,
    multimodal,
    ocr,
    onnx_runtime,
    speech,
    text,
)
