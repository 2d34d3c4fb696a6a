"""The one-file HTML report (components.report.build) and its CLI, on real measurements and real model answers:
the table's values, plotly.js inline exactly once, every chart beside its text alternative, images inline, and
nothing a browser would fetch from anywhere else."""
from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from components.compare.charts import compare_figures
from components.core.catalog import get_entry
from components.core.stats import wilson
from components.report.build import (
    Chart,
    ModelResult,
    ReportInput,
    compare_report,
    entry_facts,
    playground_report,
)
from components.viz.charts import GREY, PALETTE, chart_rows, chart_summary, ranked_bars, waveform

ROOT = Path(__file__).resolve().parents[1]


class Resources(HTMLParser):
    """Every URL the page would load or link to (src, href, srcset, poster, data, action) and every tag."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.images: list[dict[str, str | None]] = []  # each <img>'s attributes

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        self.urls += [value or "" for name, value in attrs
                      if name in ("src", "href", "srcset", "poster", "data", "action", "background")]


def resources(page: str) -> Resources:
    parser = Resources()
    parser.feed(page)
    return parser


def plotly_bundles(page: str) -> int:
    from plotly.offline import get_plotlyjs

    return page.count(get_plotlyjs()[:500])


def run_cli(module: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.fixture(scope="module")
def bench_rows(tmp_path_factory) -> tuple[Path, list[dict]]:
    """Two real runtimes of EfficientNet-Lite0 on the bundled photos (the headless benchmark)."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = run_cli("components.bench", "--task", "image-classification", "--models", "efficientnet_lite0",
                   "--runs", "3", "--warmup", "1", "--batch-sizes", "1,4", "--runtime", "eager,onnx",
                   "--json", str(out))
    assert done.returncode == 0, done.stderr
    return out, json.loads(out.read_text())


@pytest.mark.slow
def test_cli_report_of_a_bench_json_holds_the_table_charts_models_set_and_environment(bench_rows, tmp_path):
    source, rows = bench_rows
    out = tmp_path / "report.html"
    done = run_cli("components.report", "--bench-json", str(source), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}") and "efficientnet_lite0" in done.stdout
    page = out.read_text(encoding="utf-8")

    for row in rows:  # the table's values, as the table writes them
        assert f"{row['latency_ms']['p50']:.4g}" in page
        assert f"{row['metrics']['top1']:.4g}" in page
    assert "EfficientNet-Lite0 · onnx" in page
    figures = compare_figures(rows)
    assert len(figures) >= 5  # accuracy vs latency, latency, memory, throughput, published, runtimes
    assert page.count("Plotly.newPlot(") == len(figures)
    assert plotly_bundles(page) == 1  # plotly.js inline once, not once per chart
    assert page.count("<figcaption>") >= len(figures)  # each chart says what it shows
    assert page.count("<summary>Chart data</summary>") == sum(bool(chart_rows(f)) for f in figures)
    assert "Pareto frontier" in page and "Speed-up over eager" in page
    assert get_entry("efficientnet_lite0").license in page  # the model's catalog facts
    assert rows[0]["env"]["cpu"] in page and rows[0]["env"]["torch"] in page  # the environment
    assert "Timed runs per row</th><td>3<" in page


@pytest.mark.slow
def test_compare_report_loads_nothing_from_elsewhere_and_inlines_its_samples(bench_rows):
    from components.report.build import bundled_samples

    _, rows = bench_rows
    samples = bundled_samples("image-classification", "bundled")
    page = compare_report(rows, "image-classification", "bundled", samples=samples)
    found = resources(page)
    assert found.urls, "the report has its thumbnails at least"
    assert all(url.startswith("data:") or url.startswith("#") for url in found.urls), \
        [u[:80] for u in found.urls if not u.startswith(("data:", "#"))]
    assert "link" not in found.tags and "iframe" not in found.tags  # no stylesheet, font or frame to fetch
    assert "@import" not in page and "url(http" not in page
    assert "mathjax" not in page.lower().split("<script")[0]
    images = [u for u in found.urls if u.startswith("data:image/")]
    assert len(images) == len(samples) == 8
    thumb = _decoded(images[0])
    assert max(thumb.size) <= 112
    assert page.count("<img ") == len(found.images) == len(images)  # every image is inline (checked above)
    assert [image.get("alt") for image in found.images] == [name for name, _ in samples]  # each says which sample


def _decoded(uri: str):
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


@pytest.mark.slow
def test_cli_report_from_the_history_and_its_one_line_errors(bench_rows, tmp_path):
    from components.compare.store import HistoryStore

    _, rows = bench_rows
    history = tmp_path / "history.sqlite"
    run_id = HistoryStore(history).save_run(rows, "image-classification", "bundled", {"runs": 3, "warmup": 1})
    env = {"MODEL_EXPLORER_HISTORY": str(history)}
    out = tmp_path / "from-history.html"
    done = run_cli("components.report", "--history", str(run_id), "--out", str(out), "--title", "Lesson 3",
                   env=env)
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "<title>Lesson 3</title>" in page and f"#{run_id} saved" in page and "warmup</th><td>1<" in page

    missing = run_cli("components.report", "--history", "999", "--out", str(out), env=env)
    assert missing.returncode == 1 and missing.stderr.strip() == "error: no saved run with id 999"


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ('{"a": 1}', "is not the output of python -m components.bench"),
    ("[]", "holds no results"),
])
def test_cli_refuses_a_file_that_is_not_a_bench_json_in_one_line(tmp_path, content, message):
    source = tmp_path / "bad.json"
    source.write_text(content, encoding="utf-8")
    done = run_cli("components.report", "--bench-json", str(source), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 1 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and not (tmp_path / "r.html").exists()


def _run(model_id: str, task: str, inputs, **options):
    from components.models.factory import create_runner

    return create_runner(get_entry(model_id), task, weights="real").run(inputs, **options)


@pytest.mark.slow
def test_playground_report_shows_the_photo_inline_and_each_models_answer_and_cost(chelsea):
    result = _run("efficientnet_lite0", "image-classification", chelsea)
    card = ModelResult("EfficientNet-Lite0", {"Latency": f"{result.latency_ms:.1f} ms", "Device": result.device},
                       entry_facts(get_entry("efficientnet_lite0")), output=result.output,
                       charts=[Chart(ranked_bars(result.output[:5]))])
    failed = ModelResult("CLIP ViT-B/32", {}, error="CLIP's weights are not on this machine.")
    page = playground_report("Vision playground", ReportInput("chelsea.png, 451×300 pixels", image=chelsea),
                             [("image-classification", [card, failed])])
    top = result.output[0]["label"]
    assert top in page and f"{result.output[0]['score']:.4g}" in page  # the answer, as a table
    assert f"{result.latency_ms:.1f} ms" in page and "CLIP&#x27;s weights are not on this machine." in page
    found = resources(page)
    (photo,) = [u for u in found.urls if u.startswith("data:image/")]
    assert _decoded(photo).size == (320, 213)  # the thumbnail keeps the photo's shape
    assert "chelsea.png, 451×300 pixels</figcaption>" in page
    assert all(u.startswith(("data:", "#")) for u in found.urls)
    assert plotly_bundles(page) == 1 and page.count("Plotly.newPlot(") == 1
    assert f"{top}" in page.split("<summary>Chart data</summary>")[1]  # the chart's table holds its bars


@pytest.mark.slow
def test_a_report_without_charts_carries_no_plotly_and_shows_the_text():
    lines = ["The weather is lovely today.", "Le chat dort sur le canapé."]
    result = _run("fasttext_lid176", "language-identification", lines)
    page = playground_report("Text playground", ReportInput("Your text", lines=lines),
                             [("language-identification", [ModelResult("fastText lid.176", {"Latency": "1 ms"},
                                                                        output=result.output)])])
    assert plotly_bundles(page) == 0 and "Plotly" not in page and len(page) < 20_000
    assert "<li>Le chat dort sur le canapé.</li>" in page
    assert [r["lang"] for r in result.output] == ["en", "fr"] and "<td>fr</td>" in page


def test_an_audio_input_is_described_not_embedded(spoken):
    text, audio = spoken
    page = playground_report("Speech playground", ReportInput("clip01.wav", audio=audio), [])
    assert f"clip01.wav: {len(audio) / 16000:.1f} s of audio" in page and "base64" not in page


# ---------------------------------------------------------------- text alternatives and palette

def test_chart_rows_read_ranked_bars_best_first_and_the_summary_names_them():
    rows = [{"label": "tabby", "score": 0.62}, {"label": "tiger cat", "score": 0.21}, {"label": "lynx", "score": 0.05}]
    figure = ranked_bars(rows)
    assert chart_rows(figure) == [{"label": "tabby", "value": 0.62}, {"label": "tiger cat", "value": 0.21},
                                  {"label": "lynx", "value": 0.05}]
    assert chart_summary(figure) == "tabby 62.0%, tiger cat 21.0%, lynx 5.0%"


def test_a_long_waveform_gets_a_summary_line_not_a_table(spoken):
    _, audio = spoken
    figure = waveform(audio, [{"start": 0.2, "end": 1.0}])
    assert chart_rows(figure) == []
    summary = chart_summary(figure)
    assert "points" in summary and "seconds 0 to" in summary


def _colours(spec) -> list[str]:
    """Every '#rrggbb' colour a figure spec sets, colour scales aside."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("colorscale", "template"):
                continue
            found += [value] if "color" in key.lower() and isinstance(value, str) and value.startswith("#") \
                else _colours(value)
    elif isinstance(spec, list):
        for value in spec:
            found += _colours(value)
    return found


@pytest.mark.slow
def test_every_compare_chart_draws_in_the_colour_blind_safe_palette(bench_rows):
    _, rows = bench_rows
    allowed = {c.lower() for c in (*PALETTE, GREY)}
    for figure in compare_figures(rows):
        spec = figure.to_plotly_json()
        assert [c.lower() for c in spec["layout"]["colorway"]] == [c.lower() for c in PALETTE]
        used = {c.lower() for c in _colours(spec["data"]) + _colours({k: v for k, v in spec["layout"].items()
                                                                     if k != "colorway"})}
        assert used <= allowed, (figure.layout.title.text, used - allowed)


# ---------------------------------------------------------------- the Compare page's report button

class _CountedInputs(list):
    """A set's inputs that count how many were read (decoded, for a real set)."""

    reads = 0

    def __getitem__(self, index):
        self.reads += 1
        return super().__getitem__(index)


def _compare_row(model_id: str, dataset: str) -> dict:
    """A Compare row as components.compare.benchmark writes it (figures made up: only the set's name is read here)."""
    from components.compare.benchmark import BenchmarkResult

    return BenchmarkResult(
        model_id, model_id, "image-classification", "real", dataset, 3, {"top1": 0.5}, "", {"p50": 12.0},
        [11.0, 12.0, 13.0], {"forward": 10.0}, {"1": 80.0}, 300.0, None, 4_700_000, "counted", None, 18.0, 1.0,
        False, "cpu", None).to_dict()


@pytest.mark.parametrize("rows_sets, page_set, with_samples", [
    (["mine.zip"], "mine.zip", True),  # the set on the page is the one measured: its samples
    (["bundled"], "mine.zip", False),  # a resumed / overlaid run on another set: its name, no wrong samples
    (["bundled", "mine.zip"], "mine.zip", False),  # runs on two sets overlaid: both named
])
def test_the_compare_report_names_the_rows_set_and_reads_samples_only_when_pressed(
        monkeypatch, chelsea, rows_sets, page_set, with_samples):
    from components.datasets import Dataset
    from components.ui.views import report as report_view

    pressed: dict = {}
    monkeypatch.setattr(report_view, "_download", lambda label, build, file_name, key: pressed.update(build=build))
    inputs = _CountedInputs([chelsea] * 3)
    page_dataset = Dataset("image-classification", page_set, ("a.jpg", "b.jpg", "c.jpg"), inputs, None)
    rows = [_compare_row(f"model_{i}", name) for i, name in enumerate(rows_sets)]

    report_view.compare_report_button(rows, "image-classification", page_dataset)
    assert inputs.reads == 0  # a rerun reads no sample: the report is built when the button is pressed
    page = pressed["build"]()
    assert f"evaluation set <strong>{', '.join(rows_sets)}</strong>" in page
    found = resources(page)
    assert [image.get("alt") for image in found.images] == (["a.jpg", "b.jpg", "c.jpg"] if with_samples else [])
    assert inputs.reads == (3 if with_samples else 0)


def test_the_compare_report_shows_intervals_the_no_ranking_note_and_the_paired_comparison():
    rows = []
    for model_id, hits in (("lite0", [1, 1, 1, 0, 1, 1, 1, 0, 1]), ("lite2", [1, 1, 1, 1, 1, 1, 0, 0, 0])):
        row = dict(_compare_row(model_id, "bundled"), n_samples=9, metrics={"top1": sum(hits) / 9},
                   metrics_ci={"top1": list(wilson(sum(hits), 9))}, item_scores={"top1": hits})
        rows.append(row)
    page = compare_report(rows, "image-classification", "bundled", charts=[])
    assert "[0.453, 0.937]" in page
    assert "Every interval of the headline metric overlaps: no ranking by it can be read" in page
    assert "<h2>Paired comparison</h2>" in page
    assert ("Cannot tell lite0 and lite2 apart on Top-1 accuracy on 9 items (exact McNemar, p = 1); "
            "about 210 items") in page


def test_the_compare_report_pairs_the_rows_picked_on_the_page(monkeypatch):
    from components.ui.views import report as report_view

    pressed: dict = {}
    monkeypatch.setattr(report_view, "_download", lambda label, build, file_name, key: pressed.update(build=build))
    rows = []
    for model_id, hits in (("lite0", [1, 1, 1, 0, 1, 1, 1, 0, 1]), ("lite2", [1, 1, 1, 1, 1, 1, 0, 0, 0]),
                           ("lite4", [1, 1, 1, 1, 1, 1, 1, 1, 0])):
        rows.append(dict(_compare_row(model_id, "bundled"), n_samples=9, metrics={"top1": sum(hits) / 9},
                         metrics_ci={"top1": list(wilson(sum(hits), 9))}, item_scores={"top1": hits}))
    report_view.compare_report_button(rows, "image-classification", None, (1, 2))  # best two: lite4 and lite0
    page = pressed["build"]()
    assert "Cannot tell lite2 and lite4 apart on Top-1 accuracy" in page and "lite4 and lite0" not in page


def test_a_missing_figure_reads_n_a_in_the_report_as_on_the_page():
    """Found in browser QA: the page showed n/a where the report (and a few text columns) left a blank cell."""
    from components.report.build import table

    cells = table([{"Model": "EfficientNet-Lite0", "Published": None, "Top-1": float("nan"), "Samples": 9}])
    assert cells.count(">n/a<") == 2 and ">9<" in cells


def test_silence_is_the_dark_end_of_the_spectrogram_and_speech_spans_it(spoken):
    """Found in browser QA: a silent clip's spectrogram was 0 dB everywhere, the bright end of the scale."""
    import numpy as np

    from components.viz.charts import FLOOR_DB, mel_spectrogram

    silent = mel_spectrogram(np.zeros(16000, dtype=np.float32)).data[0]
    assert np.all(np.asarray(silent.z) == FLOOR_DB) and (silent.zmin, silent.zmax) == (FLOOR_DB, 0.0)
    # browser QA: the floor's colour was plotly Magma's #000004, a Streamlit theme placeholder drawn pink
    placeholders = {f"#0000{n:02d}" for n in range(1, 100)}
    assert silent.colorscale[0][1] == "#000000" and not {c.lower() for _, c in silent.colorscale} & placeholders
    speech = np.asarray(mel_spectrogram(spoken[1]).data[0].z)
    assert speech.max() == 0.0 and speech.min() >= FLOOR_DB and speech.mean() < -10
