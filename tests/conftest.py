"""Shared test set-up: the network is cut for every test; real inputs made locally."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["MODEL_EXPLORER_OFFLINE"] = "1"  # tests run as if there were no network
os.environ.setdefault("MODEL_EXPLORER_HISTORY", str(ROOT / "artifacts" / "test-history.sqlite"))
os.environ.setdefault("MODEL_EXPLORER_ONNX_DIR", str(ROOT / "artifacts" / "onnx"))  # exports stay in the tree
os.environ.setdefault("MODEL_EXPLORER_FEATURES_DIR", str(ROOT / "artifacts" / "features"))  # so do Adapt's

from components.core.settings import set_hf_offline  # noqa: E402

set_hf_offline()

DATA = ROOT / "data"


@pytest.fixture(scope="session")
def chelsea():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.chelsea())


@pytest.fixture(scope="session")
def coffee():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.coffee())


@pytest.fixture(scope="session")
def cat_and_coffee(chelsea, coffee):
    """chelsea (cat) on the left half, coffee on the right: the explanation tests' composed photo."""
    from composed_photos import cat_left_coffee_right

    return cat_left_coffee_right(chelsea, coffee)


@pytest.fixture(scope="session")
def lite0():
    """EfficientNet-Lite0 with its real weights (offline pack), loaded once per test session."""
    from components.core.catalog import get_entry
    from components.models.factory import create_runner

    return create_runner(get_entry("efficientnet_lite0"), "image-classification", "real")


def espeak_clip(text: str, out: Path) -> np.ndarray:
    """Speak ``text`` with espeak-ng and return 16 kHz mono float32 samples."""
    import soundfile as sf
    import soxr

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(out), text], check=True)
    samples, rate = sf.read(out, dtype="float32")
    return soxr.resample(samples, rate, 16000).astype(np.float32)


@pytest.fixture(scope="session")
def spoken(tmp_path_factory):
    text = "the weather is nice today and the children are playing outside"
    return text, espeak_clip(text, tmp_path_factory.mktemp("speech") / "clip.wav")


@pytest.fixture(scope="session")
def spoken_digits(tmp_path_factory):
    """Ten spoken digits under a -60 dBFS noise floor (seeded), as a microphone records them: espeak-ng's
    exact-zero pauses throw PocketSphinx off, real recordings never have them."""
    text = "one two three four five six seven eight nine ten"
    clean = espeak_clip(text, tmp_path_factory.mktemp("speech") / "digits.wav")
    return text, clean + np.random.default_rng(0).normal(0, 1e-3, clean.size).astype(np.float32)
