"""Serve: the playgrounds' model runs on a Ray Serve cluster (MODEL_EXPLORER_SERVE_ADDRESS) instead of this process.

The face of the package: the names other packages and the pages use, each imported from its module on first use (so
importing the face costs nothing, and Ray only when a run uses it)."""
from components import lazy_face

__getattr__, __dir__ = lazy_face(__name__, {
    "LOCAL": "remote",
    "SERVE_ADDRESS_ENV": "remote",
    "app_name": "remote",
    "remote_run": "remote",
    "serve_address": "remote",
})
