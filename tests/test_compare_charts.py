"""The Compare charts: the Pareto frontier of metric vs latency (which models no other model beats on both at
once), where point labels go, the axis ranges, and the results table's number formats."""
from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from components.compare.charts import (
    NO_RANKING,
    accuracy_vs_latency,
    best_two,
    metric_range,
    near_front,
    paired_comparison,
    pareto_front,
    ranking_note,
    results_table,
    runtime_comparison,
    table_formats,
    throughput_by_batch,
)
from components.core import limits
from components.viz import PALETTE
from components.viz.labels import CHAR_PX, PLOT_PX, text_box


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


def test_a_front_of_one_model_is_drawn():
    """Found in browser QA: a front of one point was a line of one point, which draws nothing."""
    rows = [_row("best", 10.0, 0.10), _row("worse", 15.0, 0.40)]
    spec = json.loads(accuracy_vs_latency(rows).to_json())
    frontier = next(t for t in spec["data"] if t["name"] == "Pareto frontier")
    assert list(frontier["x"]) == [10.0] and "markers" in frontier["mode"]


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
        if "text" not in trace.get("mode", ""):  # the frontier and the near-front rings carry no labels
            continue
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


def _crowd() -> list[dict]:
    """The most rows a run may have (models x runtimes), close together as similar models are."""
    runtimes = ("eager", "onnx", "onnx-int8")[:limits.MAX_RUNTIMES.value()]
    return [dict(_image_row(f"EfficientNet-Lite{m}", runtime, 20.0 + 3 * m + 2 * r + 0.4 * (m % 2), 0.70 + 0.02 * m),
                 throughput={"1": 40.0 + m, "4": 60.0 + m + r, "16": 70.0 + m + 2 * r})
            for m in range(limits.MAX_MODELS.value()) for r, runtime in enumerate(runtimes)]


def test_many_models_keep_their_point_labels_apart():
    """Found in browser QA: with many models the scatter's labels were drawn over each other. Those that would
    still overlap are left off (the Pareto front's first) and the title says so; every point keeps its hover."""
    rows = _crowd()
    spec = json.loads(accuracy_vs_latency(rows).to_json())
    boxes = _text_boxes(spec)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1]), (a, b)
    points = next(t for t in spec["data"] if t["name"] == "models")
    assert len(points["text"]) == len(rows) and all(points["text"])  # the hover names each point
    hidden = len(rows) - len(boxes)
    assert 0 < hidden < len(rows) and f"{hidden} label(s) left off" in spec["layout"]["title"]["text"]
    front = next(t for t in spec["data"] if t["name"] == "Pareto frontier")
    labelled = {(x, y) for x, y, text in zip(points["x"], points["y"], points["customdata"]) if text}
    assert set(zip(front["x"], front["y"])) <= labelled
    assert "left off" not in json.loads(accuracy_vs_latency(LITE).to_json())["layout"]["title"]["text"]


def test_no_two_throughput_lines_look_the_same():
    """Found in browser QA: past 8 lines the throughput chart repeated its colours. Up to the most rows a run may
    have, every line has its own colour and dash (its marker on top)."""
    rows = _crowd()
    lines = json.loads(throughput_by_batch(rows).to_json())["data"]
    assert len(lines) == limits.MAX_MODELS.value() * limits.MAX_RUNTIMES.value() == len(rows)
    looks = [(t["line"]["color"], t["line"]["dash"]) for t in lines]
    assert len(set(looks)) == len(looks) and {color for color, _ in looks} <= set(PALETTE)
    assert all(t["marker"]["color"] == t["line"]["color"] for t in lines)
    assert len({t["marker"]["symbol"] for t in lines}) > 1

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


def _with_ci(row: dict, metric: list[float], latency: list[float]) -> dict:
    return dict(row, metrics_ci={"top1": metric}, latency_ci={"p50": latency})


def test_overlapping_intervals_draw_error_bars_and_say_no_ranking_can_be_read():
    rows = [_with_ci(LITE[0], [0.45, 0.94], [23.0, 25.0]), _with_ci(LITE[2], [0.57, 0.98], [32.0, 34.5])]
    spec = json.loads(accuracy_vs_latency(rows).to_json())
    points = next(t for t in spec["data"] if t["name"] == "models")
    assert points["error_y"]["array"] == pytest.approx([0.94 - 7 / 9, 0.98 - 8 / 9])
    assert points["error_y"]["arrayminus"] == pytest.approx([7 / 9 - 0.45, 8 / 9 - 0.57])
    assert points["error_x"]["array"] == pytest.approx([0.8, 1.3])
    (note,) = [a["text"] for a in spec["layout"]["annotations"]]  # on two lines: it fits a half-width chart
    assert note.replace("<br>", " ") == NO_RANKING == ranking_note(rows) and note.count("<br>") == 1
    table = results_table(rows)
    assert list(table["95% interval"]) == ["[0.450, 0.940]", "[0.570, 0.980]"]
    assert list(table["p50 95% interval"]) == ["[23.0, 25.0]", "[32.0, 34.5]"]


def test_separated_intervals_leave_the_ranking_readable_and_mark_points_near_the_front():
    fast = _with_ci(_image_row("Fast", "eager", 10.0, 0.60), [0.55, 0.65], [9.0, 11.0])
    best = _with_ci(_image_row("Best", "eager", 30.0, 0.90), [0.86, 0.94], [29.0, 31.0])
    near = _with_ci(_image_row("Near", "eager", 40.0, 0.88), [0.84, 0.92], [39.0, 41.0])  # dominated by Best
    spec = json.loads(accuracy_vs_latency([fast, best, near]).to_json())
    assert "annotations" not in spec["layout"] and ranking_note([fast, best]) is None
    marked = next(t for t in spec["data"] if t["name"].startswith("could be on the frontier"))
    assert list(marked["x"]) == [40.0] and list(marked["y"]) == [0.88]
    points = [(10.0, 0.60), (30.0, 0.90), (40.0, 0.75)]  # the third: slower and worse than Best, both apart
    assert near_front([0, 1], points, [[9, 11], [29, 31], [39, 41]], [[0.55, 0.65], [0.86, 0.94], [0.70, 0.80]]) == []


def test_a_point_a_frontier_point_clearly_beats_is_not_marked_near_the_front():
    # j1 = (10 ms, 0.80) beats (100 ms, 0.50 [0.45, 0.55]) with both intervals apart, although j2 = (100 ms,
    # 0.90) shares its latency interval: the point is clearly dominated
    points = [(10.0, 0.80), (100.0, 0.90), (100.0, 0.50)]
    x_cis, y_cis = [[9.0, 11.0], [95.0, 105.0], [95.0, 105.0]], [[0.75, 0.85], [0.86, 0.94], [0.45, 0.55]]
    assert near_front([0, 1], points, x_cis, y_cis) == []
    close = [(10.0, 0.80), (100.0, 0.90), (100.0, 0.84)]  # its metric interval overlaps j1's: could be on the front
    assert near_front([0, 1], close, x_cis, [[0.75, 0.85], [0.86, 0.94], [0.79, 0.89]]) == [2]
    # lower is better (WER): j1 = (10 ms, 0.10 [0.08, 0.12]) clearly beats (100 ms, 0.40 [0.35, 0.45])
    assert near_front([0], [(10.0, 0.10), (100.0, 0.40)], [[9.0, 11.0], [95.0, 105.0]],
                      [[0.08, 0.12], [0.35, 0.45]], higher_is_better=False) == []


def test_the_p50_interval_column_says_when_there_are_too_few_timed_runs():
    row = dict(LITE[0], latency_samples_ms=[10.0, 11.0, 12.0], latency_ci={"p50": None})
    assert list(results_table([row])["p50 95% interval"]) == ["n/a: under 6 timed runs"]


def test_rows_without_intervals_still_chart_and_the_best_two_are_paired():
    spec = json.loads(accuracy_vs_latency(LITE).to_json())
    assert next(t for t in spec["data"] if t["name"] == "models").get("error_y") is None
    assert best_two(LITE) == (2, 3) and best_two(LITE[:1]) is None
    a = dict(LITE[0], dataset="bundled", n_samples=3, item_scores={"top1": [1, 1, 0]}, latency_samples_ms=[1.0, 2.0])
    b = dict(LITE[2], dataset="bundled", n_samples=3, item_scores={"top1": [1, 1, 1]}, latency_samples_ms=[3.0, 4.0])
    paired = paired_comparison(a, b)
    assert paired["statements"][0].startswith(
        "Cannot tell EfficientNet-Lite0 and EfficientNet-Lite1 apart on Top-1 accuracy on 3 items")


def test_the_runtime_chart_has_error_bars_on_the_speed_up():
    rows = [dict(_with_ci(LITE[0], [0.45, 0.94], [23.0, 25.0]), size_mb=18.7),
            dict(_with_ci(LITE[1], [0.45, 0.94], [19.0, 20.0]), size_mb=18.6)]
    spec = json.loads(runtime_comparison(rows).to_json())
    speedup = spec["data"][0]
    assert speedup["error_y"]["array"] == pytest.approx([25.0 / 19.0 - 24.2 / 19.6])
    assert speedup["error_y"]["arrayminus"] == pytest.approx([24.2 / 19.6 - 23.0 / 20.0])


def test_the_runtime_chart_and_table_show_the_agreement_interval():
    agreed = {"basis": "top-1 match", "value": 7 / 9, "n": 9}
    rows = [dict(LITE[0], size_mb=18.7), dict(LITE[1], size_mb=18.6, agreement=agreed, agreement_ci=[0.453, 0.937])]
    spec = json.loads(runtime_comparison(rows).to_json())
    bars = next(t for t in spec["data"] if t.get("xaxis") == "x3")
    assert bars["error_y"]["array"] == pytest.approx([0.937 - 7 / 9])
    assert bars["error_y"]["arrayminus"] == pytest.approx([7 / 9 - 0.453])
    shown = list(results_table(rows)["Agreement 95% interval"])
    assert pd.isna(shown[0]) and shown[1] == "[0.453, 0.937]"  # eager's own row: missing, shown as n/a


def test_the_downloads_carry_every_interval():
    from components.compare.store import to_csv

    row = _with_ci(LITE[0], [0.45, 0.94], [23.0, 25.0])
    header, values = to_csv([row]).splitlines()
    columns = dict(zip(header.split(","), next(csv.reader([values]))))
    assert columns["metrics_ci.top1"] == "[0.45, 0.94]" and columns["latency_ci.p50"] == "[23.0, 25.0]"
    row = dict(_with_ci(LITE[1], [0.45, 0.94], [19.0, 20.0]), agreement_ci=[0.453, 0.937])
    header, values = to_csv([row]).splitlines()
    assert dict(zip(header.split(","), next(csv.reader([values]))))["agreement_ci"] == "[0.453, 0.937]"
