"""Results history in an embedded SQLite file, and CSV / JSON export.

Default file: ``~/.model_explorer/history.sqlite``; the ``MODEL_EXPLORER_HISTORY`` environment
variable or the ``path`` argument overrides it. Each run holds its metadata (time, task, dataset, …)
and the result dicts of its models, stored as JSON so new result fields need no migration.

A run can also be recorded as it goes (:meth:`HistoryStore.start_run`, one :meth:`add_result` per
finished row, :meth:`finish_run`): its ``meta["status"]`` stays "running" until it finishes, so a run
cut short by a crash is still in the history with the rows it finished, ready to be resumed
(:meth:`claim_run` marks it running again, by the process that resumes it).

A row whose JSON is damaged (a disk error, a hand edit) is left out, never the whole history:
``HistoryStore.skipped`` counts the rows the last :meth:`list_runs` / :meth:`load_run` left out.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.core import finite

HISTORY_ENV = "MODEL_EXPLORER_HISTORY"
RUNNING, FINISHED = "running", "finished"  # meta["status"] of a recorded run (absent: saved whole, finished)
DEFAULT_PATH = Path("~/.model_explorer/history.sqlite")
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    task TEXT NOT NULL,
    dataset TEXT NOT NULL,
    models TEXT NOT NULL,
    meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_run ON results(run_id);
"""


def _json_object(text: Any) -> dict[str, Any] | None:
    """A row's JSON object, or None when the row is damaged (not JSON, or not an object)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def history_path(path: str | os.PathLike | None = None) -> Path:
    """The history file: the argument, else $MODEL_EXPLORER_HISTORY, else the default."""
    chosen = path or os.environ.get(HISTORY_ENV) or DEFAULT_PATH
    return Path(chosen).expanduser()


class HistoryStore:
    """Save, list and load benchmark runs in one SQLite file (created on first use)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = history_path(path)
        self.skipped = 0  # damaged rows the last list_runs / load_run left out

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.executescript(SCHEMA)
        return connection

    def save_run(self, results: Sequence[dict[str, Any]], task: str, dataset: str,
                 meta: dict[str, Any] | None = None) -> int:
        """Store one run's result dicts with its metadata; returns the run id."""
        created = datetime.now(UTC).isoformat(timespec="seconds")
        models = ",".join(str(r.get("model_id", "")) for r in results)
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO runs (created_at, task, dataset, models, meta) VALUES (?, ?, ?, ?, ?)",
                (created, task, dataset, models, json.dumps(meta or {})))
            run_id = int(cursor.lastrowid)
            db.executemany(
                "INSERT INTO results (run_id, position, model_id, data) VALUES (?, ?, ?, ?)",
                [(run_id, i, str(r.get("model_id", "")), json.dumps(r)) for i, r in enumerate(results)])
        return run_id

    def start_run(self, task: str, dataset: str, models: Sequence[str], meta: dict[str, Any] | None = None) -> int:
        """Record a run before its first result (status "running"); returns the run id."""
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO runs (created_at, task, dataset, models, meta) VALUES (?, ?, ?, ?, ?)",
                (created, task, dataset, ",".join(models), json.dumps({**(meta or {}), "status": RUNNING})))
        return int(cursor.lastrowid)

    def add_result(self, run_id: int, result: dict[str, Any]) -> bool:
        """Append one finished row's result dict to a recorded run (committed at once); False, and nothing
        saved, when the run already holds that (model, runtime) row."""
        model_id, runtime = str(result.get("model_id", "")), result.get("runtime", "eager")
        with closing(self._connect()) as db, db:
            cursor = db.execute(
                "INSERT INTO results (run_id, position, model_id, data) "
                "SELECT ?, (SELECT COUNT(*) FROM results WHERE run_id = ?), ?, ? WHERE NOT EXISTS "
                "(SELECT 1 FROM results WHERE run_id = ? AND model_id = ? "
                "AND COALESCE(json_extract(data, '$.runtime'), 'eager') = ?)",
                (run_id, run_id, model_id, json.dumps(result), run_id, model_id, runtime))
        return cursor.rowcount == 1

    def claim_run(self, run_id: int, owner: dict[str, Any]) -> None:
        """Mark a recorded run "running" again, by ``owner`` (the process that resumes it)."""
        with closing(self._connect()) as db, db:
            db.execute("UPDATE runs SET meta = json_set(meta, '$.status', ?, '$.owner', json(?)) WHERE id = ?",
                       (RUNNING, json.dumps(owner), run_id))

    def finish_run(self, run_id: int, status: str = FINISHED) -> None:
        """Set a recorded run's status ("finished", or e.g. "cancelled")."""
        with closing(self._connect()) as db, db:
            db.execute("UPDATE runs SET meta = json_set(meta, '$.status', ?) WHERE id = ?", (status, run_id))

    def list_runs(self) -> list[dict[str, Any]]:
        """Every run, newest first: id, created_at, task, dataset, models (list), meta, n_results. A run whose
        metadata is damaged is left out (counted in ``skipped``)."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT id, created_at, task, dataset, models, meta, "
                "(SELECT COUNT(*) FROM results WHERE results.run_id = runs.id) FROM runs ORDER BY id DESC").fetchall()
        runs = [{"id": r[0], "created_at": str(r[1]), "task": r[2], "dataset": r[3],
                 "models": [m for m in str(r[4]).split(",") if m], "meta": _json_object(r[5]), "n_results": r[6]}
                for r in rows]
        self.skipped = sum(r["meta"] is None for r in runs)
        return [r for r in runs if r["meta"] is not None]

    def unfinished_runs(self, task: str | None = None) -> list[dict[str, Any]]:
        """Recorded runs not finished (crashed, cancelled, incomplete, or under way), newest first."""
        return [r for r in self.list_runs() if r["meta"].get("status") not in (None, FINISHED)
                and (task is None or r["task"] == task)]

    def run_meta(self, run_id: int) -> dict[str, Any] | None:
        """One run's metadata alone (None when unknown): cheap enough to look at every second."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT meta FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _json_object(row[0]) if row else None

    def load_run(self, run_id: int) -> dict[str, Any]:
        """One run's metadata with its ``results`` (in saved order; damaged ones left out and counted in
        ``skipped``); KeyError when unknown or when its metadata is damaged."""
        with closing(self._connect()) as db:
            run = db.execute("SELECT id, created_at, task, dataset, meta FROM runs WHERE id = ?",
                             (run_id,)).fetchone()
            if run is None:
                raise KeyError(f"no saved run with id {run_id}")
            data = db.execute("SELECT data FROM results WHERE run_id = ? ORDER BY position",
                              (run_id,)).fetchall()
        meta, results = _json_object(run[4]), [_json_object(d[0]) for d in data]
        if meta is None:
            raise KeyError(f"run #{run_id} is damaged in the history (its metadata is not JSON)")
        self.skipped = sum(r is None for r in results)
        return {"id": run[0], "created_at": run[1], "task": run[2], "dataset": run[3], "meta": meta,
                "results": [r for r in results if r is not None]}

    def delete_run(self, run_id: int) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted columns (``latency_ms.p50``); lists become JSON text."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = json.dumps(value)
        else:
            flat[name] = value
    return flat


def to_csv(results: Sequence[dict[str, Any]]) -> str:
    """One flattened row per result; columns are the union, in first-seen order."""
    rows = [flatten(r) for r in results]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def to_json(results: Sequence[dict[str, Any]]) -> str:
    """The rows as strict JSON (a NaN metric becomes null)."""
    return json.dumps(finite(list(results)), indent=2, allow_nan=False)
