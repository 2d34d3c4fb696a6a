"""The shared result cache: one answer per (model, weights, runtime, task, options, input), never another's."""
from __future__ import annotations

import copy
import dataclasses
import threading

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_pages_playgrounds import APP, TIMEOUT, assert_clean, cards, choose, classify, click

from components.models import ResultCache, Runtime, input_digest, result_key
from components.models.runtimes.base import EAGER

TASK = "image-classification"


def _store(cache: ResultCache, runner, image, **options):
    """Run ``runner`` and share its answer the way the playgrounds do; the stored result."""
    result = runner.run(image, **options)
    cache.put(result_key(runner, TASK, input_digest(image), options), (result, 0.0))
    return result


def _shared(cache: ResultCache, runner, image, **options):
    return cache.get(result_key(runner, TASK, input_digest(image), options))


def _top1(result) -> str:
    return result.output[0]["label"]


def test_same_question_is_answered_from_the_cache(lite0, chelsea):
    cache = ResultCache(1 << 20)
    stored = _store(cache, lite0, chelsea)
    found, _ = _shared(cache, lite0, chelsea.copy())
    assert found.output == stored.output and found.stages_ms == stored.stages_ms  # the latency measured then
    assert found is not stored  # each session gets its own copy


def test_other_weights_of_the_same_model_are_not_served_the_cached_answer(lite0, chelsea):
    """A fine-tuned copy of Lite0 under the same id, weights tag and runtime: its own answer."""
    tuned = copy.deepcopy(lite0.model)
    with torch.no_grad():
        tuned.classifier.weight.mul_(-1.0)  # another checkpoint: the classifier flipped
    other = type(lite0)(lite0.entry, dataclasses.replace(lite0.loaded, model=tuned), runtime=lite0.runtime)
    other.task = lite0.task
    cache = ResultCache(1 << 20)
    _store(cache, lite0, chelsea)
    assert _shared(cache, other, chelsea) is None
    assert _top1(other.run(chelsea)) != _top1(lite0.run(chelsea))  # the answer really differs


class CountingRuntime(Runtime):
    """Eager, under another name, counting its forward passes."""

    name = "counting"
    calls = 0

    def context(self, gradients: bool = False):
        CountingRuntime.calls += 1
        return EAGER.context(gradients)


def test_another_runtime_is_not_served_the_eager_answer(lite0, chelsea):
    counting = type(lite0)(lite0.entry, lite0.loaded, runtime=CountingRuntime())
    counting.task = lite0.task
    cache = ResultCache(1 << 20)
    _store(cache, lite0, chelsea)
    assert _shared(cache, counting, chelsea) is None
    _store(cache, counting, chelsea)
    assert CountingRuntime.calls == 1
    assert _shared(cache, counting, chelsea)[0].runtime == "counting"


def test_other_options_are_not_served_the_cached_answer(lite0, chelsea):
    cache = ResultCache(1 << 20)
    _store(cache, lite0, chelsea, top_k=5)
    assert _shared(cache, lite0, chelsea, top_k=2) is None
    assert len(_store(cache, lite0, chelsea, top_k=2).output) == 2


@pytest.mark.parametrize("change", ["photo", "size", "mode"])
def test_another_input_is_not_served_the_cached_answer(lite0, chelsea, coffee, change):
    """Another photo; the same bytes read as another shape; the same size in another pixel mode."""
    cache = ResultCache(1 << 20)
    _store(cache, lite0, chelsea)
    width, height = chelsea.size
    other = {"photo": coffee,
             "size": Image.frombytes("RGB", (height, width), chelsea.tobytes()),
             "mode": Image.frombytes("YCbCr", (width, height), chelsea.tobytes())}[change]
    assert _shared(cache, lite0, other) is None


def test_least_recently_used_answers_leave_first_within_the_byte_bound():
    cache = ResultCache(3000)
    for name in ("a", "b", "c"):
        assert cache.put(name, b"x" * 900)
    cache.get("a")  # used: "b" is now the oldest
    cache.put("d", b"x" * 900)
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("d") is not None
    assert cache.size_bytes <= 3000 and len(cache) == 3
    assert not cache.put("big", b"x" * 4000) and cache.get("big") is None  # larger than the whole bound


def test_an_input_of_unknown_kind_is_never_shared(lite0):
    assert input_digest(object()) is None and result_key(lite0, TASK, None, {}) is None


def test_a_second_session_gets_the_shared_result_card():
    """Two sessions of one server run the same sample: the second card says it is the shared result."""
    first, second = (AppTest.from_file(str(APP), default_timeout=TIMEOUT) for _ in range(2))
    captions = []
    for at in (first, second):
        at.run()
        at.switch_page("app_pages/vision.py")
        at.run()
        click(at, "vision_input_sample_coffee.jpg")
        classify(at, ["efficientnet_lite0"])
        assert_clean(at)
        assert cards(at) == 1
        captions.append(" ".join(c.value for c in at.caption))
    assert "shared result" in captions[1]


def test_a_run_whose_answers_are_all_shared_takes_no_place_in_the_queue():
    """Every model slot busy (a class's runs): a session asking an answered question gets its cards at once."""
    from components.core import limits

    first, second = (AppTest.from_file(str(APP), default_timeout=TIMEOUT) for _ in range(2))
    for at in (first, second):
        at.run()
        at.switch_page("app_pages/vision.py")
        at.run()
        click(at, "vision_input_sample_chelsea.jpg")
    classify(first, ["efficientnet_lite0"])
    release, held = threading.Event(), []

    def hold(number: int) -> None:
        with limits.model_work(f"busy-{number}"):
            held.append(number)
            release.wait()

    holders = [threading.Thread(target=hold, args=(n,)) for n in range(limits.QUEUE_SLOTS.value())]
    for thread in holders:
        thread.start()
    try:
        while len(held) < len(holders):
            release.wait(0.01)
        second.run(timeout=60)  # the page itself (the sample chosen); then the Run below must not queue
        second.radio(key="keep_vision_task").set_value("Image classification (ImageNet-1k)")
        choose(second, "keep_vision_models_image-classification", ["efficientnet_lite0"])
        next(b for b in second.button if b.key == "vision_run").click()
        second.run(timeout=60)
        assert_clean(second)
        assert cards(second) == 1 and "shared result" in " ".join(c.value for c in second.caption)
    finally:
        release.set()
        for thread in holders:
            thread.join()


def test_who_asks_while_an_answer_is_computed_waits_for_it_instead_of_computing_it_again():
    cache = ResultCache(1 << 20)
    assert cache.claim("k") and not cache.claim("k")  # one computes
    waited: list = []
    waiter = threading.Thread(target=lambda: waited.append(cache.wait("k", 60)))
    waiter.start()
    cache.put("k", "answer")
    cache.release("k")
    waiter.join()
    assert waited == ["answer"] and not cache.claim("k")  # stored: nobody computes it again
    assert cache.wait("other", 60) is None  # nobody computing it: no wait


def test_a_stored_answer_wakes_its_waiters_before_the_claimers_run_ends():
    """Regression: a claimed key was released only when the claiming run had finished all its models, so a visitor
    waiting for one shared answer waited for another visitor's whole run."""
    from components.models.result_cache import ResultCache

    cache = ResultCache(2**20)
    assert cache.claim("k1")
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(cache.wait("k1", 30)))
    waiter.start()
    cache.put("k1", ("answer", 1.0))  # the claimer stores k1 and goes on with its other models: no release yet
    waiter.join(10)
    assert not waiter.is_alive() and got == [("answer", 1.0)]


def test_a_cache_size_that_is_not_a_number_falls_back_to_the_default(monkeypatch):
    """Regression: MODEL_EXPLORER_RESULT_CACHE_MB=64MB made every Run raise ValueError."""
    from components.models import result_cache

    monkeypatch.setattr(result_cache, "_CACHE", None)
    monkeypatch.setenv(result_cache.CACHE_MB_ENV, "64MB")
    assert result_cache.shared_results().max_bytes == int(result_cache.DEFAULT_CACHE_MB * 2**20)
    monkeypatch.setattr(result_cache, "_CACHE", None)
