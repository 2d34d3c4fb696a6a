"""Adapt page speed: Train-to-charts on the bundled sets, and fine-tune mode's progress and epochs.

Run: python scripts/bench_adapt.py [TASK ...]   (default: every task)
Models are loaded once before timing (a first load adds its own seconds, printed apart); feature caches
start empty (a fresh folder), so every figure includes computing the features, as a first Train does.
"Train to charts" = features + head + few-shot curve + the page's figures (few-shot, confusion,
per-class, PCA map). Targets (issue 9, 2-core CPU): images <= 30 s, text <= 10 s, fine-tune first
progress <= 2 s and one epoch <= 10 s; audio (Whisper tiny.en, 80 clips) has none in the issue: 60 s is ours.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MODEL_EXPLORER_OFFLINE", "1")
os.environ["MODEL_EXPLORER_FEATURES_DIR"] = tempfile.mkdtemp(prefix="adapt-bench-")

from components.adapt.charts import confusion_heatmap, embedding_scatter, fewshot_chart, per_class_bars  # noqa: E402
from components.adapt.features import backbone_runner  # noqa: E402
from components.adapt.heads import embedding_map  # noqa: E402
from components.adapt.run import train_backbone  # noqa: E402
from components.core.catalog import get_entry  # noqa: E402
from components.datasets.labelled import load_labelled  # noqa: E402

CASES = [("image-classification", "efficientnet_lite0", 30.0), ("text-classification", "all_minilm_l6_v2", 10.0),
         ("audio-classification", "whisper_tiny_en_ct2", 60.0)]  # audio: no issue target; 80 clips x 30 s windows


def train_to_charts(task: str, model_id: str) -> tuple[float, dict]:
    dataset = load_labelled(task)
    entry = get_entry(model_id)
    start = time.perf_counter()
    run = train_backbone(entry, "real", dataset, "logistic", seed=0)
    fewshot_chart([run.row]), confusion_heatmap(run.row), per_class_bars(run.row)
    embedding_scatter(embedding_map(run.features, "pca"), dataset.labels, list(dataset.ids), "PCA")
    return time.perf_counter() - start, run.row


def finetune_timing(task: str, model_id: str) -> tuple[float, list[float]]:
    """Seconds from pressing Train (features cached) to the first epoch report, and each epoch's time."""
    dataset = load_labelled(task)
    marks: list[float] = []
    start = time.perf_counter()
    train_backbone(get_entry(model_id), "real", dataset, "finetune", seed=0,
                   epoch_progress=lambda *_: marks.append(time.perf_counter()))
    first = marks[0] - start
    return first, [b - a for a, b in zip(marks, marks[1:])]


def main() -> None:
    wanted = sys.argv[1:]  # optional task names, e.g. audio-classification; default: all
    for task, model_id, target in CASES:
        if wanted and task not in wanted:
            continue
        load_start = time.perf_counter()
        backbone_runner(get_entry(model_id), task, "real")
        load_s = time.perf_counter() - load_start
        seconds, row = train_to_charts(task, model_id)
        verdict = "ok" if seconds <= target else "OVER"
        print(f"{task:<22} {model_id:<20} train-to-charts {seconds:5.1f} s (target <= {target:.0f} s, {verdict}); "
              f"features {row['embed_s']:.1f} s, head + few-shot {row['train_s']:.1f} s, "
              f"accuracy {row['accuracy']:.3f}; model load {load_s:.1f} s (before timing)")
    if wanted and "image-classification" not in wanted:
        return
    first, epochs = finetune_timing("image-classification", "efficientnet_lite0")
    print(f"fine-tune (images, features cached): first progress {first:.2f} s (target <= 2 s), "
          f"{len(epochs) + 1} epochs, per epoch max {max(epochs, default=0) * 1000:.0f} ms (target <= 10 s)")


if __name__ == "__main__":
    main()
