"""The shared model cache: one load per model across threads, LRU eviction under a budget."""
from __future__ import annotations

import threading
import time

from components.models.manager import LoadedModel, ModelKey, ModelManager


def _loader(name: str, size_mb: float, calls: list[str], release: threading.Event | None = None):
    def load() -> LoadedModel:
        calls.append(name)
        if release is not None:
            assert release.wait(5)
        return LoadedModel(model=object(), size_mb=size_mb, device="cpu", weights="real")

    return load


def test_concurrent_requests_load_once():
    manager, calls, release = ModelManager(budget_mb=1000), [], threading.Event()
    results = []
    threads = [threading.Thread(target=lambda: results.append(manager.get("a", _loader("a", 10, calls, release))))
               for _ in range(6)]
    for t in threads:
        t.start()
    release.set()  # the first load finishes only once every thread has started asking
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
    def slow() -> LoadedModel:
        time.sleep(0.05)  # a load that takes time, not a wait for another thread
        return LoadedModel(model=object(), size_mb=1, device="cpu", weights="real")

    assert manager.get("slow", slow).load_s >= 0.05


def test_an_explainer_waits_for_runs_and_runs_wait_for_the_explainer():
    """Runs share a model; an explainer's hooks need it alone (integrated gradients broke otherwise)."""
    import threading

    from components.models.manager import LoadedModel

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
    explainer.join(0.1)
    assert explainer.is_alive() and order == ["run in"]  # the explainer waits while a run holds the model
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


def test_is_loaded_compares_the_runtime_not_a_substring_of_the_key():
    """Regression: the card asked `":onnx" in key`, which an `onnx-int8` model's key also matches."""
    manager = ModelManager(budget_mb=1000)
    manager.get(ModelKey("efficientnet_lite0", "real", "timm", "onnx-int8"), _loader("int8", 5, []))
    assert manager.is_loaded("efficientnet_lite0", "onnx-int8")
    assert not manager.is_loaded("efficientnet_lite0", "onnx")
    assert not manager.is_loaded("efficientnet_lite0", "onnx-int8", weights="random")
    assert not manager.is_loaded("efficientnet_lite", "onnx-int8")
    key = ModelKey("m", "real", "hf", "eager", "/models/m")
    assert key == "m:real:hf:eager@/models/m" and key.runtime == "eager" and key.folder == "/models/m"
