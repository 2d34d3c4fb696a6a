"""The shared model cache: one load per model across threads, LRU eviction under a budget."""
from __future__ import annotations

import threading
import time

from components.model_manager import LoadedModel, ModelManager


def _loader(name: str, size_mb: float, calls: list[str], delay: float = 0.0):
    def load() -> LoadedModel:
        calls.append(name)
        time.sleep(delay)
        return LoadedModel(model=object(), size_mb=size_mb, device="cpu", weights="real")

    return load


def test_concurrent_requests_load_once():
    manager, calls = ModelManager(budget_mb=1000), []
    results = []
    threads = [threading.Thread(target=lambda: results.append(manager.get("a", _loader("a", 10, calls, 0.2))))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["a"] and manager.load_counts["a"] == 1
    assert len({id(r) for r in results}) == 1


def test_lru_eviction_under_budget():
    manager, calls = ModelManager(budget_mb=100), []
    manager.get("a", _loader("a", 40, calls))
    manager.get("b", _loader("b", 40, calls))
    manager.get("a", _loader("a", 40, calls))  # a becomes most recently used
    manager.get("c", _loader("c", 40, calls))  # over budget: evicts b, the least recently used
    assert [k for k, _ in manager.loaded()] == ["a", "c"]
    assert manager.evictions == ["b"] and manager.used_mb() == 80
    manager.get("b", _loader("b", 40, calls))
    assert manager.load_counts["b"] == 2


def test_a_model_bigger_than_the_budget_still_loads_alone():
    manager, calls = ModelManager(budget_mb=10), []
    manager.get("small", _loader("small", 5, calls))
    manager.get("huge", _loader("huge", 50, calls))
    assert [k for k, _ in manager.loaded()] == ["huge"]


def test_load_time_recorded():
    manager = ModelManager(budget_mb=100)
    loaded = manager.get("slow", _loader("slow", 1, [], 0.05))
    assert loaded.load_s >= 0.05


def test_an_explainer_waits_for_runs_and_runs_wait_for_the_explainer():
    """Runs share a model; an explainer's hooks need it alone (integrated gradients broke otherwise)."""
    import threading
    import time

    from components.model_manager import LoadedModel

    loaded = LoadedModel(object(), 1.0, "cpu", "real")
    order: list[str] = []
    run_started, release_run = threading.Event(), threading.Event()

    def run() -> None:
        with loaded.in_use():
            order.append("run in")
            run_started.set()
            release_run.wait(5)
            order.append("run out")

    def explain() -> None:
        with loaded.hooked():
            order.append("explain")

    runner = threading.Thread(target=run)
    runner.start()
    run_started.wait(5)
    explainer = threading.Thread(target=explain)
    explainer.start()
    time.sleep(0.1)
    assert order == ["run in"]  # the explainer waits while a run holds the model
    release_run.set()
    runner.join(5)
    explainer.join(5)
    assert order == ["run in", "run out", "explain"]
    with loaded.hooked():
        blocked = threading.Thread(target=run)
        release_run.clear()
        run_started.clear()
        blocked.start()
        assert not run_started.wait(0.1)  # no run while hooked
    assert run_started.wait(5)
    release_run.set()
    blocked.join(5)
