"""Results history in SQLite, and CSV / JSON export."""
from __future__ import annotations

import csv
import io
import json

import pytest

from components.compare.store import HistoryStore, flatten, history_path, to_csv, to_json

ROWS = [
    {"model_id": "a", "task": "image-classification", "metrics": {"top1": 0.5, "top5": 1.0},
     "latency_ms": {"p50": 10.0, "p90": 12.0}, "throughput": {"1": 100.0, "16": 300.0},
     "latency_samples_ms": [9.5, 10.0, 12.0], "params": 123, "flops": None},
    {"model_id": "b", "task": "image-classification", "metrics": {}, "metrics_note": "random weights — accuracy n/a",
     "latency_ms": {"p50": 20.0, "p90": 25.0}, "throughput": {"1": 50.0}, "params": 456},
]


def test_save_list_load_round_trip(tmp_path):
    store = HistoryStore(tmp_path / "deep" / "history.sqlite")
    first = store.save_run(ROWS, "image-classification", "bundled", {"runs": 3})
    second = store.save_run(ROWS[:1], "sentiment-analysis", "mine.csv")
    listed = store.list_runs()
    assert [r["id"] for r in listed] == [second, first]
    assert listed[1]["models"] == ["a", "b"] and listed[1]["task"] == "image-classification"
    assert listed[1]["created_at"][:2] == "20"
    loaded = store.load_run(first)
    assert loaded["results"] == ROWS and loaded["meta"] == {"runs": 3} and loaded["dataset"] == "bundled"
    store.delete_run(first)
    assert [r["id"] for r in store.list_runs()] == [second]
    with pytest.raises(KeyError, match="no saved run"):
        store.load_run(first)


def test_path_from_argument_env_or_default(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "env.sqlite"))
    assert history_path() == tmp_path / "env.sqlite"
    assert HistoryStore(tmp_path / "arg.sqlite").path == tmp_path / "arg.sqlite"
    monkeypatch.delenv("MODEL_EXPLORER_HISTORY")
    assert history_path().name == "history.sqlite" and ".model_explorer" in str(history_path())


def test_csv_export_flattens_rows():
    rows = list(csv.DictReader(io.StringIO(to_csv(ROWS))))
    assert len(rows) == 2
    assert rows[0]["latency_ms.p50"] == "10.0" and rows[0]["throughput.16"] == "300.0"
    assert json.loads(rows[0]["latency_samples_ms"]) == [9.5, 10.0, 12.0]
    assert rows[1]["throughput.16"] == "" and rows[1]["metrics_note"].startswith("random weights")
    assert flatten({"a": {"b": {"c": 1}}}) == {"a.b.c": 1}


def test_json_export_round_trips():
    assert json.loads(to_json(ROWS)) == ROWS


def test_add_result_skips_a_row_already_saved(tmp_path):
    """A resumed run never holds a (model, runtime) row twice, whoever measured it again."""
    store = HistoryStore(tmp_path / "history.sqlite")
    run_id = store.start_run("image-classification", "bundled", ["a"])
    assert store.add_result(run_id, {"model_id": "a", "runtime": "eager", "n": 1})
    assert not store.add_result(run_id, {"model_id": "a", "n": 2})  # no runtime: eager
    assert store.add_result(run_id, {"model_id": "a", "runtime": "onnx", "n": 3})
    assert [r["n"] for r in store.load_run(run_id)["results"]] == [1, 3]
    assert store.add_result(store.start_run("image-classification", "bundled", ["a"]), {"model_id": "a"})


def test_damaged_rows_are_skipped_and_counted(tmp_path):
    """One row whose JSON is damaged must not hide the history: it is left out and counted."""
    import sqlite3

    store = HistoryStore(tmp_path / "h.sqlite")
    good = store.save_run([{"model_id": "a"}, {"model_id": "b"}], "image-classification", "bundled")
    damaged = store.save_run([{"model_id": "c"}], "image-classification", "bundled")
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET meta = 'null' WHERE id = ?", (damaged,))
        db.execute("UPDATE results SET data = '{\"model_id\": ' WHERE run_id = ? AND model_id = 'b'", (good,))
    assert [r["id"] for r in store.list_runs()] == [good] and store.skipped == 1
    assert [r["model_id"] for r in store.load_run(good)["results"]] == ["a"] and store.skipped == 1
    with pytest.raises(KeyError, match="damaged"):
        store.load_run(damaged)
    assert store.run_meta(damaged) is None
