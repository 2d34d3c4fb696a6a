"""Download a trained Adapt head (joblib) with a snippet that loads backbone + head again."""
from __future__ import annotations

import io
from typing import Any

from components.core import get_task

SNIPPET_FEATURES = '''import joblib
{imports}from components.adapt.features import backbone_runner, embed_items
from components.core.catalog import get_entry

bundle = joblib.load("{file}")
runner = backbone_runner(get_entry(bundle["backbone_id"]), bundle["task"], bundle["weights"])
features = embed_items(runner, bundle["task"], [{example}])
print(bundle["head"].predict(features)[0])
'''
SNIPPET_TFIDF = '''import joblib

bundle = joblib.load("{file}")
print(bundle["head"].predict(["a new sentence to classify"])[0])
'''

EXAMPLES = {  # the task's input kind -> (imports, one raw input) for the snippet
    "image": ("from PIL import Image\n", 'Image.open("photo.jpg")'),
    "audio": ("from pathlib import Path\nfrom components.core.inputs import load_audio\n",
              'load_audio(Path("clip.wav").read_bytes(), "clip.wav").data'),
}


def file_name(row: dict[str, Any]) -> str:
    return f"adapt_{row['backbone_id']}_{row['weights']}_{row['head']}.joblib"


def head_bundle(row: dict[str, Any], head: Any) -> bytes:
    """The fitted head and what it needs (backbone id, weights, task, classes), joblib-pickled."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump({"backbone_id": row["backbone_id"], "weights": row["weights"], "task": row["task"],
                 "classes": row["classes"], "head_kind": row["head"], "head": head,
                 "accuracy": row["accuracy"]}, buffer)
    return buffer.getvalue()


def snippet(row: dict[str, Any]) -> str:
    """Python that loads backbone + head and classifies one input (run from the app's folder)."""
    if row["weights"] == "none":
        return SNIPPET_TFIDF.format(file=file_name(row))
    imports, example = EXAMPLES.get(get_task(row["task"]).input_kind, ("", '"a new sentence"'))
    return SNIPPET_FEATURES.format(file=file_name(row), imports=imports, example=example)
