"""Adapt: features from a pre-trained backbone, a head on top, few-shot curves, export; `python -m components.adapt`.

The face of the package: the names other packages and the pages use, each imported from its module on first use (so
importing the face costs nothing)."""
from components import lazy_face

__getattr__, __dir__ = lazy_face(__name__, {
    "AdaptRun": "run",
    "adapt_backbones": "run",
    "classify": "run",
    "confusion_heatmap": "charts",
    "embedding_map": "heads",
    "embedding_scatter": "charts",
    "fewshot_chart": "charts",
    "file_name": "export",
    "head_bundle": "export",
    "main": "run:main",
    "per_class_bars": "charts",
    "row_label": "charts",
    "snippet": "export",
    "train_backbone": "run",
    "train_tfidf": "run",
})
