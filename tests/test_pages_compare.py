"""AppTest: the Compare page runs a small comparison, draws its charts, reloads history, refuses bad sets."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import badinputs as bad
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from components.compare.executors import EXECUTORS

APP = Path(__file__).parents[1] / "app.py"


@pytest.fixture()
def compare_page(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    return at


def _chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec).get("layout", {})
        titles.append(layout.get("title", {}).get("text", ""))
    return titles


@pytest.mark.slow
def test_small_image_comparison_draws_every_chart(compare_page, monkeypatch):
    at = compare_page
    at.multiselect(key="keep_cmp_models_image-classification").set_value(["efficientnet_lite0", "resnet18"])
    at.slider(key="keep_cmp_runs").set_value(3)
    at.slider(key="keep_cmp_warmup").set_value(1).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    real = table[table["Weights"] == "real"].iloc[0]
    assert real["Top-1 accuracy"] > 0 and real["p50 ms"] > 0 and real["Samples"] == 9
    random_row = table[table["Weights"] == "random"].iloc[0]
    assert "random weights" in random_row["Model"] and random_row["Other metrics"].startswith("random weights")
    titles = " | ".join(_chart_titles(at))
    for expected in ("vs latency", "Latency per call", "Memory and size", "Throughput", "Published vs measured"):
        assert expected in titles
    pareto = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "vs latency" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert any(trace.get("name") == "Pareto frontier" for trace in pareto["data"])
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download JSON", "Download report"]
    assert at.table, "each chart's data table (its text alternative) is on the page"

    # the run is in the history, and a fresh session can overlay it where the operator shares the history
    monkeypatch.setenv("MODEL_EXPLORER_SHARE_HISTORY", "1")
    fresh = AppTest.from_file(str(APP), default_timeout=300)
    fresh.run()
    fresh.switch_page("app_pages/compare.py").run()
    overlay = fresh.multiselect(key="keep_cmp_overlay_image-classification")
    assert overlay.options, "saved run not listed"
    overlay.set_value([overlay.options[0]]).run()
    assert "run #" in " ".join(fresh.dataframe[0].value["Model"])


def test_bring_your_own_csv_round_trips(compare_page):
    at = compare_page
    at.selectbox(key="keep_cmp_task").set_value("sentiment-analysis").run()
    at.radio(key="keep_cmp_source").set_value("Upload my own").run()
    csv = "text,label\nI love this lovely sunny day,positive\nThis is awful and I hate it,negative\n"
    at.file_uploader(key="cmp_upload").set_value(("mine.csv", csv.encode(), "text/csv")).run()
    assert not at.error
    assert any("2 labelled samples from mine.csv" in c.value for c in at.caption)
    at.multiselect(key="keep_cmp_models_sentiment-analysis").set_value(["vader"])
    at.slider(key="keep_cmp_runs").set_value(3).run()
    at.button(key="cmp_run").click().run()
    table = at.dataframe[0].value
    assert table.iloc[0]["Accuracy"] == 1.0 and table.iloc[0]["Samples"] == 2


@pytest.mark.parametrize("name, payload, message", [
    ("broken.csv", b"words,tag\nhello,x\n", "column"),
    ("empty.csv", b"", "empty"),
    ("zipped.csv", b"PK\x03\x04garbage", "ZIP"),
])
def test_bad_text_sets_give_an_error(compare_page, name, payload, message):
    at = compare_page
    at.selectbox(key="keep_cmp_task").set_value("language-identification").run()
    at.radio(key="keep_cmp_source").set_value("Upload my own").run()
    at.file_uploader(key="cmp_upload").set_value((name, payload, "text/csv")).run()
    assert not at.exception
    assert at.error and message.lower() in at.error[0].value.lower()
    assert at.button(key="cmp_run").disabled


def test_corrupt_zip_gives_an_error(compare_page):
    at = compare_page
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tabby/cat.jpg", b"this is not a jpeg")
    at.radio(key="keep_cmp_source").set_value("Upload my own").run()
    at.file_uploader(key="cmp_upload").set_value(("set.zip", buffer.getvalue(), "application/zip")).run()
    assert not at.exception and at.error


@pytest.mark.parametrize("case", sorted(bad.DATASET_ERRORS))
def test_hostile_sets_give_one_line_and_the_page_keeps_working(compare_page, case):
    at = compare_page
    task, message = bad.DATASET_EXPECTED[case]
    name, data = bad.DATASET_ERRORS[case]()
    at.selectbox(key="keep_cmp_task").set_value(task).run()
    at.radio(key="keep_cmp_source").set_value("Upload my own").run()
    at.file_uploader(key="cmp_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value and "\n" not in at.error[0].value
    assert at.button(key="cmp_run").disabled
    at.radio(key="keep_cmp_source").set_value("Bundled").run()
    assert not at.exception and not at.error
    assert any("from bundled" in c.value for c in at.caption)


def test_a_folder_on_the_server_and_an_unreachable_ray_cluster(compare_page, tmp_path, monkeypatch, chelsea, coffee):
    for folder, photo in (("tabby cat", chelsea), ("espresso", coffee)):
        (tmp_path / "set" / folder).mkdir(parents=True)
        for i in range(3):
            photo.resize((96, 64)).save(tmp_path / "set" / folder / f"{i}.png")
    monkeypatch.setenv("MODEL_EXPLORER_DATA_ROOTS", str(tmp_path))
    at = compare_page
    at.radio(key="keep_cmp_source").set_value("A file or folder on this server").run()
    at.text_input(key="keep_cmp_path").set_value(str(tmp_path / "set")).run()
    assert not at.error and any("6 labelled samples from set" in c.value for c in at.caption)
    monkeypatch.setenv("MODEL_EXPLORER_RAY_ADDRESS", "127.0.0.1:1")  # nothing listens there
    at.run()  # the operator's address: Ray is offered
    at.radio(key="keep_cmp_executor").set_value("ray").run()
    assert "keep_cmp_ray_address" not in [box.key for box in at.text_input]  # only the server picks the cluster
    assert any("Ray cluster: 127.0.0.1:1 (set by MODEL_EXPLORER_RAY_ADDRESS" in c.value for c in at.caption)
    at.multiselect(key="keep_cmp_models_image-classification").set_value(["efficientnet_lite0"]).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "no Ray cluster answers at 127.0.0.1:1" in at.error[0].value


def test_ray_is_offered_only_when_the_operator_enabled_it(tmp_path, monkeypatch):
    """A visitor cannot start a Ray cluster on the server: Ray is offered with an address or ALLOW_RAY=1."""
    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    monkeypatch.delenv("MODEL_EXPLORER_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("MODEL_EXPLORER_ALLOW_RAY", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert at.radio(key="keep_cmp_executor").options == [EXECUTORS["local"]]
    assert any("Ray is off on this server" in c.value and "MODEL_EXPLORER_ALLOW_RAY=1" in c.value for c in at.caption)
    monkeypatch.setenv("MODEL_EXPLORER_ALLOW_RAY", "1")
    at.run()
    assert at.radio(key="keep_cmp_executor").options == list(EXECUTORS.values())
    assert not any("Ray is off" in c.value for c in at.caption)
    monkeypatch.delenv("MODEL_EXPLORER_ALLOW_RAY")
    monkeypatch.setenv("MODEL_EXPLORER_RAY_ADDRESS", "127.0.0.1:1")
    at.run()
    assert at.radio(key="keep_cmp_executor").options == list(EXECUTORS.values())


def test_server_sets_stay_inside_the_shared_folders(compare_page, tmp_path, monkeypatch):
    """A classroom server must not let its users read any folder: only MODEL_EXPLORER_DATA_ROOTS."""
    monkeypatch.delenv("MODEL_EXPLORER_DATA_ROOTS", raising=False)
    at = compare_page
    at.radio(key="keep_cmp_source").set_value("A file or folder on this server").run()
    assert "keep_cmp_path" not in [box.key for box in at.text_input]
    assert any("MODEL_EXPLORER_DATA_ROOTS" in box.value for box in at.info)
    monkeypatch.setenv("MODEL_EXPLORER_DATA_ROOTS", str(tmp_path / "shared"))
    at.run()
    at.text_input(key="keep_cmp_path").set_value(str(tmp_path / "shared" / ".." / "private")).run()
    assert not at.exception and any("outside the folders this server shares" in w.value for w in at.warning)


def test_resume_finishes_an_unfinished_run(compare_page, monkeypatch):
    from components.compare.benchmark import BenchmarkConfig
    from components.compare.runs import RunPlan, run_recorded
    from components.compare.store import HistoryStore
    from components.core.catalog import get_entry
    from components.datasets import load_bundled

    plan = RunPlan("sentiment-analysis", ("distilbert_sst2", "vader"), ("eager",),
                   BenchmarkConfig(runs=3, warmup=1, batch_sizes=(1,)), "bundled")

    def crash(fraction: float, message: str) -> None:
        if message.startswith("VADER"):
            raise KeyboardInterrupt  # the server died while measuring the second row

    with pytest.raises(KeyboardInterrupt):
        run_recorded(HistoryStore(), plan, [get_entry(m) for m in plan.model_ids], load_bundled(plan.task),
                     progress=crash)
    monkeypatch.setenv("MODEL_EXPLORER_SHARE_HISTORY", "1")  # a run of the CLI (no page session)
    at = compare_page
    at.selectbox(key="keep_cmp_task").set_value("sentiment-analysis").run()
    assert "1 of 2 rows" in at.selectbox(key="cmp_resume_run").format_func(at.selectbox(key="cmp_resume_run").value)
    at.button(key="cmp_resume").click().run()
    assert not at.exception and not at.error
    assert list(at.dataframe[0].value["Model"].str.split(" ").str[0]) == ["DistilBERT", "VADER"]
    (run,) = HistoryStore().list_runs()
    assert run["meta"]["status"] == "finished" and run["n_results"] == 2
    # the picker drawn before the run is redrawn from the history: nothing is left to resume
    assert "cmp_resume_run" not in [box.key for box in at.selectbox]
    assert "cmp_resume" not in [button.key for button in at.button]
    assert [bar.proto.text for bar in at.get("progress")][0].startswith("Done in ")
    at.run()  # the results stay; the "Done" line was the run's, once
    assert len(at.dataframe[0].value) == 2 and not at.get("progress")


def test_resume_offers_only_runs_it_may_take(compare_page, tmp_path, monkeypatch):
    """Not a run still under way in another session, nor a CLI run on a set or weights folder the server does
    not share."""
    import os
    import socket

    from components.compare.benchmark import BenchmarkConfig
    from components.compare.runs import RunPlan
    from components.compare.store import HistoryStore

    monkeypatch.setenv("MODEL_EXPLORER_DATA_ROOTS", str(tmp_path / "shared"))
    monkeypatch.setenv("MODEL_EXPLORER_SHARE_HISTORY", "1")  # runs of the CLI (no page session)
    store, config = HistoryStore(), BenchmarkConfig(runs=3, warmup=1, batch_sizes=(1,))
    private = BenchmarkConfig(runs=3, warmup=1, batch_sizes=(1,), models_dir=str(tmp_path / "private"))
    for ref, status, settings in ((str(tmp_path / "private" / "set.csv"), "incomplete", config),
                                  ("bundled", "running", config), ("bundled", "incomplete", private),
                                  ("bundled", "cancelled", config)):
        plan = RunPlan("sentiment-analysis", ("vader",), ("eager",), settings, ref)
        run_id = store.start_run(plan.task, "set", plan.model_ids,
                                 {**plan.meta(), "owner": {"pid": os.getpid(), "host": socket.gethostname()}})
        store.finish_run(run_id, status)
    at = compare_page
    at.selectbox(key="keep_cmp_task").set_value("sentiment-analysis").run()
    (offered,) = at.selectbox(key="cmp_resume_run").options
    assert not at.exception and offered.startswith(f"#{run_id} ") and offered.endswith("cancelled")


def test_every_number_column_of_the_results_table_has_a_format(compare_page):
    """ms and MB with one decimal, counts whole, metrics with three decimals; the values keep every digit."""
    at = compare_page
    at.selectbox(key="keep_cmp_task").set_value("sentiment-analysis").run()
    at.multiselect(key="keep_cmp_models_sentiment-analysis").set_value(["vader"])
    at.slider(key="keep_cmp_runs").set_value(3).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0]
    formats = {name: config.get("type_config", {}).get("format")
               for name, config in json.loads(table.proto.columns).items()}
    numbers = [c for c in table.value.columns if pd.api.types.is_numeric_dtype(table.value[c])]
    assert {"Accuracy", "Samples", "p50 ms", "Peak RSS MB", "Load s"} <= set(numbers)
    assert all(formats.get(c) for c in numbers), {c: formats.get(c) for c in numbers}
    assert (formats["p50 ms"], formats["Peak RSS MB"], formats["Samples"], formats["Accuracy"]) == \
        ("%.1f", "%.1f", "%d", "%.3f")
    (result,) = at.session_state["compare_results"]  # what the downloads are made of: not rounded
    assert table.value.iloc[0]["p50 ms"] == result["latency_ms"]["p50"]


def test_a_cancelled_run_is_offered_once_its_stopped_pass_marks_it(compare_page, monkeypatch):
    """After Cancel the page reruns at once, while the stopped pass marks its run cancelled only at its next
    step: the page says it is stopping and looks again (a fragment, every second) until the run can be resumed."""
    from components.compare.benchmark import BenchmarkConfig
    from components.compare.runs import RunPlan, owner
    from components.compare.store import HistoryStore

    plan = RunPlan("sentiment-analysis", ("vader",), ("eager",), BenchmarkConfig(runs=3, warmup=1), "bundled")
    store = HistoryStore()
    run_id = store.start_run(plan.task, "bundled", plan.model_ids, {**plan.meta(), "owner": owner()})
    monkeypatch.setenv("MODEL_EXPLORER_SHARE_HISTORY", "1")  # started here without a page session
    at = compare_page
    at.selectbox(key="keep_cmp_task").set_value("sentiment-analysis")
    at.session_state["compare_run_id"], at.session_state["compare_cancelled"] = run_id, True
    at.session_state["compare_results"] = []
    at.run()
    assert not at.exception and any("Run stopped before the end" in w.value for w in at.warning)
    assert any(f"Stopping run #{run_id} after its current step" in c.value for c in at.caption)
    assert "cmp_resume_run" not in [box.key for box in at.selectbox]  # still running here: not offered yet
    at.session_state[f"compare_stopping_{run_id}"] -= 200  # a step stuck for minutes: the page stops looking
    at.run()
    assert not any("Stopping run" in c.value for c in at.caption)
    assert any(f"Run #{run_id} is still marked running 120 s after" in c.value for c in at.caption)
    store.finish_run(run_id, "cancelled")  # the stopped pass reached its next step
    at.run()
    assert not any("Stopping run" in c.value or "still marked running" in c.value for c in at.caption)
    (offered,) = at.selectbox(key="cmp_resume_run").options
    assert offered.startswith(f"#{run_id} ") and offered.endswith("cancelled")


@pytest.mark.slow
def test_lite0_and_lite2_on_nine_photos_cannot_be_told_apart(compare_page):
    """Acceptance (issue 19): on the bundled 9 photos the real Lite0 and Lite2 get intervals that overlap,
    the chart says no ranking can be read, and the paired test of the best two says it cannot tell them apart."""
    at = compare_page
    at.multiselect(key="keep_cmp_models_image-classification").set_value(["efficientnet_lite0", "efficientnet_lite2"])
    at.slider(key="keep_cmp_runs").set_value(3)
    at.slider(key="keep_cmp_warmup").set_value(1).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert all(text.startswith("[") for text in table["95% interval"]) and (table["Samples"] == 9).all()
    assert [w.value for w in at.warning] == [
        "Every interval of the headline metric overlaps: no ranking by it can be read from these points."]
    statements = " ".join(m.value for m in at.markdown)
    assert "Cannot tell EfficientNet-Lite" in statements and "on Top-1 accuracy on 9 items (exact McNemar" in statements
    pareto = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "vs latency" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert pareto["data"][0]["error_y"]["array"] and pareto["layout"]["annotations"][0]["text"].startswith("Every")


def _saved_run(status: str, session: str | None) -> int:
    """An unfinished vader run in the history, started by page session ``session`` (None: the CLI)."""
    from components.compare.benchmark import BenchmarkConfig
    from components.compare.runs import RunPlan, owner
    from components.compare.store import HistoryStore

    plan = RunPlan("sentiment-analysis", ("vader",), ("eager",), BenchmarkConfig(runs=3, warmup=1), "bundled")
    store = HistoryStore()
    run_id = store.start_run(plan.task, "bundled", plan.model_ids,
                             {**plan.meta(), "owner": owner(), **({"session": session} if session else {})})
    store.finish_run(run_id, status)
    return run_id


def _run_ids(options: list[str]) -> list[int]:
    """Run ids of the history's pickers ("#12 2026-… · vader"), in id order."""
    return sorted(int(option.split()[0].lstrip("#")) for option in options)


def _run_vader(at: AppTest) -> None:
    at.selectbox(key="keep_cmp_task").set_value("sentiment-analysis").run()
    at.multiselect(key="keep_cmp_models_sentiment-analysis").set_value(["vader"])
    at.slider(key="keep_cmp_runs").set_value(3).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error


def test_history_and_resume_show_only_this_sessions_runs_unless_shared(compare_page, monkeypatch):
    """Runs name uploads and server paths: a visitor sees and resumes only their own session's runs, unless the
    operator sets MODEL_EXPLORER_SHARE_HISTORY=1."""
    monkeypatch.delenv("MODEL_EXPLORER_SHARE_HISTORY", raising=False)
    others = [_saved_run("cancelled", "another-visitor"), _saved_run("cancelled", None)]
    at = compare_page
    _run_vader(at)
    (own,) = _run_ids(at.sidebar.multiselect(key="keep_cmp_overlay_sentiment-analysis").options)
    assert own not in others
    assert "cmp_resume_run" not in [box.key for box in at.selectbox]
    monkeypatch.setenv("MODEL_EXPLORER_SHARE_HISTORY", "1")
    at.run()
    assert _run_ids(at.sidebar.multiselect(key="keep_cmp_overlay_sentiment-analysis").options) == [*others, own]
    assert len(at.selectbox(key="cmp_resume_run").options) == 2


def test_a_damaged_history_row_is_skipped_not_the_whole_history(compare_page, monkeypatch):
    import sqlite3

    from components.compare.store import HistoryStore

    monkeypatch.setenv("MODEL_EXPLORER_SHARE_HISTORY", "1")
    good = _saved_run("cancelled", None)
    damaged = _saved_run("cancelled", None)
    with sqlite3.connect(HistoryStore().path) as db:
        db.execute("UPDATE runs SET meta = ? WHERE id = ?", ('{"status": "cancelled", "runs": 3', damaged))
    at = compare_page
    at.selectbox(key="keep_cmp_task").set_value("sentiment-analysis").run()
    assert not at.exception
    assert _run_ids(at.sidebar.multiselect(key="keep_cmp_overlay_sentiment-analysis").options) == [good]
    assert any("1 damaged history row(s) skipped" in c.value for c in at.sidebar.caption)
    (offered,) = at.selectbox(key="cmp_resume_run").options
    assert offered.startswith(f"#{good} ")


def test_the_paired_comparison_is_worked_out_once_not_on_every_rerun(compare_page, monkeypatch):
    from components.compare import charts
    from components.compare.benchmark import BenchmarkResult

    calls = []
    real = charts.paired_rows
    monkeypatch.setattr(charts, "paired_rows", lambda *args, **kw: calls.append(args[2:4]) or real(*args, **kw))

    def row(model_id: str, hits: list[int]) -> dict:
        return BenchmarkResult(
            model_id, model_id, "image-classification", "real", "bundled", 9, {"top1": sum(hits) / 9}, "",
            {"p50": 12.0}, [11.0, 12.0, 13.0], {"forward": 10.0}, {"1": 80.0}, 300.0, None, 4_700_000, "counted",
            None, 18.0, 1.0, False, "cpu", None, item_scores={"top1": hits}, items_fingerprint="same").to_dict()

    at = compare_page
    at.session_state["compare_results"] = [row("lite0", [1, 1, 1, 0, 1, 1, 1, 0, 1]),
                                           row("lite2", [1, 1, 1, 1, 1, 1, 0, 0, 0])]
    at.run()
    at.run()  # a rerun (any widget change) compares the same pair again
    assert not at.exception and len(calls) == 1
    assert any("Cannot tell lite0 and lite2 apart" in m.value for m in at.markdown)


def test_a_random_weights_row_shows_n_a_not_none_for_its_metric(compare_page):
    """Found in browser QA: the metric cell of a random-weights row read "None" (Streamlit's text for a missing
    value); the table says "n/a" there, and the value stays missing (not a text in a number column)."""
    from components.compare.benchmark import BenchmarkResult

    def row(model_id: str, weights: str, metrics: dict) -> dict:
        return BenchmarkResult(
            model_id, model_id, "image-classification", weights, "bundled", 9, metrics, "", {"p50": 12.0},
            [11.0, 12.0, 13.0], {"forward": 10.0}, {"1": 80.0}, 300.0, None, 4_700_000, "counted", None, 18.0, 1.0,
            False, "cpu", None).to_dict()

    at = compare_page
    at.session_state["compare_results"] = [row("lite0", "real", {"top1": 7 / 9}), row("resnet18", "random", {})]
    at.run()
    assert not at.exception
    table = at.dataframe[0]
    assert table.proto.placeholder == "n/a"
    assert pd.isna(table.value.iloc[1]["Top-1 accuracy"]) and table.value.iloc[0]["Top-1 accuracy"] == 7 / 9

def test_a_link_cut_to_one_model_says_so_in_the_singular(monkeypatch):
    """With MODEL_EXPLORER_MAX_MODELS=1 the note reads 'only the first is used', not 'the first 1 are used'."""
    monkeypatch.setenv("MODEL_EXPLORER_MAX_MODELS", "1")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/compare.py")
    at.query_params.update({"task": "image-classification", "models": "efficientnet_lite0,efficientnet_lite1"})
    at.run()
    notes = [w.value for w in at.warning if "MODEL_EXPLORER_MAX_MODELS" in w.value]
    assert notes == ["The link's models setting asks for 2 models per run: this server allows 1 "
                     "(MODEL_EXPLORER_MAX_MODELS raises it), so only the first is used."]


def test_a_refused_run_says_why_and_not_done(compare_page, monkeypatch):
    """Over the session's work budget nothing runs: the refusal line, and no 'Done in 0 s' bar above it."""
    monkeypatch.setenv("MODEL_EXPLORER_SESSION_WORK_S", "0")
    at = compare_page
    at.multiselect(key="keep_cmp_models_image-classification").set_value(["efficientnet_lite0"]).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert [e.value for e in at.error if "MODEL_EXPLORER_SESSION_WORK_S" in e.value]
    assert not [p for p in at.get("progress") if "Done in" in str(p.proto)]


def test_a_refused_run_keeps_the_earlier_results(compare_page, monkeypatch):
    """Found in browser QA: a Run over a limit cleared the earlier run's results. Over the models cap (checked
    when the run is planned) and over the session's work budget (checked when it starts): one line, and the
    earlier results stay below it."""
    at = compare_page
    _run_vader(at)
    before = at.dataframe[0].value
    monkeypatch.setenv("MODEL_EXPLORER_MAX_MODELS", "1")
    at.multiselect(key="keep_cmp_models_sentiment-analysis").set_value(["vader", "distilbert_sst2"]).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Models per run: 2 asked, this server allows 1 (MODEL_EXPLORER_MAX_MODELS raises it)."]
    pd.testing.assert_frame_equal(at.dataframe[0].value, before)
    assert "cmp_cancel" not in [b.key for b in at.button]  # nothing runs: nothing to cancel
    monkeypatch.setenv("MODEL_EXPLORER_SESSION_WORK_S", "0")
    at.multiselect(key="keep_cmp_models_sentiment-analysis").set_value(["vader"]).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "MODEL_EXPLORER_SESSION_WORK_S" in at.error[0].value
    pd.testing.assert_frame_equal(at.dataframe[0].value, before)
    assert not at.warning  # not "Run stopped before the end"

def test_the_estimates_table_groups_the_digits_of_exact_parameters(tmp_path, monkeypatch):
    """'Params (exact)' is drawn with thousands separators (6,738,415,616), as on the catalog card."""
    from dataclasses import asdict

    from components.estimate import hardware as estimate_hw
    from components.estimate.hardware import Machine

    machine = tmp_path / "machine.json"
    hw = Machine(cpu=estimate_hw.cpu_model(), threads=estimate_hw.torch_threads(), bandwidth_gb_s=10.0,
                 flops_g_s=100.0, conv_g_s=50.0, depthwise_g_s=5.0, op_overhead_us=1.0, ram_total_gb=16.0,
                 method="fixed for tests", measured_at="")
    machine.write_text(json.dumps(asdict(hw)), encoding="utf-8")
    monkeypatch.setenv(estimate_hw.MACHINE_ENV, str(machine))
    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page("app_pages/compare.py").run()
    at.selectbox(key="keep_cmp_task").set_value("text-generation").run()
    at.multiselect(key="keep_cmp_estimates_text-generation").set_value(["llama2_7b"]).run()
    assert not at.exception
    config = json.loads(at.dataframe[-1].proto.columns)
    assert config.get("Params (exact)", {}).get("type_config", {}).get("format") == "localized", config


def test_the_runs_slider_ends_at_the_servers_cap(tmp_path, monkeypatch):
    """Found in browser QA: the slider offered 100 timed runs where the server allows 30, and refused the Run.
    It ends at MODEL_EXPLORER_MAX_TIMED_RUNS (at most 100, what a link may carry), its default stays inside a
    lower cap, and a cap that leaves nothing to choose draws no slider (a slider from 3 to 3 broke the page)."""
    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    monkeypatch.delenv("MODEL_EXPLORER_MAX_TIMED_RUNS", raising=False)
    for cap, most, default in ((None, 30, 20), ("10", 10, 10), ("1000", 100, 20), ("3", None, None)):
        if cap:
            monkeypatch.setenv("MODEL_EXPLORER_MAX_TIMED_RUNS", cap)
        at = AppTest.from_file(str(APP), default_timeout=300)
        at.run()
        at.switch_page("app_pages/compare.py").run()
        assert not at.exception, [e.value for e in at.exception]
        if most is None:
            assert "keep_cmp_runs" not in [s.key for s in at.slider]
            assert any(c.value.startswith("Timed runs per model: 3") for c in at.caption)
            continue
        slider = at.slider(key="keep_cmp_runs")
        assert (slider.max, slider.value) == (most, default)
