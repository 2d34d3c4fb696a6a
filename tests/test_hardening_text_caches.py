"""Issue 21 (hardening): many text lines on the Text page; truncated or corrupt files in the app's caches."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_GROWTH_MB = 300


def _in_fresh_process(code: str) -> dict:
    """Run ``code`` (which prints one JSON object last) in a new interpreter; the object."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False, env={**os.environ, "MODEL_EXPLORER_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- defect 6: text similarity with many lines

def test_text_page_uses_at_most_the_line_limit_and_says_so():
    """2,000 one-word lines (6 KB) cost +1.8 GB and a 300 MB heatmap before: the page now keeps the first
    MAX_TEXT_LINES, says so in one line, and its heatmap has no grid of hover texts. Peak memory growth of the
    whole page run (AppTest, in its own process), after a first run has loaded the model."""
    found = _in_fresh_process(f"""
        import json, resource, sys
        sys.path.insert(0, {str(ROOT)!r})
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=300)
        at.run()
        at.switch_page("app_pages/text.py")
        at.run()

        def similarity(text):
            at.text_area(key="keep_text_input").set_value(text)
            at.run()
            at.segmented_control(key="keep_text_tool").set_value("Similarity & search")
            at.run()
            at.button(key="run_sentence-similarity").click()
            at.run()

        similarity("cat\\ndog\\ncar")  # loads MiniLM
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        similarity("\\n".join(f"w{{i}}" for i in range(2000)))
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        specs = [c.proto.spec for c in at.get("plotly_chart")]
        heatmap = next(json.loads(s) for s in specs if json.loads(s)["data"][0]["type"] == "heatmap")
        print(json.dumps({{"growth": growth, "captions": [c.value for c in at.caption],
                          "errors": [e.value for e in at.error] + [e.value for e in at.exception],
                          "rows": len(heatmap["data"][0]["z"]), "hover": "hovertext" in heatmap["data"][0],
                          "spec_bytes": max(len(s) for s in specs)}}))
    """)
    assert found["growth"] < MAX_GROWTH_MB / 2, found["growth"]  # ~40 MB
    from components.core.inputs import MAX_TEXT_LINES

    assert not found["errors"], found["errors"]
    assert f"Only the first {MAX_TEXT_LINES} of 2,000 lines are used: the limit per run." in \
        " ".join(found["captions"])
    assert found["rows"] == MAX_TEXT_LINES and not found["hover"]
    assert found["spec_bytes"] < 1_000_000, found["spec_bytes"]  # ~0.25 MB


def test_similarity_heatmap_json_stays_small():
    """Hover texts per cell grow with lines² (1,000 lines sent 76 MB): kept up to HOVER_GRID_LINES lines."""
    from components.core.inputs import MAX_TEXT_LINES
    from components.viz.charts import HOVER_GRID_LINES, similarity_heatmap

    def figure(n: int):
        sentences = [f"sentence number {i} " + "with a fairly long tail of words " * 3 for i in range(n)]
        matrix = [[1.0 if r == c else 0.123456789 for c in range(n)] for r in range(n)]
        return similarity_heatmap(sentences, matrix)

    small = figure(HOVER_GRID_LINES).data[0]
    assert small.hovertext is not None and "sentence number 3" in small.hovertext[3][4]
    big = figure(MAX_TEXT_LINES)
    assert big.data[0].hovertext is None and big.data[0].text is None and big.data[0].z[0][1] == 0.123
    assert len(big.to_json()) < 600_000  # 200 lines: ~0.3 MB
    assert big.layout.height <= 120 + 32 * HOVER_GRID_LINES


def test_one_long_line_among_short_ones_is_embedded_in_bounded_chunks():
    """All lines are padded to the longest: a 400-word line beside 199 one-word ones cost +862 MB in one
    encoder call; the runner now embeds them in chunks sized by the padded length."""
    found = _in_fresh_process(f"""
        import json, resource, sys
        sys.path.insert(0, {str(ROOT)!r})
        from components.core.settings import set_hf_offline
        set_hf_offline()
        from components.core.catalog import get_entry
        from components.models.factory import create_runner

        runner = create_runner(get_entry("all_minilm_l6_v2"), "sentence-similarity")
        runner.run(["cat", "dog"])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        lines = [" ".join(f"word{{i}}" for i in range(400))] + [f"w{{i}}" for i in range(199)]
        matrix = runner.run(lines).output["matrix"]
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps({{"growth": growth, "size": [len(matrix), len(matrix[0])]}}))
    """)
    assert found["size"] == [200, 200]
    assert found["growth"] < MAX_GROWTH_MB, found["growth"]  # ~120 MB


def test_chunked_embeddings_equal_one_call(monkeypatch):
    from components.core.catalog import get_entry
    from components.models.factory import create_runner
    from components.models.runners import text

    runner = create_runner(get_entry("all_minilm_l6_v2"), "sentence-similarity")
    lines = [" ".join(["word"] * 300), "a cat", "a dog on the sofa", "the stock market fell"] * 3
    chunked = runner.run(lines).output["matrix"]
    monkeypatch.setattr(text, "EMBED_BUDGET", 10**9)
    whole = runner.run(lines).output["matrix"]
    assert all(abs(a - b) < 1e-4 for row_a, row_b in zip(chunked, whole) for a, b in zip(row_a, row_b))


# ---------------------------------------------------------------- defect 13: damaged files in the caches

HOUR_AGO = 3600 + 600
DAMAGE = {"empty": lambda data: b"", "truncated": lambda data: data[: len(data) // 2],
          "garbage": lambda data: data[:128] + b"\x00garbage" * 64}


def _age(path: Path, seconds: float) -> None:
    import time

    os.utime(path, (time.time() - seconds, time.time() - seconds))


def _scratch(folder: Path) -> tuple[Path, Path]:
    """A stale scratch file (left over an hour ago by a process killed mid-write) and a fresh one (being
    written now by another)."""
    folder.mkdir(parents=True, exist_ok=True)
    stale, fresh = folder / "x-onnx.onnx.123.456.tmp", folder / "y.npy.789.1011.tmp"
    stale.write_bytes(b"half a file")
    fresh.write_bytes(b"being written")
    _age(stale, HOUR_AGO)
    return stale, fresh


@pytest.fixture
def tiny_export(monkeypatch, tmp_path):
    """resnet18's random-weights engine swapped for a tiny network: exports take a fraction of a second."""
    import torch

    from components.models import registry
    from components.models.extras import ArchitectureExtras
    from components.models.manager import LoadedModel

    monkeypatch.setenv("MODEL_EXPLORER_ONNX_DIR", str(tmp_path / "onnx"))
    monkeypatch.setattr(registry, "_ENGINES", dict(registry._ENGINES))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                              torch.nn.Linear(4, 3)).eval()

    def load(entry, device, weights_path=""):
        return LoadedModel(net, 0.0, device, "random", extras=ArchitectureExtras({"kind": "pixels", "size": 32}))

    original = registry.get_engine("architecture")
    registry.register_engine("architecture", load, original.runners, runtimes=original.runtimes)
    return tmp_path / "onnx"


def _onnx_runner():
    from components.core.catalog import get_entry
    from components.models.factory import create_runner
    from components.models.manager import ModelManager

    return create_runner(get_entry("resnet18"), "image-classification", "random", manager=ModelManager(),
                         runtime="onnx")


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_onnx_export_is_made_anew(tiny_export, damage):
    """A cached export cut short (a full disk, a copy killed midway) failed every later load of the model."""
    import numpy as np
    import torch

    first = _onnx_runner()
    path, pixels = first.model.path, torch.rand(1, 3, 32, 32)
    expected = first.model(pixels).numpy()
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    again = _onnx_runner()
    assert again.model.path == path and path.stat().st_size > 1000
    assert np.allclose(again.model(pixels).numpy(), expected, atol=1e-6)


def test_stale_scratch_files_in_the_onnx_folder_are_swept_on_the_next_export(tiny_export):
    stale, fresh = _scratch(tiny_export)
    _onnx_runner()
    assert not stale.exists() and fresh.exists()


CSV = b"text,label\nthe cat sat on the sofa,cat\na kitten is napping,cat\nthe market fell,money\nstocks rose,money\n"


@pytest.fixture
def features(monkeypatch, tmp_path):
    """Adapt's feature cache in an empty folder, its in-process memory emptied before each extraction."""
    from components.adapt import features as adapt_features
    from components.core.catalog import get_entry
    from components.datasets.labelled import load_labelled_upload

    monkeypatch.setenv(adapt_features.FEATURES_ENV, str(tmp_path / "features"))

    def extract():
        monkeypatch.setattr(adapt_features, "MEMORY", adapt_features.FeatureMemory(2**20))
        return adapt_features.extract(get_entry("all_minilm_l6_v2"), "real",
                                      load_labelled_upload("text-classification", "set.csv", CSV))

    return tmp_path / "features", extract


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_feature_file_is_a_miss_and_is_written_again(features, damage):
    """A zero-length feature .npy broke Adapt with EOFError."""
    import numpy as np

    folder, extract = features
    first = extract()
    (path,) = folder.glob("*.npy")
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    again = extract()
    assert again.source == "computed" and np.allclose(again.array, first.array, atol=1e-6)
    assert np.array_equal(np.load(path), again.array)
    assert extract().source == "disk"


def test_stale_scratch_files_in_the_features_folder_are_swept_on_the_next_write(features):
    folder, extract = features
    stale, fresh = _scratch(folder)
    extract()
    assert not stale.exists() and fresh.exists()
