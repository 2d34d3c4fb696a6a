"""Class activation maps beyond Grad-CAM on CNNs (issue 10): Grad-CAM++ and Score-CAM on EfficientNet-Lite0's
real weights, and Grad-CAM / Grad-CAM++ / Score-CAM on vision transformers (ViT, DeiT, Swin: timm,
torchvision, transformers), whose tokens must be laid out on their patch grid; the sanity check with these
methods; bad requests as messages."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from composed_photos import SIDE, left_share
from hub_checkpoints import build_all

from components.core.catalog import get_entry
from components.core.inputs import InputError
from components.explain.api import explain, sanity_check
from components.explain.cam import feature_layer, tapped
from components.models.extras import ImageTransformExtras
from components.models.factory import CannotRun, create_runner
from components.models.loaders.vision import _timm_loaded, imagenet_labels
from components.models.manager import LoadedModel, ModelManager
from components.models.runners.image_classification import ImageClassificationRunner

ROOT = Path(__file__).resolve().parents[1]


def _peak_column(heatmap: np.ndarray) -> int:
    return int(np.unravel_index(np.argmax(heatmap), heatmap.shape)[1])


# ---------------------------------------------------------------- CNN: Lite0, real weights

def test_grad_cam_plus_plus_finds_each_class_on_its_half(lite0, cat_and_coffee):
    cat = explain(lite0, cat_and_coffee, "tiger cat", "gradcam++")
    cup = explain(lite0, cat_and_coffee, "espresso", "gradcam++")
    assert cat.method == "gradcam++" and cat.details["layer"] == "bn2" and "Grad-CAM++" in cat.method_label
    assert cat.heatmap.shape == (2 * SIDE, 2 * SIDE) and 0 <= cat.heatmap.min() and 0.9 < cat.heatmap.max() <= 1
    assert left_share(cat.heatmap) >= 0.6, left_share(cat.heatmap)
    # Grad-CAM++ weighs each channel by its positive gradients only, so every channel that helps "espresso"
    # anywhere adds its whole map: a broad floor over the cat (0.59 of the mass lands on the coffee here, 0.87
    # with Grad-CAM). Its peak, and most of its mass, are on the coffee.
    assert 1 - left_share(cup.heatmap) > 0.55 and _peak_column(cup.heatmap) >= SIDE, left_share(cup.heatmap)
    grad_cam = explain(lite0, cat_and_coffee, "espresso", "gradcam")
    assert not np.allclose(grad_cam.heatmap, cup.heatmap)  # a method of its own, not Grad-CAM relabelled


@pytest.mark.slow  # Score-CAM: one forward pass per active channel of the 1280 (~450), four times
def test_score_cam_finds_each_class_on_its_half_and_passes_the_sanity_check(lite0, cat_and_coffee):
    shares: list[float] = []
    cat = explain(lite0, cat_and_coffee, "tiger cat", "scorecam", progress=shares.append)
    cup = explain(lite0, cat_and_coffee, "espresso", "scorecam")
    assert cat.method == "scorecam" and cat.details["layer"] == "bn2"
    assert cat.heatmap.shape == (2 * SIDE, 2 * SIDE) and 0 <= cat.heatmap.min() and 0.9 < cat.heatmap.max() <= 1
    assert left_share(cat.heatmap) >= 0.6, left_share(cat.heatmap)
    assert 1 - left_share(cup.heatmap) >= 0.6, left_share(cup.heatmap)
    assert shares == sorted(shares) and shares[-1] == 1.0 and len(shares) > 10
    randomised = create_runner(get_entry("efficientnet_lite0"), "image-classification", "random")
    check = sanity_check(lite0, randomised, cat_and_coffee, "tiger cat", method="scorecam")
    assert check.random.method == "scorecam" and check.correlation < 0.5, check.correlation


def test_sanity_check_with_grad_cam_plus_plus(lite0, cat_and_coffee):
    randomised = create_runner(get_entry("efficientnet_lite0"), "image-classification", "random")
    check = sanity_check(lite0, randomised, cat_and_coffee, "tiger cat", method="gradcam++")
    assert check.real.method == check.random.method == "gradcam++"
    assert check.random.heatmap.shape == check.real.heatmap.shape
    assert check.correlation < 0.5, check.correlation


# ---------------------------------------------------------------- vision transformers

def _timm_runner(name: str, seed: int = 0, **kwargs) -> ImageClassificationRunner:
    """A tiny timm model through the timm loader's own last step (preprocessing from its config, labels)."""
    import timm

    torch.manual_seed(seed)
    model = timm.create_model(name, pretrained=False, pretrained_cfg_overlay={"input_size": (3, 64, 64)}, **kwargs)
    return ImageClassificationRunner(get_entry("deit_small"), _timm_loaded(model, "cpu", "real"))


def _torchvision_runner(kind: str, seed: int = 0) -> ImageClassificationRunner:
    """A tiny torchvision ViT / Swin with torchvision's ImageNet preprocessing at 64 px."""
    from torchvision.models.swin_transformer import SwinTransformer
    from torchvision.models.vision_transformer import VisionTransformer
    from torchvision.transforms._presets import ImageClassification

    torch.manual_seed(seed)
    if kind == "vit":
        model = VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64)
        torch.nn.init.normal_(model.heads.head.weight, std=0.02)  # torchvision starts it at zero: no gradient
    else:
        model = SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[1, 1], num_heads=[1, 1], window_size=[4, 4])
    loaded = LoadedModel(model.eval(), 1.0, "cpu", "real",
                         extras=ImageTransformExtras(ImageClassification(crop_size=64, resize_size=72),
                                                     imagenet_labels()))
    return ImageClassificationRunner(get_entry("vit_b_16" if kind == "vit" else "swin_t"), loaded)


# name -> (builder, the layer explained, the map's grid at 64 px). Seed 1: with seed 0 the tiny timm ViT's top
# class has no positive evidence anywhere, and its Grad-CAM is (correctly) an all-zero map
TINY = {
    "timm ViT": (lambda seed=1: _timm_runner("vit_tiny_patch16_224", seed, img_size=64, embed_dim=32, depth=2,
                                             num_heads=2), "blocks.1.norm1", (4, 4)),
    "timm DeiT (distilled: 2 prefix tokens)": (
        lambda seed=1: _timm_runner("deit_tiny_distilled_patch16_224", seed, img_size=64, embed_dim=32, depth=2,
                                    num_heads=2), "blocks.1.norm1", (4, 4)),
    "timm Swin": (lambda seed=1: _timm_runner("swin_tiny_patch4_window7_224", seed, img_size=64, embed_dim=16,
                                              depths=(1, 1), num_heads=(1, 1), window_size=4), "layers.1", (8, 8)),
    "torchvision ViT": (lambda seed=1: _torchvision_runner("vit", seed), "encoder.layers.encoder_layer_1.ln_1", (4, 4)),
    "torchvision Swin": (lambda seed=1: _torchvision_runner("swin", seed), "features.3", (8, 8)),
}


@pytest.mark.parametrize("name", list(TINY))
def test_transformers_get_class_activation_maps_on_their_patch_grid(name, chelsea):
    build, layer, grid = TINY[name]
    runner = build()
    for method in ("gradcam", "gradcam++", "scorecam"):
        found = explain(runner, chelsea, None, method)
        assert found.method == method and found.details["layer"] == layer  # not the occlusion fallback
        assert found.heatmap.shape == (chelsea.height, chelsea.width)
        assert found.heatmap.min() >= 0 and found.heatmap.max() <= 1 and found.heatmap.max() > 0
        assert found.details["model_map_shape"] == list(grid)
    assert explain(runner, chelsea).method == "gradcam"  # the default for a transformer, no longer occlusion
    check = sanity_check(runner, build(seed=2), chelsea, method="gradcam")
    assert check.random.heatmap.shape == check.real.heatmap.shape and -1 <= check.correlation <= 1


def test_score_cam_lets_other_runs_of_the_model_go_on_during_its_masked_passes(chelsea):
    """The hook is only needed to read the layer: while Score-CAM's masked passes run (reported through
    ``progress``), another session's run of the same model starts and finishes instead of waiting."""
    import threading

    runner = TINY["torchvision Swin"][0]()
    other_run_done: list[bool] = []

    def progress(_share: float) -> None:
        if other_run_done:
            return
        finished = threading.Event()
        threading.Thread(target=lambda: (runner.run(chelsea), finished.set()), daemon=True).start()
        other_run_done.append(finished.wait(timeout=30))

    found = explain(runner, chelsea, None, "scorecam", progress=progress)
    assert found.method == "scorecam" and other_run_done == [True]


@pytest.mark.parametrize("name", list(TINY))
def test_the_tap_lays_tokens_on_their_grid_and_changes_nothing(name, chelsea):
    """The reshape is exact: logits are unchanged with the tap routed in, and the tap's (C, H, W) map at
    row r, column c is the layer's token (or channels-last cell) for that patch."""
    runner = TINY[name][0]()
    batch = runner.preprocess(chelsea)
    layer = feature_layer(runner.model, batch)
    seen: list[torch.Tensor] = []
    hook = runner.model.get_submodule(layer.name).register_forward_hook(lambda m, i, out: seen.append(out))
    try:
        with torch.no_grad():
            plain = runner.model(batch)
            with tapped(runner.model, layer, tuple(batch.shape[-2:])) as tap:
                routed = runner.model(batch)
    finally:
        hook.remove()
    assert torch.equal(plain, routed)
    out, grid = seen[0], tap.seen
    rows, cols = grid.shape[-2:]
    for r, c in ((0, 0), (0, cols - 1), (rows - 1, 0), (rows // 2, cols // 3)):
        cell = out[0, layer.prefix + r * cols + c] if layer.layout == "tokens" else out[0, r, c]
        assert torch.equal(grid[0, :, r, c], cell), (r, c)
    if "distilled" in name:
        assert layer.prefix == 2 == runner.model.num_prefix_tokens


def test_catalog_deit_and_transformers_vit_from_hub_checkpoints(tmp_path, chelsea):
    """DeiT-S (timm) and Google's ViT (transformers) loaded through the catalog's own loaders from Hub-format
    checkpoints; the random-weights side of the sanity check is built from the catalog's architecture."""
    hub = build_all(tmp_path, ["deit_small", "vit_base_patch16_224"])
    manager = ModelManager()
    deit = create_runner(get_entry("deit_small"), "image-classification", "real", manager=manager,
                         extra_dir=str(hub.models_dir))
    found = explain(deit, chelsea, None, "gradcam++")
    assert found.details["layer"] == "blocks.11.norm1" and found.details["model_map_shape"] == [14, 14]
    assert found.heatmap.shape == (chelsea.height, chelsea.width) and 0.9 < found.heatmap.max() <= 1
    randomised = create_runner(get_entry("deit_small"), "image-classification", "random", manager=manager)
    check = sanity_check(deit, randomised, chelsea, method="gradcam")
    assert check.random.details["layer"] == "blocks.11.norm1" and check.random.heatmap.shape == found.heatmap.shape
    vit = create_runner(get_entry("vit_base_patch16_224"), "image-classification", "real", manager=manager,
                        extra_dir=str(hub.models_dir))
    found = explain(vit, chelsea)
    assert found.method == "gradcam" and found.details["layer"] == "vit.layers.1.layernorm_before"
    assert found.details["model_map_shape"] == [4, 4] and found.heatmap.shape == (chelsea.height, chelsea.width)


# ---------------------------------------------------------------- bad requests

def test_a_token_model_no_rule_knows_falls_back_or_says_why(chelsea):
    """MLP-Mixer works on tokens with no class activation map rule: the default is occlusion (labelled);
    asking for a CAM by name is a message."""
    from timm.models.mlp_mixer import MlpMixer

    mixer = MlpMixer(img_size=64, patch_size=16, num_blocks=2, embed_dim=32)
    mixer.pretrained_cfg = {"input_size": (3, 64, 64)}
    runner = ImageClassificationRunner(get_entry("deit_small"), _timm_loaded(mixer, "cpu", "real"))
    assert explain(runner, chelsea).method == "occlusion"
    with pytest.raises(CannotRun, match="works on tokens: use occlusion"):
        explain(runner, chelsea, None, "scorecam")


def test_bad_requests_are_messages(lite0, chelsea):
    with pytest.raises(InputError, match="'zebrafish' is not a class of EfficientNet-Lite0"):
        explain(lite0, chelsea, "zebrafish", "gradcam++")
    with pytest.raises(InputError, match="'1000' is not a class"):
        explain(lite0, chelsea, "1000", "scorecam")
    vader = create_runner(get_entry("vader"), "sentiment-analysis", "real")
    with pytest.raises(CannotRun, match=r"explained by VADER lexicon \(by design\), not Score-CAM"):
        explain(vader, "a fine day", None, "scorecam")
    randomised = create_runner(get_entry("efficientnet_lite0"), "image-classification", "random")
    with pytest.raises(CannotRun, match="compares class activation maps"):
        sanity_check(lite0, randomised, chelsea, method="occlusion")


def test_cli_method_grad_cam_plus_plus(tmp_path, cat_and_coffee):
    photo, out = tmp_path / "both.png", tmp_path / "out.json"
    cat_and_coffee.save(photo)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODEL_EXPLORER_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "components.explain", "--model", "efficientnet_lite0", "--input",
                           str(photo), "--target", "tiger cat", "--method", "gradcam++", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found = json.loads(out.read_text())
    assert found["method"] == "gradcam++" and found["target"] == "tiger cat"
    heatmap = np.asarray(found["heatmap"])
    assert list(heatmap.shape) == found["heatmap_shape"] == [2 * SIDE, 2 * SIDE] and left_share(heatmap) >= 0.6
