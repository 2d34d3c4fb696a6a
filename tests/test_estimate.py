"""Meta-device estimates: exact parameter counts, per-operator roofline, the machine cache, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest

from components.core.catalog import CatalogError, default_catalog, get_entry, parse_catalog
from components.estimate import hardware as estimate_hw
from components.estimate import model as estimate
from components.estimate.hardware import Machine
from components.estimate.model import (
    DTYPE_BYTES,
    LABEL,
    build_meta,
    count_params,
    estimate_entry,
    measure_cost,
)
from components.models.loaders.architecture import build_architecture

ROOT = Path(__file__).resolve().parents[1]
HW = Machine(cpu="test cpu", threads=1, bandwidth_gb_s=10.0, flops_g_s=100.0, conv_g_s=50.0, depthwise_g_s=5.0,
             op_overhead_us=1.0, ram_total_gb=16.0, method="fixed for tests", measured_at="")
PUBLISHED = {"llama2_7b": 6.74e9, "mistral_7b": 7.24e9, "falcon_7b": 6.92e9, "bloom_176b": 176.2e9}


@pytest.fixture
def machine_file(tmp_path, monkeypatch):
    """A cached measurement of 'this' machine, so no test measures the shared box."""
    path = tmp_path / "machine.json"
    monkeypatch.setenv(estimate_hw.MACHINE_ENV, str(path))
    hw = Machine(**{**asdict(HW), "cpu": estimate_hw.cpu_model(), "threads": estimate_hw.torch_threads()})
    path.write_text(json.dumps(asdict(hw)), encoding="utf-8")
    return path


@pytest.mark.parametrize("model_id", ["efficientnet_lite0", "all_minilm_l6_v2", "gpt2", "whisper_tiny"])
def test_meta_build_counts_exactly_what_a_real_build_counts(model_id):
    entry = get_entry(model_id)
    meta, _ = build_meta(entry.architecture)
    real, _ = build_architecture(entry.architecture)
    assert next(meta.parameters()).device.type == "meta"
    assert count_params(meta) == count_params(real) == entry.params


@pytest.mark.parametrize("model_id", sorted(PUBLISHED))
def test_large_models_match_their_published_counts(model_id):
    entry = get_entry(model_id)
    assert entry.architecture is None and entry.arch_config is not None
    model, _ = build_meta(entry.arch_config)
    params = count_params(model)
    assert abs(params - PUBLISHED[model_id]) / PUBLISHED[model_id] < 0.005
    assert params == entry.params


def test_every_public_configuration_builds_to_the_catalog_count():
    for entry in (e for e in default_catalog() if e.arch_config is not None):
        model, _ = build_meta(entry.arch_config)
        assert count_params(model) == entry.params, entry.id


def test_building_bloom_176b_on_the_meta_device_takes_little_memory():
    code = textwrap.dedent("""
        import resource
        import torch
        from transformers import BloomForCausalLM  # imports counted out: only the build is measured
        from components.core.catalog import get_entry
        from components.estimate.model import build_meta, count_params
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        model, _ = build_meta(get_entry("bloom_176b").arch_config)
        assert count_params(model) == 176247271424
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    growth_mb = float(out.stdout.strip().splitlines()[-1])
    assert growth_mb < 300, growth_mb  # its fp32 weights would be 705 GB


def test_roofline_of_one_matrix_product_is_the_slower_of_compute_and_memory():
    import torch

    n = 256
    a = torch.zeros(n, n, device="meta")
    cost, _ = measure_cost(lambda: a @ a, HW)
    flops, moved = 2 * n**3, 3 * n * n * 4
    assert cost.flops == flops and cost.bytes_moved == moved and cost.operators == 1
    expected = max(flops / (HW.flops_g_s * 1e9), moved / (HW.bandwidth_gb_s * 1e9)) + HW.op_overhead_us * 1e-6
    assert cost.roofline_s == pytest.approx(expected)


@pytest.mark.parametrize(("op", "index_numel"), [("embedding", 3), ("index_select", 3), ("index", 3),
                                                   ("gather", 3 * 768)])
def test_a_lookup_moves_the_rows_it_gathers_not_the_whole_table(op, index_numel):
    import torch
    import torch.nn.functional as F

    table, ids = torch.zeros(50000, 768, device="meta"), torch.zeros(3, dtype=torch.long, device="meta")
    lookups = {"embedding": lambda: F.embedding(ids, table), "index_select": lambda: table.index_select(0, ids),
               "index": lambda: table[ids], "gather": lambda: table.gather(0, ids[:, None].expand(-1, 768))}
    cost, out = measure_cost(lookups[op], HW)
    rows = 3 * 768 * 4
    assert out.shape == (3, 768) and cost.operators == 1
    assert cost.bytes_moved == index_numel * 8 + 2 * rows  # indices, the rows read, the rows written; not 154 MB


def test_the_summary_line_says_its_latency_is_fp32():
    result = estimate_entry(get_entry("gpt2"), HW)
    assert "ms/token fp32 (estimate" in estimate.summary_line(result)


def test_depthwise_convolutions_use_their_own_measured_rate():
    import torch
    import torch.nn.functional as F

    x, w = torch.zeros(1, 8, 32, 32, device="meta"), torch.zeros(8, 1, 3, 3, device="meta")
    cost, _ = measure_cost(lambda: F.conv2d(x, w, padding=1, groups=8), HW)
    assert cost.roofline_s == pytest.approx(cost.flops / (HW.depthwise_g_s * 1e9) + HW.op_overhead_us * 1e-6)


def test_peak_activation_counts_only_tensors_alive_together():
    import torch

    x = torch.zeros(1000, 1000, device="meta")

    def chain():
        y = x
        for _ in range(20):
            y = torch.relu(y @ x)
        return y

    cost, _ = measure_cost(chain, HW)
    assert cost.peak_activation_bytes == 3 * 1000 * 1000 * 4  # y, y @ x, relu(...): never 40 matrices


def test_a_decoder_estimate_is_labelled_and_adds_up():
    result = estimate_entry(get_entry("gpt2"), HW)
    params = result["params"]
    assert result["label"] == LABEL and params == get_entry("gpt2").params
    for dtype, size in DTYPE_BYTES.items():
        assert result["weights_gb"][dtype] == pytest.approx(params * size / 1e9, abs=1e-3)
    assert result["gflops_per_token"] == pytest.approx(2 * params / 1e9, rel=0.2)  # ~2 FLOPs per weight
    assert result["kv_cache_gb"] == pytest.approx(12 * 2 * 128 * 768 * 4 / 1e9, rel=0.01)
    simple = max(params * 4 / (HW.bandwidth_gb_s * 1e9), result["gflops_per_token"] / HW.flops_g_s) * 1e3
    assert result["latency_per_token_simple_ms"]["fp32"] == pytest.approx(simple, rel=1e-3)
    per_token, fp32 = result["latency_per_token_ms"], result["latency_per_token_simple_ms"]["fp32"]
    # each weight read once: the embedding lookup reads one row, not the whole 154 MB table (that was +31%)
    assert fp32 * 0.9 <= per_token <= fp32 * 1.15 + result["operators"] * HW.op_overhead_us * 1e-3
    assert set(result["ram"]["per_dtype"]) == set(DTYPE_BYTES)


def test_an_image_model_estimate_names_its_input():
    result = estimate_entry(get_entry("efficientnet_lite0"), HW)
    assert result["input"] == "1 image 224x224"
    assert result["gflops"] == pytest.approx(0.77, rel=0.01) and result["latency_ms"] > 0


def test_an_entry_without_any_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="no architecture or public configuration"):
        estimate_entry(get_entry("gpt4"), HW)


def test_the_machine_is_measured_once_and_then_read_from_its_cache(machine_file, monkeypatch):
    def never():
        raise AssertionError("measured again")

    monkeypatch.setattr(estimate_hw, "measure_machine", never)
    assert estimate_hw.machine().flops_g_s == HW.flops_g_s
    fresh = Machine(**{**json.loads(machine_file.read_text()), "flops_g_s": 1.0})
    monkeypatch.setattr(estimate_hw, "measure_machine", lambda: fresh)
    monkeypatch.setenv("MODEL_EXPLORER_TORCH_THREADS", "3")  # another thread count: the cache is stale
    assert estimate_hw.machine() == fresh
    assert json.loads(machine_file.read_text())["flops_g_s"] == 1.0


def test_cli_writes_labelled_json(machine_file, tmp_path, capsys):
    out = tmp_path / "est.json"
    assert estimate.main(["--models", "gpt2", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["label"] == LABEL and data["models"][0]["params"] == get_entry("gpt2").params
    assert "(estimate" in capsys.readouterr().out


@pytest.mark.parametrize(("models", "message"), [("nope", "nope"), ("gpt4", "no architecture")])
def test_cli_errors_are_one_line(machine_file, capsys, models, message):
    assert estimate.main(["--models", models]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err


def test_a_malformed_arch_config_names_its_field():
    text = textwrap.dedent("""
        models:
          - {id: m, name: M, family: F, modality: text, tasks: [text-generation], year: 2023,
             paper: {title: T, url: u}, params: 1, license: L, access: open,
             source: {kind: transformers, name: o/m}, description: d, arch_config: oops}
    """)
    with pytest.raises(CatalogError, match="arch_config"):
        parse_catalog(text)


def test_catalog_card_of_an_estimate_only_model_shows_labelled_estimates(machine_file):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    app.switch_page("app_pages/catalog.py").run()
    app.text_input(key="keep_cat_query").set_value("llama").run()
    app.selectbox(key="keep_cat_card").set_value("llama2_7b").run()
    assert "estimate-only" in " ".join(m.value for m in app.markdown)
    app.toggle(key="cat_estimate").set_value(True).run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Parameters (exact)"] == "6,738,415,616"
    assert "Latency per token, fp32 (estimate)" in metrics
    assert list(app.dataframe[-1].value["dtype"]) == list(DTYPE_BYTES)
