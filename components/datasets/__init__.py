"""Labelled sets: bundled, uploaded (ZIP / CSV) and streamed from a server path.

The face of the package: the names other packages and the pages use, each imported from its module on first use (so
importing the face costs nothing)."""
from components import lazy_face

__getattr__, __dir__ = lazy_face(__name__, {
    "Dataset": "containers",
    "DatasetError": "limits",
    "LabelledSet": "labelled",
    "MAX_STREAMED_FILES": "limits",
    "load_bundled": "bundled",
    "load_bundled_labelled": "labelled",
    "load_dataset": "loading",
    "load_labelled": "labelled",
    "load_labelled_upload": "labelled",
    "load_upload": "loading",
    "within": "paths",
})
