"""The measurement engine: timing, throughput, evaluation, progress, cancel, failures."""
from __future__ import annotations

import io
import threading
import time
import zipfile
from typing import Any

import pytest

from components.compare.benchmark import (
    BenchmarkConfig,
    BenchmarkError,
    Cancelled,
    benchmark_model,
    compare,
    throughput,
    timed_runs,
)
from components.core.catalog import get_entry
from components.datasets import load_dataset, load_upload
from components.models.runners.base import InputError, RunResult

FAST = BenchmarkConfig(runs=3, warmup=1, batch_sizes=(1, 4))


class SleepRunner:
    """Stands in for a runner: sleeps ``ms`` per item; refuses lists unless ``batches``."""

    def __init__(self, ms: float, batches: bool) -> None:
        self.ms, self.batches, self.calls = ms, batches, 0

    def run(self, inputs: Any) -> RunResult:
        if isinstance(inputs, list) and not self.batches:
            raise InputError("one at a time")
        self.calls += 1
        n = len(inputs) if isinstance(inputs, list) else 1
        time.sleep(self.ms * n / 1000)
        return RunResult("m", "M", "t", None, {"preprocess": 0.1, "forward": self.ms * n, "postprocess": 0.1},
                         "cpu", "real")


def test_timed_runs_count_and_measure_each_call():
    runner = SleepRunner(5, batches=False)
    latencies, stages = timed_runs(runner, "x", runs=4, warmup=2)
    assert runner.calls == 6 and len(latencies) == 4
    assert all(4.5 < ms < 50 for ms in latencies)
    assert set(stages) == {"preprocess", "forward", "postprocess"} and len(stages["forward"]) == 4


def test_throughput_batches_only_where_the_runner_takes_lists():
    rates = throughput(SleepRunner(2, batches=True), ["a", "b"], "sentiment-analysis", (1, 4), 4, 2.0)
    assert rates["1"] == pytest.approx(500.0) and 100 < rates["4"] < 520
    assert set(throughput(SleepRunner(2, batches=False), ["a"], "sentiment-analysis", (1, 4), 4, 2.0)) == {"1"}
    assert set(throughput(SleepRunner(2, batches=True), ["a"], "speech-recognition", (1, 4), 4, 2.0)) == {"1"}


def test_config_rejects_nonsense():
    with pytest.raises(ValueError):
        BenchmarkConfig(runs=0)
    with pytest.raises(ValueError):
        BenchmarkConfig(weights="maybe")


def test_bring_your_own_csv_round_trips_through_fasttext(tmp_path):
    path = tmp_path / "langs.csv"
    path.write_text("text,label\n"
                    "The weather is lovely today and we are going to the beach.,en\n"
                    "Le petit déjeuner est servi à partir de sept heures du matin.,fr\n"
                    "Ich habe meinen Schlüssel im Büro vergessen.,de\n"
                    "El tren sale cada veinte minutos desde la estación central.,es\n", encoding="utf-8")
    result = benchmark_model(get_entry("fasttext_lid176"), load_dataset("language-identification", path), FAST)
    row = result.to_dict()
    assert row["dataset"] == "langs.csv" and row["n_samples"] == 4 and row["weights"] == "real"
    assert row["metrics"] == {"accuracy": 1.0, "macro_f1": 1.0}
    assert row["latency_ms"]["p50"] > 0 and set(row["throughput"]) == {"1", "4"}
    assert row["params_source"] == "catalog" and row["flops"] is None  # not a torch network


def test_vader_scores_an_uploaded_csv_like_its_own_predictions():
    data = (b"text,label\nI love this wonderful happy day!,positive\n"
            b"This is terrible and I hate it.,negative\nThe box is on the table.,negative\n")
    result = benchmark_model(get_entry("vader"), load_upload("sentiment-analysis", "s.csv", data), FAST)
    # VADER: positive, negative, neutral -> 2 of 3 right; F1 positive 1, negative 2/3, neutral 0
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)
    assert result.metrics["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_progress_rises_to_one_and_cancel_stops_the_comparison():
    dataset = load_upload("sentiment-analysis", "s.csv", b"text,label\ngood,positive\nbad,negative\n")
    seen: list[float] = []
    outcome = compare([get_entry("vader")], dataset, FAST, progress=lambda f, m: seen.append(f))
    assert outcome.results and not outcome.cancelled
    assert seen == sorted(seen) and seen[-1] == 1.0

    cancel = threading.Event()
    cancel.set()
    stopped = compare([get_entry("vader"), get_entry("fasttext_lid176")], dataset, FAST, cancel=cancel)
    assert stopped.cancelled and stopped.results == []
    with pytest.raises(Cancelled):
        benchmark_model(get_entry("vader"), dataset, FAST, cancel=cancel)


def test_a_model_that_cannot_run_is_a_failure_with_a_reason():
    dataset = load_dataset("sentiment-analysis")
    outcome = compare([get_entry("gpt4"), get_entry("vader")], dataset, FAST)
    assert [r.model_id for r in outcome.results] == ["vader"]
    assert "API" in outcome.failures["gpt4"]
    with pytest.raises(BenchmarkError, match="gpt4 cannot run here"):
        compare([get_entry("gpt4")], dataset, FAST, stop_on_error=True)


def test_image_zip_evaluates_with_efficientnet(chelsea, coffee):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder, image in (("tabby cat", chelsea), ("espresso", coffee)):
            jpeg = io.BytesIO()
            image.save(jpeg, format="JPEG")
            archive.writestr(f"{folder}/photo.jpg", jpeg.getvalue())
    dataset = load_upload("image-classification", "mine.zip", buffer.getvalue())
    result = benchmark_model(get_entry("efficientnet_lite0"), dataset, BenchmarkConfig(runs=2, warmup=1,
                                                                                       batch_sizes=(1,)))
    assert result.n_samples == 2 and result.metrics["top5"] == 1.0
    assert result.params == 4652008 and result.flops > 1e8 and result.stages_ms["forward"] > 0


def test_expected_work_ranks_rows_for_running_side_by_side():
    from components.compare.benchmark import expected_work
    from components.compare.executors.base import Row

    dataset = load_dataset("image-classification")
    work = {m: expected_work(Row(0, get_entry(m)), dataset, BenchmarkConfig()) for m in
            ("efficientnet_lite0", "efficientnet_lite2", "resnet18", "gpt4")}
    assert work["efficientnet_lite2"] > work["efficientnet_lite0"] > work["resnet18"] > work["gpt4"] == 0.0
    # ResNet-18 has 2.5x Lite0's parameters, but random weights neither batch nor evaluate
    assert get_entry("resnet18").params > 2 * get_entry("efficientnet_lite0").params
