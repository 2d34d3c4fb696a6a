"""Four browser sessions at once on one server: all finish, each model loads once, memory stays in budget.

How "loaded once" is proven: the server is started with ``MODEL_EXPLORER_STATS_FILE`` set, so its model manager
(components/models/manager.py) writes ``load_counts`` (how many times each model key was loaded), ``used_mb`` and
``budget_mb`` to that file after every load. The test reads it from outside the server process.

What "under budget" means here, honestly: the manager's budget covers model weights only (``used_mb`` is the sum
of the loaded models' sizes) and is asserted ``<= budget_mb``. The server's resident memory (sampled with psutil
every 50 ms for the whole test) also holds the Python runtime, torch, transformers, Streamlit and the decoded
inputs; it is reported, and asserted under ``budget_mb + RUNTIME_ALLOWANCE_MB`` as a guard against leaks.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

import pytest

from components.models.manager import STATS_ENV, LoadedModel, ModelManager

BUDGET_MB = 1024
RUNTIME_ALLOWANCE_MB = 2048  # interpreter + torch + transformers + Streamlit, not covered by the model budget
SESSIONS = [("vision", 0), ("vision", 1), ("text", 2), ("text", 3)]


def test_stats_file_is_opt_in_and_atomic(tmp_path, monkeypatch, caplog):
    """The stats file: absent unless asked for; after a load it holds the counts, used_mb and budget_mb."""
    path = tmp_path / "stats.json"
    monkeypatch.delenv(STATS_ENV, raising=False)
    manager = ModelManager(budget_mb=100)
    manager.get("a:real:x", lambda: LoadedModel(object(), 10.0, "cpu", "real"))
    assert not path.exists()

    monkeypatch.setenv(STATS_ENV, str(path))
    manager.get("b:real:x", lambda: LoadedModel(object(), 20.0, "cpu", "real"))
    manager.get("b:real:x", lambda: pytest.fail("loaded twice"))
    stats = json.loads(path.read_text(encoding="utf-8"))
    assert stats["load_counts"] == {"a:real:x": 1, "b:real:x": 1}
    assert stats["used_mb"] == 30.0 and stats["budget_mb"] == 100 and stats["pid"] == os.getpid()
    manager.evict("a:real:x")
    stats = json.loads(path.read_text(encoding="utf-8"))
    assert stats["loaded"] == ["b:real:x"] and stats["evictions"] == ["a:real:x"]
    assert not list(tmp_path.glob("*.tmp"))

    before = path.read_text(encoding="utf-8")
    unwritable = tmp_path / "no-such-dir" / "stats.json"
    monkeypatch.setenv(STATS_ENV, str(unwritable))
    model = object()
    with caplog.at_level("WARNING", logger="components.models.manager"):
        loaded = manager.get("c:real:x", lambda: LoadedModel(model, 1.0, "cpu", "real"))
    assert loaded.model is model  # unwritable: the load still works, is cached and counted
    assert manager.get("c:real:x", lambda: pytest.fail("loaded twice")) is loaded
    assert manager.stats()["load_counts"]["c:real:x"] == 1 and "c:real:x" in manager.stats()["loaded"]
    assert any(STATS_ENV in r.getMessage() and str(unwritable) in r.getMessage() for r in caplog.records), \
        caplog.text  # ... and the operator is told why the file is missing
    assert not unwritable.parent.exists() and path.read_text(encoding="utf-8") == before


class RssSampler(threading.Thread):
    """Peak resident memory of one process (and its children), sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.peak_mb = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        import psutil

        while not self._halt.is_set():
            try:
                rss = self.process.memory_info().rss + sum(
                    c.memory_info().rss for c in self.process.children(recursive=True))
                self.peak_mb = max(self.peak_mb, rss / 2**20)
            except psutil.Error:
                pass
            self._halt.wait(0.05)

    def stop(self) -> float:
        self._halt.set()
        self.join(5)
        return self.peak_mb


def _drive_four_sessions(base_url: str, report: dict) -> None:
    """In its own thread (its own Playwright): four contexts, prepared, then Run pressed in all four at once."""
    import re

    from playwright.sync_api import sync_playwright

    from tests.browser import (
        MAIN,
        MODEL_TIMEOUT_MS,
        assert_no_exception,
        error_alerts,
        launch_chromium,
        open_page,
        plot_text,
        screenshot,
        select_only,
        tab,
        wait_until,
    )

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            pages, runs = [], []
            for kind, _index in SESSIONS:
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                counter = open_page(page, f"{base_url}/{kind}")
                if kind == "vision":
                    select_only(page, "Models", "EfficientNet-Lite0")
                    tab(page, "Samples")
                    counter.do(lambda page=page: page.locator(MAIN).get_by_role("button", name="chelsea",
                                                                         exact=True).click())
                else:
                    select_only(page, "Models", "all-MiniLM-L6-v2")
                pages.append(page)
                runs.append(counter)

            for round_ in (1, 2):  # round 1 loads the models (concurrently); round 2 must reuse them
                since = [r.finished for r in runs]
                started = time.perf_counter()
                for page in pages:
                    page.locator(MAIN).get_by_role("button", name="Run", exact=True).click()
                clicked = time.perf_counter() - started
                done = []
                for _page, counter, before in zip(pages, runs, since):
                    counter.wait_after(before, timeout=2 * MODEL_TIMEOUT_MS)
                    done.append(round(time.perf_counter() - started, 2))
                report[f"round{round_}"] = {"clicks_s": round(clicked, 2), "finished_s": done}

                for (kind, index), page in zip(SESSIONS, pages):
                    assert_no_exception(page, f"session {index} ({kind})")
                    assert not error_alerts(page), f"session {index}: {error_alerts(page)}"
                    page.locator(MAIN).locator('[data-testid="stMetric"]').filter(has_text="Latency").first.wait_for()
                    if kind == "vision":
                        wait_until(page, lambda page=page: re.search(r"tabby|tiger cat|Egyptian cat", plot_text(page)),
                                   f"a cat class in session {index}", timeout=30_000)
                    else:
                        page.locator(MAIN).get_by_text("Cosine similarity of sentence embeddings").wait_for()
            for (kind, index), page in zip(SESSIONS, pages):
                screenshot(page, f"concurrency-{index}-{kind}")
        finally:
            browser.close()


@pytest.fixture(scope="module")
def stats_server(tmp_path_factory):
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("/usr/bin/chromium is missing: the concurrency test drives Debian's chromium "
                    "(apt-get install -y chromium; .ci/run installs it)")
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is missing")
    from tests.browser import start_app, stop_app

    workdir = tmp_path_factory.mktemp("concurrency")
    stats = workdir / "model-stats.json"
    server = start_app(workdir, {STATS_ENV: str(stats), "MODEL_EXPLORER_MEMORY_BUDGET_MB": str(BUDGET_MB)})
    try:
        yield server, stats
    finally:
        stop_app(server)


@pytest.mark.browser
@pytest.mark.slow
def test_four_sessions_at_once_load_each_model_once(stats_server):
    server, stats_path = stats_server
    sampler = RssSampler(server.pid)
    sampler.start()
    report: dict = {}
    errors: list[BaseException] = []

    def drive() -> None:
        try:
            _drive_four_sessions(server.base_url, report)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    worker = threading.Thread(target=drive, name="four-sessions")
    started = time.perf_counter()
    worker.start()
    worker.join(600)
    peak_rss_mb = sampler.stop()
    elapsed = time.perf_counter() - started
    if worker.is_alive():
        pytest.fail(f"the four sessions did not finish in 600 s\n{server.log()[-3000:]}")
    if errors:
        raise AssertionError(f"{errors[0]!r}\n--- server log ---\n{server.log()[-3000:]}") from errors[0]

    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    counts = stats["load_counts"]
    print(f"\nconcurrency: {elapsed:.1f} s; {report}; load_counts {counts}; used_mb {stats['used_mb']:.1f} of "
          f"budget_mb {stats['budget_mb']:.0f}; server peak RSS {peak_rss_mb:.0f} MB "
          f"(bound {BUDGET_MB + RUNTIME_ALLOWANCE_MB} MB)", file=sys.stderr)

    assert stats["pid"] == server.pid, "the stats file was written by another process"
    lite0 = [k for k in counts if k.startswith("efficientnet_lite0:")]
    minilm = [k for k in counts if k.startswith("all_minilm_l6_v2:")]
    # Vision's and Text's runtime defaults are measured once (Lite0, MiniLM on eager and on ONNX Runtime): one key
    # per runtime
    assert 1 <= len(lite0) <= 2 and 1 <= len(minilm) <= 2, counts
    assert all(n == 1 for n in counts.values()), f"a model was loaded more than once: {counts}"
    assert not stats["evictions"], stats["evictions"]
    assert stats["budget_mb"] == BUDGET_MB
    assert 0 < stats["used_mb"] <= stats["budget_mb"], stats
    assert peak_rss_mb < BUDGET_MB + RUNTIME_ALLOWANCE_MB, (
        f"server peak RSS {peak_rss_mb:.0f} MB exceeds the model budget plus the runtime allowance")
    for round_ in ("round1", "round2"):
        assert len(report[round_]["finished_s"]) == len(SESSIONS)
