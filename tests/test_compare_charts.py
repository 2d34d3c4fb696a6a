"""The Compare charts: the Pareto frontier of metric vs latency (which models no other model beats on both at
once), where point labels go, the axis ranges, and the results table's number formats."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from components.chart_labels import CHAR_PX, PLOT_PX, text_box
from components.compare_charts import accuracy_vs_latency, metric_range, pareto_front, results_table, table_formats


def test_dominated_points_are_left_out_and_the_front_runs_by_latency():
    # (latency ms, accuracy): C is slower and worse than A, D slower and worse than B
    points = [(20.0, 0.90), (30.0, 0.85), (10.0, 0.70), (15.0, 0.60)]  # B, D, A, C
    assert pareto_front(points, higher_is_better=True) == [2, 0]  # A then B, fastest first


def test_lower_is_better_metrics_such_as_wer_flip_the_direction():
    # (latency ms, WER): at 15 ms 0.40 is worse than 0.30 at 10 ms; at 30 ms 0.20 is worse than 0.10 at 20 ms
    points = [(10.0, 0.30), (20.0, 0.10), (15.0, 0.40), (30.0, 0.20)]
    assert pareto_front(points, higher_is_better=False) == [0, 1]
    # read as "higher is better" the same numbers give another front: the direction is used
    assert pareto_front(points, higher_is_better=True) == [0, 2]


def test_equal_latency_or_equal_metric_is_dominated_by_the_better_one():
    assert pareto_front([(10.0, 0.80), (10.0, 0.90)], True) == [1]  # same speed, less accurate
    assert pareto_front([(10.0, 0.90), (20.0, 0.90)], True) == [0]  # same accuracy, slower
    assert pareto_front([(10.0, 0.20), (10.0, 0.10)], False) == [1]  # same speed, higher WER
    assert pareto_front([(20.0, 0.10), (10.0, 0.10)], False) == [1]  # same WER, slower


def test_identical_points_both_stay_on_the_front():
    # two runs of one model with the same figures: neither beats the other, both are on the front
    points = [(10.0, 0.90), (10.0, 0.90), (20.0, 0.50)]
    assert pareto_front(points, True) == [0, 1]
    assert pareto_front([(5.0, 0.3), (5.0, 0.3)], False) == [0, 1]


@pytest.mark.parametrize("higher", [True, False])
def test_one_point_is_its_own_front_and_none_is_empty(higher):
    assert pareto_front([(42.0, 0.5)], higher) == [0]
    assert pareto_front([], higher) == []


def test_a_trade_off_keeps_every_point():
    # each faster model is less accurate: nobody dominates anybody
    points = [(40.0, 0.95), (10.0, 0.60), (20.0, 0.80), (30.0, 0.90)]
    assert pareto_front(points, True) == [1, 2, 3, 0]


def _row(model_id: str, p50: float, wer: float) -> dict:
    return {"model_id": model_id, "model_name": model_id, "task": "speech-recognition", "weights": "real",
            "latency_ms": {"p50": p50}, "metrics": {"wer": wer}, "params": 1e6}


def test_the_chart_draws_the_front_of_a_lower_is_better_metric():
    rows = [_row("fast", 10.0, 0.30), _row("good", 20.0, 0.10), _row("worse", 15.0, 0.40)]
    spec = json.loads(accuracy_vs_latency(rows).to_json())
    frontier = next(t for t in spec["data"] if t["name"] == "Pareto frontier")
    assert list(frontier["x"]) == [10.0, 20.0] and list(frontier["y"]) == [0.30, 0.10]
    assert "down-left is better" in spec["layout"]["title"]["text"]


def _image_row(model: str, runtime: str, p50: float, top1: float, run_label: str = "") -> dict:
    row = {"model_id": model.lower(), "model_name": model, "task": "image-classification", "weights": "real",
           "runtime": runtime, "latency_ms": {"p50": p50}, "metrics": {"top1": top1}, "params": 4.7e6}
    return dict(row, run_label=run_label) if run_label else row


LITE = [_image_row("EfficientNet-Lite0", "eager", 24.2, 7 / 9), _image_row("EfficientNet-Lite0", "onnx", 19.6, 7 / 9),
        _image_row("EfficientNet-Lite1", "eager", 33.2, 8 / 9), _image_row("EfficientNet-Lite1", "onnx", 21.4, 8 / 9)]


def _text_boxes(spec: dict) -> list[tuple]:
    """The estimated pixel box of every shown point label, as the chart placed it."""
    layout, boxes = spec["layout"], []
    for trace in spec["data"]:
        for x, y, text, position, size in zip(trace.get("x", []), trace.get("y", []), trace.get("customdata", []),
                                              trace.get("textposition", []), trace.get("marker", {}).get("size", [])):
            if text:
                px = (x - layout["xaxis"]["range"][0]) / (layout["xaxis"]["range"][1] - layout["xaxis"]["range"][0])
                py = (y - layout["yaxis"]["range"][0]) / (layout["yaxis"]["range"][1] - layout["yaxis"]["range"][0])
                boxes.append(text_box(px * PLOT_PX[0], py * PLOT_PX[1], size / 2 / 0.8 + 1,
                                       len(text) * CHAR_PX, position))
    return boxes


def test_point_labels_stay_inside_the_plot_and_apart():
    """Lite0 and Lite1, eager and ONNX: the fastest and slowest labels were cut at the edges, others collided."""
    spec = json.loads(accuracy_vs_latency(LITE).to_json())
    x_range = spec["layout"]["xaxis"]["range"]
    assert x_range[0] < 19.6 and x_range[1] > 33.2
    boxes = _text_boxes(spec)
    assert len(boxes) == 4
    for box in boxes:
        assert 0 <= box[0] and box[2] <= PLOT_PX[0] and 0 <= box[1] and box[3] <= PLOT_PX[1], box
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1]), (a, b)


@pytest.mark.parametrize("values", [[7 / 9], [1.0], [0.0, 1.0], [0.5, 0.95]])
def test_an_accuracy_axis_stays_within_zero_and_one_with_room_for_labels(values):
    rows = [_image_row(f"Model{i}", "eager", 10.0 + i, v) for i, v in enumerate(values)]
    low, high = json.loads(accuracy_vs_latency(rows).to_json())["layout"]["yaxis"]["range"]
    assert 0 <= low <= min(values) and max(values) < high <= 1.05


def test_metrics_outside_zero_and_one_keep_their_own_range():
    assert metric_range([0.3, 1.2])[1] > 1.2  # a word error rate can pass 1
    low, high = metric_range([-0.4, 0.9])  # a correlation can be negative
    assert -1.05 <= low < -0.4 and 0.9 < high <= 1.05


def test_an_overlaid_run_gets_its_own_marker_and_no_second_label():
    rows = LITE + [dict(r, run_label="run #1", latency_ms={"p50": r["latency_ms"]["p50"] * 1.05}) for r in LITE]
    spec = json.loads(accuracy_vs_latency(rows).to_json())
    this_run, earlier = (t for t in spec["data"] if t["name"] in ("this run", "run #1"))
    assert this_run["name"] == "this run" and earlier["name"] == "run #1"
    assert this_run["marker"]["symbol"] != earlier["marker"]["symbol"]
    assert all(this_run["customdata"]) and not any(earlier["customdata"])  # each model labelled once
    assert all(text.endswith("· run #1") for text in earlier["text"])  # the full name: hover and chart table
    assert "EfficientNet-Lite0 · onnx" in this_run["customdata"] and "%{text}" in earlier["hovertemplate"]


def test_every_number_column_of_the_results_table_gets_a_format():
    rows = [dict(r, n_samples=9, peak_rss_mb=1460.42, size_mb=18.7, load_s=0.512, flops=4.1e8, device="cpu",
                 latency_ms=dict(r["latency_ms"], p90=30.12, p99=31.4), throughput={"1": 41.3})
            for r in LITE]
    table = results_table(rows)
    formats = table_formats(table)
    numbers = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    assert sorted(formats) == sorted(numbers) and "Model" not in formats
    assert formats["Top-1 accuracy"] == "%.3f" and formats["p50 ms"] == "%.1f" and formats["Size MB"] == "%.1f"
    assert formats["Samples"] == "%d" and formats["Speed-up vs eager"] == "%.2fx"
