"""The Pareto frontier of metric vs latency: which models no other model beats on both at once."""
from __future__ import annotations

import json

import pytest

from components.compare_charts import accuracy_vs_latency, pareto_front


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
