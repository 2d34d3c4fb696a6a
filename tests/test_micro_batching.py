"""Cross-session micro-batching: requests for one model that arrive together run as one forward pass, and every
request still gets exactly the answer it would get alone."""
from __future__ import annotations

import threading
import time
from contextlib import nullcontext

import pytest

from components.core import limits
from components.core.catalog import get_entry
from components.models import MicroBatcher, batch_choice, batching, create_runner, split_result

TASK = "image-classification"


def _photos():
    from components.datasets import load_bundled

    return list(load_bundled(TASK).inputs)


def _same_answer(alone, batched) -> None:
    """The same top-5 classes, in order, with scores within float noise of a different batch shape."""
    assert [r["label"] for r in batched.output] == [r["label"] for r in alone.output]
    for a, b in zip(alone.output, batched.output):
        assert b["score"] == pytest.approx(a["score"], abs=1e-4)


@pytest.mark.parametrize("runtime", ["eager", "onnx"])
def test_one_forward_pass_over_many_photos_answers_each_as_alone(runtime):
    runner = create_runner(get_entry("efficientnet_lite0"), TASK, "real", runtime=runtime)
    photos = _photos()
    together = split_result(runner.run(photos))
    assert [r.batch_size for r in together] == [len(photos)] * len(photos)
    for photo, batched in zip(photos, together):
        _same_answer(runner.run(photo), batched)


def _calls(batcher: MicroBatcher, requests: list[tuple[str, object]], slot=nullcontext, fail_on=None):
    """Answer ``requests`` (key, input) from one thread each, started together; (answers or errors, call sizes)."""
    sizes: list[int] = []
    answers: list[object] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def call(items):
        if fail_on is not None and fail_on in items:
            raise ValueError(f"cannot read {fail_on}")
        sizes.append(len(items))
        return [f"answer to {item}" for item in items]

    def one(i: int) -> None:
        start.wait()
        try:
            answers[i] = batcher.answer(requests[i][0], requests[i][1], call, slot, wait_s=30)[0]
        except Exception as exc:  # noqa: BLE001 - the test reads it
            answers[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers, sizes


def test_requests_arriving_together_share_one_call_and_each_gets_its_own_answer():
    answers, sizes = _calls(MicroBatcher(window_s=0.5, max_size=8), [("lite0", i) for i in range(5)])
    assert answers == [f"answer to {i}" for i in range(5)]
    assert sum(sizes) == 5 and max(sizes) > 1


def test_a_batch_never_grows_past_its_maximum():
    answers, sizes = _calls(MicroBatcher(window_s=0.5, max_size=3), [("lite0", i) for i in range(10)])
    assert answers == [f"answer to {i}" for i in range(10)]
    assert sum(sizes) == 10 and max(sizes) <= 3


def test_requests_for_different_models_or_options_never_share_a_call():
    answers, sizes = _calls(MicroBatcher(window_s=0.3, max_size=8), [("lite0", 1), ("lite2", 2), ("lite0+top3", 3)])
    assert answers == ["answer to 1", "answer to 2", "answer to 3"]
    assert sizes == [1, 1, 1]


def test_a_lone_request_runs_by_itself():
    batcher = MicroBatcher(window_s=0.01, max_size=8)
    assert batcher.answer("lite0", "photo", lambda items: [len(items)], nullcontext, wait_s=5) == (1, True)


def test_one_bad_input_fails_only_its_own_request():
    answers, _ = _calls(MicroBatcher(window_s=0.5, max_size=8), [("lite0", i) for i in range(4)], fail_on=2)
    assert answers[0] == "answer to 0" and answers[1] == "answer to 1" and answers[3] == "answer to 3"
    assert isinstance(answers[2], ValueError)


def test_members_wait_afresh_for_a_new_leader_and_a_wait_too_long_is_a_refusal():
    """The first leader is refused after most of the members' wait; the next one leads and waits its own full wait:
    the other member still gets its answer. A member whose batch never runs is refused in one line."""
    batcher = MicroBatcher(window_s=0.0, max_size=8)
    tries: list[int] = []

    def slot():
        tries.append(1)
        time.sleep(1.5)  # each leader waits most of a member's 2 s wait for its place
        if len(tries) == 1:
            raise limits.Refused("The server is busy")
        return nullcontext()

    answers, _ = _calls_with(batcher, [("lite0", i) for i in range(3)], slot, wait_s=2.0, stagger_s=0.1)
    assert sum(isinstance(a, limits.Refused) for a in answers) == 1  # the first leader only
    assert sorted(a for a in answers if isinstance(a, str)) == ["answer to 1", "answer to 2"]

    stuck = MicroBatcher(window_s=0.0, max_size=8)
    answers, _ = _calls_with(stuck, [("lite0", i) for i in range(2)], lambda: time.sleep(5) or nullcontext(),
                             wait_s=0.5, stagger_s=0.1)
    assert isinstance(answers[1], limits.Refused) and "busy server" in str(answers[1])


def _calls_with(batcher: MicroBatcher, requests: list[tuple[str, object]], slot, wait_s: float, stagger_s: float):
    """Like :func:`_calls`, the requests started ``stagger_s`` apart (the first leads) and waiting ``wait_s``."""
    answers: list[object] = [None] * len(requests)

    def one(i: int) -> None:
        try:
            answers[i] = batcher.answer(requests[i][0], requests[i][1], lambda items: [f"answer to {x}" for x in items],
                                        slot, wait_s=wait_s)[0]
        except Exception as exc:  # noqa: BLE001 - the test reads it
            answers[i] = exc

    threads = []
    for i in range(len(requests)):
        threads.append(threading.Thread(target=one, args=(i,)))
        threads[-1].start()
        time.sleep(stagger_s)
    for thread in threads:
        thread.join(30)
    return answers, None


def test_a_leader_refused_a_place_in_the_queue_hands_the_lead_to_the_next_request():
    batcher = MicroBatcher(window_s=0.0, max_size=8)
    others_joined = threading.Event()
    tried: list[int] = []

    def slot():
        tried.append(1)
        if len(tried) == 1:  # the first leader: refused once the others are in its batch
            others_joined.wait(10)
            raise limits.Refused("The server is busy")
        return nullcontext()

    results: dict[str, object] = {}

    def ask(name: str) -> None:
        try:
            results[name] = batcher.answer("lite0", name, lambda items: [f"answer to {i}" for i in items], slot, 30)
        except limits.Refused as exc:
            results[name] = exc

    leader = threading.Thread(target=ask, args=("first",))
    leader.start()
    time.sleep(0.2)  # the first request leads, waiting for its place
    followers = [threading.Thread(target=ask, args=(name,)) for name in ("second", "third")]
    for thread in followers:
        thread.start()
    time.sleep(0.2)
    others_joined.set()
    for thread in [leader, *followers]:
        thread.join(30)
    assert isinstance(results["first"], limits.Refused)
    assert {results["second"][0], results["third"][0]} == {"answer to second", "answer to third"}
    assert sorted(led for _, led in (results["second"], results["third"])) == [False, True]


@pytest.fixture
def one_slot_server(monkeypatch):
    """One queue slot, a fresh batcher (window 0.2 s, 8 at most), no shared answers, no batching verdicts yet."""
    monkeypatch.setenv("MODEL_EXPLORER_RESULT_CACHE_MB", "0")  # no shared answers: every photo is computed
    monkeypatch.setattr("components.models.result_cache._CACHE", None)
    monkeypatch.setattr(limits, "_QUEUE", limits.WorkQueue(slots=1, depth=32))
    monkeypatch.setattr(batching, "_BATCHER", MicroBatcher(window_s=0.2, max_size=8))
    monkeypatch.setattr(batch_choice, "_VERDICTS", {})


def _class_presses_run(photos: list, runtime: str = "eager") -> list:
    """One visitor per photo presses Run on Vision's Lite0 at the same moment; their cards."""
    from components.ui.views.run import run_models

    entry = get_entry("efficientnet_lite0")
    cards: list = [None] * len(photos)
    start = threading.Barrier(len(photos))

    def visitor(i: int) -> None:
        start.wait()
        cards[i] = run_models([entry], TASK, photos[i], runtime=runtime)[0]

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(len(photos))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(card is not None and card.result is not None for card in cards), [c and c.error for c in cards]
    return cards


def test_concurrent_playground_runs_are_batched_and_keep_every_answer(monkeypatch, one_slot_server):
    """Nine visitors press Run on nine different photos at once (one queue slot, batching on): Lite0 answers them in
    batches, each card exactly the answer of the photo alone, with its batch's size."""
    monkeypatch.setenv(batch_choice.MODE_ENV, "always")
    runner = create_runner(get_entry("efficientnet_lite0"), TASK, "real", runtime="eager")  # loaded: runs batch
    photos = _photos()
    alone = [runner.run(photo) for photo in photos]
    cards = _class_presses_run(photos)
    for single, card in zip(alone, cards):
        _same_answer(single, card.result)
    sizes = [card.result.batch_size for card in cards]
    assert max(sizes) > 1 and all(size <= 8 for size in sizes)


def test_a_model_measured_not_to_gain_from_batches_runs_each_request_alone(monkeypatch, one_slot_server):
    """By default batching is measured once per model, in the slot of the first run that meets other model work;
    a model whose batch costs each input as much as alone keeps answering one request at a time."""
    create_runner(get_entry("efficientnet_lite0"), TASK, "real", runtime="eager")
    photos = _photos()
    _class_presses_run(photos[:1])  # a lone visitor: nobody to batch with, nothing measured (it costs it nothing)
    assert batch_choice.batching_pays("efficientnet_lite0", "eager", TASK) is None
    busy, release = threading.Event(), threading.Event()

    def other_work() -> None:  # another visitor's model work, running at the same time
        with limits.server_queue().slot(30):
            busy.set()
            release.wait(30)

    monkeypatch.setattr(limits, "_QUEUE", limits.WorkQueue(slots=2, depth=32))
    other = threading.Thread(target=other_work)
    other.start()
    busy.wait(30)
    _class_presses_run(photos[:1])  # the server is busy: this run measures, in its own slot
    release.set()
    other.join(30)
    assert batch_choice.batching_pays("efficientnet_lite0", "eager", TASK) is not None
    batch_choice._VERDICTS[("efficientnet_lite0", "eager", TASK)] = False  # as measured on a CPU where it did not pay
    assert {card.result.batch_size for card in _class_presses_run(photos)} == {1}
    batch_choice._VERDICTS[("efficientnet_lite0", "eager", TASK)] = True
    assert max(card.result.batch_size for card in _class_presses_run(photos)) > 1


def test_batching_off_never_batches(monkeypatch, one_slot_server):
    monkeypatch.setenv(batch_choice.MODE_ENV, "off")
    create_runner(get_entry("efficientnet_lite0"), TASK, "real", runtime="eager")
    assert {card.result.batch_size for card in _class_presses_run(_photos())} == {1}
    assert batch_choice._VERDICTS == {}  # nothing measured either
