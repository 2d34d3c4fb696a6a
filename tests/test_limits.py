"""Limits per visitor (issue 21, defect 9): one server-wide queue with a bound, caps per run and a work budget per
session, a link asking for more cut to the caps with a note, a Run over a cap refused in one line while the page
keeps working (AppTest), and the operator's variable raising a cap."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.core import limits
from components.core.catalog import default_catalog

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 180
WAIT = 60  # a safety bound on event waits: a broken queue fails the test instead of hanging it
LITE0, LITE2 = "efficientnet_lite0", "efficientnet_lite2"
CLASSIFIERS = [e.id for e in default_catalog() if "image-classification" in e.tasks][:19]
GREEDY_LINK = {"task": "image-classification", "models": ",".join(CLASSIFIERS), "runtimes": "eager,onnx,onnx-int8",
               "set": "bundled", "runs": "100", "warmup": "1"}


# ---------------------------------------------------------------- the queue and the session budget

def hold(queue: limits.WorkQueue, held: threading.Event, release: threading.Event) -> threading.Thread:
    def job() -> None:
        with queue.slot(WAIT):
            held.set()
            release.wait(WAIT)
    thread = threading.Thread(target=job)
    thread.start()
    assert held.wait(WAIT)
    return thread


def test_a_full_queue_refuses_and_a_waiting_job_sees_its_place_then_runs():
    queue = limits.WorkQueue(slots=1, depth=1)
    held, release, queued, ran = (threading.Event() for _ in range(4))
    positions: list[int] = []
    holder = hold(queue, held, release)

    def waiter() -> None:
        with queue.slot(WAIT, lambda position: (positions.append(position), queued.set())):
            ran.set()
    waiting = threading.Thread(target=waiter)
    waiting.start()
    assert queued.wait(WAIT)
    assert queue.state() == (1, 1)
    with pytest.raises(limits.Refused, match="busy.*MODEL_EXPLORER_QUEUE_DEPTH raises"):
        with queue.slot(WAIT):
            pass
    assert not ran.is_set()
    release.set()
    holder.join(WAIT)
    waiting.join(WAIT)
    assert ran.is_set() and positions == [1] and queue.state() == (0, 0)


def test_a_wait_past_its_limit_or_abandoned_leaves_the_queue():
    queue = limits.WorkQueue(slots=1, depth=2)
    held, release = threading.Event(), threading.Event()
    holder = hold(queue, held, release)
    with pytest.raises(limits.Refused, match="MODEL_EXPLORER_QUEUE_WAIT_S raises"):
        with queue.slot(0):
            pass

    def leave(position: int) -> None:
        raise KeyboardInterrupt  # the page's stop while a job waits

    with pytest.raises(KeyboardInterrupt):
        with queue.slot(WAIT, leave):
            pass
    assert queue.state() == (1, 0)
    release.set()
    holder.join(WAIT)
    with queue.slot(0):
        assert queue.state() == (1, 0)


def test_a_session_over_its_work_budget_is_refused_and_others_are_not(monkeypatch):
    monkeypatch.setattr(limits, "SESSIONS", limits.SessionWork())
    monkeypatch.setenv("MODEL_EXPLORER_SESSION_WORK_S", "5")
    limits.SESSIONS.add("greedy", 10.0)
    with pytest.raises(limits.Refused, match="MODEL_EXPLORER_SESSION_WORK_S raises"):
        with limits.model_work("greedy"):
            pass
    with limits.model_work("other"):
        with limits.model_work("other"):  # nested work of one job does not queue again
            pass
    assert limits.SESSIONS.used("greedy", now=limits.time.monotonic() + limits.WINDOW_S + 1) == 0


def test_caps_name_the_variable_that_raises_them(monkeypatch):
    with pytest.raises(limits.Refused, match=r"^Models per run: 19 asked, this server allows 6 "
                                             r"\(MODEL_EXPLORER_MAX_MODELS raises it\)\.$"):
        limits.check(limits.MAX_MODELS, 19)
    monkeypatch.setenv("MODEL_EXPLORER_MAX_MODELS", "20")
    limits.check(limits.MAX_MODELS, 19)
    monkeypatch.setenv("MODEL_EXPLORER_MAX_MODELS", "many")  # unreadable: the default
    assert limits.MAX_MODELS.value() == 6


# ---------------------------------------------------------------- pages (AppTest)

def open_page(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_link_with_19_models_is_cut_to_the_caps_with_a_note(monkeypatch):
    assert len(CLASSIFIERS) == 19
    monkeypatch.setenv("MODEL_EXPLORER_MAX_RUNTIMES", "2")  # the default (3) allows every runtime
    at = open_page("compare", GREEDY_LINK)
    assert at.session_state["keep_cmp_models_image-classification"] == CLASSIFIERS[:6]
    assert at.multiselect(key="keep_cmp_runtimes").value == ["eager", "onnx"]
    assert at.slider(key="keep_cmp_runs").value == 30
    notes = [w.value for w in at.warning]
    assert ("The link's models setting asks for 19 models per run: this server allows 6 (MODEL_EXPLORER_MAX_MODELS "
            "raises it), so the first 6 are used.") in notes
    assert any("3 runtimes per run" in n and "MODEL_EXPLORER_MAX_RUNTIMES" in n for n in notes)
    assert any("100 timed runs per model" in n and "MODEL_EXPLORER_MAX_TIMED_RUNS" in n for n in notes)
    assert at.query_params["runs"] == "30"  # the link shared on is the one that runs


def test_the_operators_variables_raise_the_caps(monkeypatch):
    monkeypatch.setenv("MODEL_EXPLORER_MAX_MODELS", "19")
    monkeypatch.setenv("MODEL_EXPLORER_MAX_RUNTIMES", "3")
    monkeypatch.setenv("MODEL_EXPLORER_MAX_TIMED_RUNS", "100")
    at = open_page("compare", GREEDY_LINK)
    assert at.session_state["keep_cmp_models_image-classification"] == CLASSIFIERS
    assert at.slider(key="keep_cmp_runs").value == 100
    assert not [w.value for w in at.warning if "raises it" in w.value]


def test_a_run_over_a_cap_is_refused_in_one_line_and_the_page_keeps_working(monkeypatch):
    monkeypatch.setenv("MODEL_EXPLORER_MAX_MODELS", "1")
    at = open_page("vision", {"task": "image-classification", "sample": "coffee"})
    at.multiselect(key="keep_vision_models_image-classification").set_value([LITE0, LITE2])
    at.button(key="vision_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [
        "Models per run: 2 asked, this server allows 1 (MODEL_EXPLORER_MAX_MODELS raises it)."]
    assert not any(m.label == "Latency" for m in at.metric)  # nothing ran
    at.multiselect(key="keep_vision_models_image-classification").set_value([LITE0])
    at.button(key="vision_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert sum(m.label == "Latency" for m in at.metric) == 1
    monkeypatch.setenv("MODEL_EXPLORER_MAX_SCORECAM", "0")  # Score-CAM: ~9 s a model
    at.selectbox(key="keep_explain_method").set_value("scorecam")
    at.button(key="explain_run").click().run()
    assert [e.value for e in at.error] == [
        "Models per Score-CAM explanation: 1 asked, this server allows 0 (MODEL_EXPLORER_MAX_SCORECAM raises it)."]
    assert sum(m.label == "Latency" for m in at.metric) == 1  # the cards stay


def test_a_full_queue_refuses_a_run_in_one_line(monkeypatch):
    queue = limits.WorkQueue(slots=1, depth=0)
    monkeypatch.setattr(limits, "_QUEUE", queue)
    at = open_page("compare", {"task": "sentiment-analysis", "models": "vader", "runs": "3", "warmup": "0"})
    with queue.slot(0):  # another visitor's job holds the only slot
        at.button(key="cmp_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("The server is busy" in e.value and "MODEL_EXPLORER_QUEUE_DEPTH" in e.value for e in at.error)
    assert queue.state() == (0, 0)
    at.button(key="cmp_run").click().run()  # the slot is free again: the run goes through
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.dataframe  # the results table


def test_a_compare_run_over_the_timed_runs_cap_is_refused(monkeypatch):
    """The slider ends at the cap; a plan that asks for more (a run resumed from before the cap was lowered) is
    refused in one line."""
    from components.compare.benchmark import BenchmarkConfig
    from components.compare.runs import RunPlan
    from components.compare.session import check_limits
    from components.datasets import load_bundled

    monkeypatch.setenv("MODEL_EXPLORER_MAX_TIMED_RUNS", "4")
    at = open_page("compare", {"task": "sentiment-analysis", "models": "vader", "runs": "3", "warmup": "0"})
    assert at.slider(key="keep_cmp_runs").max == 4
    plan = RunPlan("sentiment-analysis", ("vader",), ("eager",), BenchmarkConfig(runs=10, warmup=0))
    with pytest.raises(limits.Refused) as refused:
        check_limits(plan, load_bundled("sentiment-analysis"))
    assert str(refused.value) == (
        "Timed runs per model: 10 asked, this server allows 4 (MODEL_EXPLORER_MAX_TIMED_RUNS raises it).")


def test_a_compare_run_past_its_wall_clock_limit_stops_with_a_note(monkeypatch):
    monkeypatch.setenv("MODEL_EXPLORER_MAX_RUN_S", "0")
    at = open_page("compare", {"task": "sentiment-analysis", "models": "vader", "runs": "3", "warmup": "0"})
    at.button(key="cmp_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(w.value.startswith("Stopped after 0 s, the longest run this server allows (MODEL_EXPLORER_MAX_RUN_S "
                                  "raises it)") for w in at.warning), [w.value for w in at.warning]
    assert at.session_state["compare_results"] == []  # stopped at its first step: no row measured
