"""Compare's estimated points: open markers labelled "estimate" on the latency and memory charts only, their own
table, never a measured row, never on the accuracy axis or the Pareto front."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from components.compare.charts import accuracy_vs_latency, latency_distribution, memory_and_size, results_table
from components.compare.estimated import estimates_table, with_estimated_latency, with_estimated_memory
from components.core.catalog import get_entry
from components.estimate import hardware as estimate_hw
from components.estimate.hardware import Machine
from components.estimate.model import estimate_entry

APP = Path(__file__).parents[1] / "app.py"
HW = Machine(cpu="test cpu", threads=1, bandwidth_gb_s=10.0, flops_g_s=100.0, conv_g_s=50.0, depthwise_g_s=5.0,
             op_overhead_us=1.0, ram_total_gb=16.0, method="fixed for tests", measured_at="")


@pytest.fixture(scope="module")
def gpt2_estimate() -> dict:
    return estimate_entry(get_entry("gpt2"), HW)


def _measured(model: str, p50: float) -> dict:
    return {"model_id": model.lower(), "model_name": model, "task": "text-generation", "weights": "random",
            "runtime": "eager", "latency_ms": {"p50": p50, "p90": p50, "p99": p50}, "metrics": {"accuracy": 0.5},
            "latency_samples_ms": [p50 * 0.9, p50, p50 * 1.1], "peak_rss_mb": 900.0, "size_mb": 3.0, "params": 1e6}


def _estimated_traces(fig) -> list[dict]:
    return [t for t in json.loads(fig.to_json())["data"] if "estimate" in (t.get("name") or "")]


def test_the_latency_chart_draws_an_estimate_as_an_open_marker_named_estimate(gpt2_estimate):
    measured = [_measured("Tiny", 4.0)]
    fig = with_estimated_latency(latency_distribution(measured), [gpt2_estimate])
    (trace,) = _estimated_traces(fig)
    assert trace["marker"]["symbol"].endswith("-open") and trace["x"] == ["GPT-2 (124M) (estimate)"]
    assert trace["y"] == [gpt2_estimate["latency_ms"]]
    assert "estimate" in trace["hovertemplate"] and "fp32" in trace["text"][0]
    boxes = [t for t in json.loads(fig.to_json())["data"] if t["type"] == "box"]
    assert [b["name"] for b in boxes] == ["Tiny (random weights)"]  # the measurement untouched; the estimate no box


def test_the_memory_chart_draws_ram_and_weights_as_estimates_on_a_log_axis_when_far_apart(gpt2_estimate):
    fig = with_estimated_memory(memory_and_size([_measured("Tiny", 4.0)]), [gpt2_estimate])
    traces = _estimated_traces(fig)
    assert len(traces) == 2 and all(t["marker"]["symbol"].endswith("-open") for t in traces)
    weights = next(t for t in traces if t["name"].startswith("Weights"))
    assert weights["y"] == [pytest.approx(gpt2_estimate["weights_gb"]["fp32"] * 1e3)]
    assert json.loads(fig.to_json())["layout"]["yaxis"]["type"] == "log"  # 3 MB beside ~500 MB


def test_without_estimates_the_charts_are_unchanged():
    measured = [_measured("Tiny", 4.0)]
    assert with_estimated_latency(latency_distribution(measured), []) == latency_distribution(measured)
    assert with_estimated_memory(memory_and_size(measured), []) == memory_and_size(measured)


def test_estimates_get_their_own_table_and_stay_out_of_accuracy_and_results(gpt2_estimate):
    table = estimates_table([gpt2_estimate])
    assert list(table["Model"]) == ["GPT-2 (124M) (estimate)"] and table.iloc[0]["Params (exact)"] == 124439808
    assert "ms per generated token, fp32" in table.iloc[0]["Latency (estimate)"]
    assert {"Weights fp32 GB", "Weights int4 GB"} <= set(table.columns)
    measured = [dict(_measured("Tiny", 4.0), task="image-classification", metrics={"top1": 0.5})]
    assert "estimate" not in " ".join(results_table(measured)["Model"])
    assert not _estimated_traces(accuracy_vs_latency(measured))  # the accuracy chart takes measured rows only


def test_the_compare_page_offers_estimate_only_models_as_labelled_estimates(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    machine = tmp_path / "machine.json"
    monkeypatch.setenv(estimate_hw.MACHINE_ENV, str(machine))
    monkeypatch.setenv("MODEL_EXPLORER_HISTORY", str(tmp_path / "history.sqlite"))
    hw = Machine(**{**asdict(HW), "cpu": estimate_hw.cpu_model(), "threads": estimate_hw.torch_threads()})
    machine.write_text(json.dumps(asdict(hw)), encoding="utf-8")
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    at.switch_page("app_pages/compare.py").run()
    at.selectbox(key="keep_cmp_task").set_value("text-generation").run()
    picker = at.multiselect(key="keep_cmp_estimates_text-generation")
    assert {get_entry(m).name for m in ("llama2_7b", "mistral_7b", "falcon_7b", "bloom_176b")} <= set(picker.options)
    picker.set_value(["llama2_7b"]).run()
    assert not at.exception
    assert "Estimates (not measured)" in [h.value for h in at.subheader]
    table = at.dataframe[-1].value
    assert list(table["Model"]) == ["Llama 2 7B (estimate)"] and table.iloc[0]["Params (exact)"] == 6738415616
