"""Runners, one module per task family. Importing this package registers every engine (timm style):
each module below calls ``registry.register_engine`` for the engines it serves."""
from components.runners import (  # noqa: F401  (imported for their registrations)
    architecture,
    image_classification,
    multimodal,
    ocr,
    speech,
    text,
)
