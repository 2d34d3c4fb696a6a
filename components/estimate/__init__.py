"""Estimates for models that cannot run here: the architecture built on the meta device (exact parameters, memory per
dtype, FLOPs) and a roofline from this machine's measured bandwidth and FLOP/s; `python -m components.estimate`.

The face of the package: the names other packages and the pages use, each imported from its module on first use (so
importing the face costs nothing)."""
from components import lazy_face

__getattr__, __dir__ = lazy_face(__name__, {
    "estimate_entry": "model",
    "main": "model:main",
})
