"""The one-file HTML report; `python -m components.report`.

The face of the package: the names other packages and the pages use, each imported from its module on first use (so
importing the face costs nothing)."""
from components import lazy_face

__getattr__, __dir__ = lazy_face(__name__, {
    "Chart": "build",
    "MAX_SAMPLES": "build",
    "ModelResult": "build",
    "ReportInput": "build",
    "compare_report": "build",
    "entry_facts": "build",
    "main": "build:main",
    "playground_report": "build",
})
