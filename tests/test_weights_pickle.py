"""A weights file is data, never code: a pickle payload where a loader reads a checkpoint (a torchvision file in
the models folder, the sidebar folder or the torch hub cache; a timm or transformers ``pytorch_model.bin``) is
refused with a one-line reason, and its code never runs (it would create a marker file)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hub_checkpoints import build_all, copy_incomplete

from components.core.catalog import get_entry
from components.models.factory import CannotRun, create_runner
from components.models.manager import ModelManager

ROOT = Path(__file__).resolve().parents[1]
ALEXNET_FILE = "alexnet-owt-7be5be79.pth"  # the file name in torchvision's AlexNet weights URL


class Payload:
    """Unpickling this creates ``marker`` (what an attacker's code would do first)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def write_payload(path: Path, marker: Path) -> Path:
    """A torch checkpoint file (zip + data.pkl, as torch.save writes) whose pickle runs code."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"features.0.weight": Payload(marker)}, path)
    return path


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    return build_all(tmp_path_factory.mktemp("hub"), ["mobilenet_v2", "vit_base_patch16_224"])


def _env(monkeypatch, tmp_path: Path, **env: str) -> None:
    defaults = {"MODEL_EXPLORER_MODELS_DIR": "", "HF_HUB_CACHE": str(tmp_path / "no_hf"),
                "TORCH_HOME": str(tmp_path / "no_torch")}
    for name, value in {**defaults, **env}.items():
        monkeypatch.setenv(name, value)


def assert_refused(model_id: str, task: str, marker: Path, extra_dir: str | None = None) -> str:
    with pytest.raises(CannotRun) as caught:
        create_runner(get_entry(model_id), task, weights="real", manager=ModelManager(), extra_dir=extra_dir)
    message = str(caught.value)
    assert not marker.exists(), "the checkpoint's pickle ran code"
    assert len(message.splitlines()) == 1 and "Traceback" not in message, message
    assert "refused" in message and "not only weights" in message, message
    return message


def test_torchvision_file_in_the_models_folder(monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    path = write_payload(tmp_path / "models" / ALEXNET_FILE, marker)
    _env(monkeypatch, tmp_path, MODEL_EXPLORER_MODELS_DIR=str(path.parent))
    assert str(path) in assert_refused("alexnet", "image-classification", marker)


def test_torchvision_file_in_a_sidebar_folder(monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    path = write_payload(tmp_path / "mine" / ALEXNET_FILE, marker)
    _env(monkeypatch, tmp_path)
    assert_refused("alexnet", "image-classification", marker, extra_dir=str(path.parent))


def test_torchvision_file_in_the_torch_hub_cache(monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    write_payload(tmp_path / "torch" / "hub" / "checkpoints" / ALEXNET_FILE, marker)
    _env(monkeypatch, tmp_path, TORCH_HOME=str(tmp_path / "torch"))
    assert_refused("alexnet", "image-classification", marker)


@pytest.mark.parametrize("garbage", [b"garbage bytes " * 100, b"\x80\x02}q\x00(X"])  # not a pickle; cut short
def test_a_damaged_file_is_called_damaged_not_hostile(monkeypatch, tmp_path, garbage):
    path = tmp_path / "models" / ALEXNET_FILE
    path.parent.mkdir()
    path.write_bytes(garbage)
    _env(monkeypatch, tmp_path, MODEL_EXPLORER_MODELS_DIR=str(path.parent))
    with pytest.raises(CannotRun) as caught:
        create_runner(get_entry("alexnet"), "image-classification", weights="real", manager=ModelManager())
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and "Traceback" not in message, message
    assert "not only weights" not in message and "copy the file again" in message, message


@pytest.mark.parametrize("model_id", ["mobilenet_v2", "vit_base_patch16_224"])  # timm / transformers folders
def test_pytorch_model_bin_in_a_hub_folder(hub, monkeypatch, tmp_path, model_id):
    marker = tmp_path / "pwned"
    folder = copy_incomplete(hub, model_id, tmp_path / "models", drop=("model.safetensors",))
    write_payload(folder / "pytorch_model.bin", marker)
    _env(monkeypatch, tmp_path, MODEL_EXPLORER_MODELS_DIR=str(tmp_path / "models"))
    assert_refused(model_id, "image-classification", marker)


def test_bench_cli_refuses_in_one_line(tmp_path):
    marker = tmp_path / "pwned"
    write_payload(tmp_path / "models" / ALEXNET_FILE, marker)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODEL_EXPLORER_OFFLINE": "1",
           "MODEL_EXPLORER_MODELS_DIR": str(tmp_path / "models"), "TORCH_HOME": str(tmp_path / "no_torch")}
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, "-m", "components.bench", "--task", "image-classification",
                           "--models", "alexnet", "--runs", "1", "--warmup", "0", "--batch-sizes", "1",
                           "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert not marker.exists(), "the checkpoint's pickle ran code"
    text = done.stdout + done.stderr
    assert "Traceback" not in text and "not only weights" in text, text[-3000:]
    if out.exists():
        assert all(row.get("weights") != "real" for row in json.loads(out.read_text()))
