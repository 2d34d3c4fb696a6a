"""The local executor: each row in turn, in this process (the Compare engine's default)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from components.compare.executors.base import Job, Row, RowDone


class LocalExecutor:
    """One (model, runtime) after another, sharing this process's model cache."""

    name = "local"
    shares_cache = True

    def run(self, rows: Sequence[Row], job: Job) -> Iterator[RowDone]:
        for position, row in enumerate(rows):
            done = job.measure(row, job.dataset, job.config, job.progress, job.cancel, job.manager,
                               position, len(rows))
            if done.result is not None:
                done.result.env["executor"] = self.name
            yield done
