"""The headless CLI: real numbers on the bundled set, architecture-only rows, one-line errors."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = {"model_id", "task", "weights", "dataset", "n_samples", "metrics", "latency_ms", "stages_ms",
          "throughput", "peak_rss_mb", "params", "flops", "size_mb", "load_s", "env"}


def bench(*args: str, out: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODEL_EXPLORER_OFFLINE": "1"}
    command = [sys.executable, "-m", "components.bench", *args, "--json", str(out or "unused.json")]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_bundled_image_set_gives_real_numbers(tmp_path):
    out = tmp_path / "out.json"
    done = bench("--task", "image-classification", "--models", "efficientnet_lite0", "--runs", "3",
                 "--warmup", "1", out=out)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(out.read_text())
    with open(ROOT / "data" / "images" / "labels.csv", encoding="utf-8") as handle:
        n_photos = sum(1 for _ in csv.DictReader(handle))
    assert SCHEMA <= set(row)
    assert row["weights"] == "real" and row["dataset"] == "bundled" and row["n_samples"] == n_photos
    assert row["metrics"]["top1"] > 0 and row["metrics"]["top5"] >= row["metrics"]["top1"]
    assert {"p50", "p90", "p99", "mean", "std"} <= set(row["latency_ms"]) and row["latency_ms"]["p50"] > 0
    assert len(row["latency_samples_ms"]) == 3 and set(row["throughput"]) == {"1", "4", "16"}
    assert row["flops"] > 1e8 and row["peak_rss_mb"] > 0 and row["size_mb"] > 1 and row["load_s"] > 0
    assert row["env"]["torch_threads"] >= 1 and row["env"]["model_revision"].startswith("efficientnet-lite0")


@pytest.mark.parametrize("task, model_id, published", [
    ("image-classification", "resnet50", 25.6e6),
    ("feature-extraction", "bert_base_uncased", 110e6),
])
def test_architecture_only_rows_have_published_params(tmp_path, task, model_id, published):
    out = tmp_path / "out.json"
    done = bench("--task", task, "--models", model_id, "--runs", "2", "--warmup", "1", "--batch-sizes", "1",
                 out=out)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(out.read_text())
    assert row["weights"] == "random" and row["metrics"] == {} and row["n_samples"] == 0
    assert row["metrics_note"] == "random weights — accuracy n/a"
    assert abs(row["params"] - published) / published < 0.01 and row["params_source"] == "counted"
    assert row["flops"] > 1e9 and row["latency_ms"]["p50"] > 0


@pytest.mark.parametrize("args, message", [
    (["--task", "image-classification", "--models", "no_such_model"], "unknown model id 'no_such_model'"),
    (["--task", "image-classification", "--models", "vader"], "vader does not do image-classification"),
    (["--task", "text-generation", "--models", "gpt4"], "gpt4 cannot run here"),
    (["--task", "language-identification", "--models", "fasttext_lid176", "--dataset", "/no/such.csv"],
     "cannot read dataset"),
    (["--task", "language-identification", "--models", "fasttext_lid176", "--dataset", "BAD"],
     "missing column(s) label"),
    (["--task", "image-classification", "--models", "resnet50", "--weights", "real"], "resnet50 cannot run here"),
    (["--task", "image-classification", "--models", "efficientnet_lite0", "--runs", "0"], "--runs must be"),
    (["--task", "image-classification", "--models", "efficientnet_lite0", "--address", "head:6379"],
     "--address needs --executor ray"),
    (["--resume", "987654321"], "no saved run with id 987654321"),
])
def test_errors_exit_non_zero_with_one_line(tmp_path, args, message):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,language\nhello,en\n", encoding="utf-8")
    done = bench(*[str(bad) if a == "BAD" else a for a in args], out=tmp_path / "out.json")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert not (tmp_path / "out.json").exists()


@pytest.mark.slow
def test_ray_executor_rows_have_the_local_schema(tmp_path):
    out = tmp_path / "out.json"
    done = bench("--task", "language-identification", "--models", "fasttext_lid176", "--runs", "2", "--warmup", "1",
                 "--executor", "ray", out=out)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(out.read_text())
    assert SCHEMA <= set(row) and row["metrics"]["accuracy"] > 0.9 and row["n_samples"] > 100
    assert row["env"]["executor"] == "ray" and row["env"]["ray_node_id"] and row["env"]["hostname"]


def test_a_folder_dataset_is_read_from_disk(tmp_path, chelsea, coffee):
    for folder, photo in (("tabby cat", chelsea), ("espresso", coffee)):
        (tmp_path / "set" / folder).mkdir(parents=True)
        for i in range(3):
            photo.resize((96, 64)).save(tmp_path / "set" / folder / f"{i}.png")
    out = tmp_path / "out.json"
    done = bench("--task", "image-classification", "--models", "efficientnet_lite0", "--runs", "2", "--warmup", "1",
                 "--batch-sizes", "1", "--dataset", str(tmp_path / "set"), out=out)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(out.read_text())
    assert row["dataset"] == "set" and row["n_samples"] == 6 and row["metrics"]["top5"] == 1.0


@pytest.mark.slow
def test_resume_measures_only_the_rows_a_crashed_run_lacks(tmp_path, monkeypatch):
    from components.compare.benchmark import BenchmarkConfig
    from components.compare.runs import RunPlan, run_recorded
    from components.compare.store import HistoryStore
    from components.core.catalog import get_entry
    from components.datasets import load_bundled

    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    plan = RunPlan("sentiment-analysis", ("vader", "distilbert_sst2"), ("eager",),
                   BenchmarkConfig(runs=2, warmup=1, batch_sizes=(1,)), "bundled")

    def crash(fraction: float, message: str) -> None:
        if message.startswith("DistilBERT"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_recorded(HistoryStore(), plan, [get_entry(m) for m in plan.model_ids], load_bundled(plan.task),
                     progress=crash)
    (crashed,) = HistoryStore().unfinished_runs()
    out = tmp_path / "out.json"
    done = bench("--resume", str(crashed["id"]), out=out)
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())
    assert [r["model_id"] for r in rows] == ["vader", "distilbert_sst2"]
    assert rows[0] == HistoryStore().load_run(crashed["id"])["results"][0]  # kept, not measured again
    assert HistoryStore().unfinished_runs() == []
    again = bench("--resume", str(crashed["id"]), out=tmp_path / "again.json")
    assert again.returncode == 1 and "has finished" in again.stderr


def test_resume_refuses_a_run_still_under_way(tmp_path, monkeypatch):
    """A run another live process still measures is not measured twice: one line says so."""
    import socket

    from components.compare.benchmark import BenchmarkConfig
    from components.compare.runs import RunPlan
    from components.compare.store import HistoryStore

    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    plan = RunPlan("sentiment-analysis", ("vader",), ("eager",), BenchmarkConfig(runs=2, warmup=1), "bundled")
    run_id = HistoryStore().start_run(plan.task, "bundled", plan.model_ids,
                                      {**plan.meta(), "owner": {"pid": os.getpid(), "host": socket.gethostname()}})
    done = bench("--resume", str(run_id), out=tmp_path / "out.json")
    assert done.returncode == 1 and done.stderr.strip() == (f"error: run #{run_id} is still running "
                                                            f"(process {os.getpid()} on this host)")


def test_paired_lite0_and_lite2_on_the_bundled_photos(tmp_path):
    """Acceptance (issue 19): every row carries its intervals; --paired says the 9 photos cannot tell the real
    Lite0 from Lite2 and writes the comparison beside the JSON."""
    out = tmp_path / "out.json"
    done = bench("--task", "image-classification", "--models", "efficientnet_lite0,efficientnet_lite2",
                 "--runs", "3", "--warmup", "1", "--batch-sizes", "1", "--paired",
                 "efficientnet_lite0,efficientnet_lite2", out=out)
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())
    for row in rows:
        assert list(row).index("metrics_ci") == list(row).index("metrics") + 1
        low, high = row["metrics_ci"]["top1"]
        assert low < row["metrics"]["top1"] < high and len(row["item_scores"]["top1"]) == 9
        assert row["latency_ci"]["p50"] is None  # 3 timed runs: [min, max] covers the median only 75% of the time
    assert rows[0]["items_fingerprint"] == rows[1]["items_fingerprint"] is not None  # the same 9 photos
    paired = json.loads((tmp_path / "out.paired.json").read_text())
    top1 = paired["metrics"]["top1"]
    assert top1["test"] == "exact McNemar" and top1["n"] == 9 and top1["better"] is None and top1["p"] > 0.05
    assert "Cannot tell efficientnet_lite0 and efficientnet_lite2 apart on Top-1 accuracy on 9 items" in done.stdout


def test_paired_names_a_row_of_the_run():
    done = bench("--task", "image-classification", "--models", "efficientnet_lite0", "--paired",
                 "efficientnet_lite0,efficientnet_lite2")
    assert done.returncode == 1 and done.stderr.strip() == (
        "error: --paired names efficientnet_lite2, not a row of this run (rows: efficientnet_lite0)")
