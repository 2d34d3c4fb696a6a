"""Every hub engine proven offline (issue 8, part 4).

Tiny random checkpoints in the real on-disk formats, named like the catalog's Hub repos (tests/hub_checkpoints.py,
built once per session), are put where a user with a network would have them:
(a) a models folder (``MODEL_EXPLORER_MODELS_DIR`` / the folder named in the app), (b) the Hugging Face cache
(torchvision: the torch hub cache). Each engine then runs end to end from each placement through the factory,
through its playground page (AppTest) and through ``python -m components.bench`` (a subprocess), with real
weights. The checkpoints' classifiers are biased towards a known answer, so a result proves the file was read.
An incomplete copy (no tokenizer, a truncated or missing weights file) gives a card error naming the file.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hub_checkpoints import CHECKPOINTS, CTC_LETTER, TARGET_INDEX, WHISPER_WORD, build_all, copy_incomplete
from streamlit.testing.v1 import AppTest

from components.core.catalog import get_entry
from components.models.availability import READY, compute_availability
from components.models.manager import ModelManager, get_manager

try:
    from components.models.factory import CannotRun, create_runner
except ImportError:  # before the registry / factory split
    from components.models.registry import CannotRun, create_runner

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 180
TARGET_LABEL = "Granny Smith"  # ImageNet class TARGET_INDEX, in timm's, torchvision's and the ViT's id2label
LABELS = ["cat", "dog", "car"]
LINES = ["the cat is sleeping on the sofa", "a kitten is napping on the couch", "the stock market fell sharply"]


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    return build_all(tmp_path_factory.mktemp("hub"))


def _place(monkeypatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def fresh_models():
    """The app's process-wide manager keys models by id, not folder: start and end without these models."""
    def drop() -> None:
        manager = get_manager()
        for key, _ in manager.loaded():
            if key.split(":")[0] in CHECKPOINTS:
                manager.evict(key)

    drop()
    yield
    drop()


def _sample(task: str):
    from PIL import Image
    from skimage import data

    if task in ("image-classification", "zero-shot-image-classification", "image-captioning"):
        return Image.fromarray(data.chelsea()), {"labels": LABELS} if task.startswith("zero") else {}
    if task == "speech-recognition":
        import soundfile as sf

        audio, rate = sf.read(ROOT / "data" / "speech" / "clip01.wav", dtype="float32")
        assert rate == 16000
        return audio, {}
    if task == "sentence-similarity":
        return LINES, {"query": "a cat resting on furniture"}
    return ["I love this wonderful day", "This is terrible"], {}


def assert_output(model_id: str, task: str, output) -> None:
    """The structure each task promises, and the answer the checkpoint's own weights give."""
    if task == "image-classification":
        assert len(output) == 5 and [r["score"] for r in output] == sorted((r["score"] for r in output), reverse=True)
        assert output[0]["index"] == TARGET_INDEX and output[0]["label"] == TARGET_LABEL, output[0]
        assert 0.99 < output[0]["score"] <= 1.0
    elif task == "sentence-similarity":
        matrix = output["matrix"]
        assert len(matrix) == len(LINES) and all(len(row) == len(LINES) for row in matrix)
        assert all(abs(matrix[i][i] - 1.0) < 1e-4 for i in range(len(LINES)))
        assert all(abs(matrix[i][j] - matrix[j][i]) < 1e-5 for i in range(3) for j in range(3))
        assert sorted(r["text"] for r in output["ranking"]) == sorted(LINES)
    elif task == "sentiment-analysis":
        assert [r["label"] for r in output] == ["positive", "positive"]  # the head is biased to POSITIVE
        assert all(set(r["scores"]) == {"positive", "negative"} and abs(sum(r["scores"].values()) - 1) < 1e-5
                   for r in output)
    elif task == "speech-recognition":
        text = output["text"]
        assert isinstance(text, str)
        if model_id == "wav2vec2_base_960h":
            assert text == CTC_LETTER  # greedy CTC over the file's head: every frame says E
        else:
            words = text.split()
            assert words and set(words) == {WHISPER_WORD}, text
    elif task == "zero-shot-image-classification":
        shares = output["labels"]
        assert sorted(r["label"] for r in shares) == sorted(LABELS)
        assert abs(sum(r["score"] for r in shares) - 1.0) < 1e-5
    elif task == "image-captioning":
        assert isinstance(output["text"], str) and output["text"].strip()
    else:
        raise AssertionError(task)


# ---------------------------------------------------------------- both placements, through the factory

@pytest.mark.parametrize("placement", ["folder", "cache"])
@pytest.mark.parametrize("model_id", list(CHECKPOINTS))
def test_checkpoint_is_ready_and_runs_with_real_weights(hub, monkeypatch, model_id, placement):
    _place(monkeypatch, hub.folder_env() if placement == "folder" else hub.cache_env())
    if placement == "cache":
        monkeypatch.delenv("MODEL_EXPLORER_MODELS_DIR")
    ckpt, entry = CHECKPOINTS[model_id], get_entry(model_id)
    status = compute_availability(entry)
    assert status.status == READY, status.reason
    if placement == "folder":
        assert "local folder" in status.reason
        assert Path(status.weights_path) == hub.folder(model_id)
    else:
        assert ("torch hub cache" if ckpt.engine == "torchvision" else "Hugging Face cache") in status.reason
        assert Path(status.weights_path).is_relative_to(
            hub.torch_home if ckpt.engine == "torchvision" else hub.hf_cache)
    runner = create_runner(entry, ckpt.task, weights="real", manager=ModelManager())
    sample, options = _sample(ckpt.task)
    result = runner.run(sample, **options)
    assert result.weights == "real"
    assert_output(model_id, ckpt.task, result.output)


def test_torchvision_file_must_carry_its_url_name(hub, monkeypatch, tmp_path):
    """torchvision reads `<file name in the weights URL>`: another model's file (vgg16_bn for vgg16) or a
    renamed copy is not this model's checkpoint."""
    import shutil

    (tmp_path / "efficientnet_b0-00000000.pth").write_bytes(b"not it")
    shutil.copyfile(hub.folder("efficientnet_b0"), tmp_path / "efficientnet_b0_other-7f5810bc.pth")
    _place(monkeypatch, {"MODEL_EXPLORER_MODELS_DIR": str(tmp_path), "TORCH_HOME": str(tmp_path / "none")})
    assert compute_availability(get_entry("efficientnet_b0")).status != READY


# ---------------------------------------------------------------- incomplete copies: errors that name the file

INCOMPLETE = {  # model id -> (how the copy is broken, what the message must say)
    "distilbert_sst2": (dict(drop=("tokenizer.json",)), ["has no tokenizer file", "tokenizer.json"]),
    "vit_base_patch16_224": (dict(drop=("preprocessor_config.json",)), ["preprocessor_config.json"]),
    "whisper_tiny": (dict(drop=("preprocessor_config.json",)), ["preprocessor_config.json"]),
    "clip_vit_b_32": (dict(truncate="model.safetensors"), ["model.safetensors", "damaged or truncated"]),
    "wav2vec2_base_960h": (dict(drop=("model.safetensors",)), ["has no weights file", "model.safetensors"]),
    "mobilenet_v2": (dict(truncate="model.safetensors"), ["model.safetensors", "damaged or truncated"]),
    "deit_small": (dict(drop=("model.safetensors",)), ["has no timm weights file", "model.safetensors"]),
    "efficientnet_b0": (dict(truncate=""), ["efficientnet_b0_rwightman-7f5810bc.pth", "could not be read"]),
}


@pytest.mark.parametrize("model_id", sorted(INCOMPLETE))
def test_incomplete_copy_names_the_missing_or_broken_file(hub, monkeypatch, tmp_path, model_id):
    how, expected = INCOMPLETE[model_id]
    if how.get("truncate") == "":
        how = dict(truncate=hub.folder(model_id).name)
    broken = copy_incomplete(hub, model_id, tmp_path, **how)
    _place(monkeypatch, {"MODEL_EXPLORER_MODELS_DIR": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "none"),
                         "TORCH_HOME": str(tmp_path / "none")})
    entry = get_entry(model_id)
    assert compute_availability(entry).status == READY  # config.json / the file is there: it looks ready
    with pytest.raises(CannotRun) as caught:
        create_runner(entry, CHECKPOINTS[model_id].task, weights="real", manager=ModelManager())
    message = str(caught.value)
    assert str(broken) in message and all(part in message for part in expected), message
    assert "Traceback" not in message and len(message.splitlines()) == 1


# ---------------------------------------------------------------- playground cards (AppTest), folder named in the app

def open_page(page: str, folder: Path, via_sidebar: bool = False) -> AppTest:
    """The app with ``folder`` typed into 'Folder with local weights' (Catalog page, or this page's sidebar)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    if not via_sidebar:
        at.switch_page("app_pages/catalog.py")
        at.run()
        at.text_input(key="keep_models_dir").set_value(str(folder))
        at.run()
    at.switch_page(page)
    at.run()
    if via_sidebar:
        at.sidebar.text_input(key="keep_models_dir").set_value(str(folder))
        at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest, errors_allowed: bool = False) -> None:
    assert not at.exception, [e.value for e in at.exception]
    if not errors_allowed:
        assert not at.error, [e.value for e in at.error]


def click(at: AppTest, key: str) -> None:
    at.button(key=key).click()
    at.run()


def choose(at: AppTest, key: str, ids: list[str]) -> None:
    offered = at.multiselect(key=key).options  # shown by name
    assert {get_entry(i).name for i in ids} <= set(offered), offered
    at.multiselect(key=key).set_value(ids)
    at.run()


def real_cards(at: AppTest) -> int:
    return sum("real weights" in c.value for c in at.caption)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def top_label(spec: dict) -> str:
    bars = spec["data"][0]
    return bars["y"][max(range(len(bars["x"])), key=bars["x"].__getitem__)]


def quoted(at: AppTest) -> dict[str, str]:
    """Card title -> the text quoted under it (transcripts, captions)."""
    found, title = {}, None
    for md in at.markdown:
        if md.value.startswith("#### "):
            title = md.value[5:]
        elif md.value.startswith("> ") and title:
            found[title] = md.value[2:]
    return found


@pytest.fixture
def folder_only(hub, monkeypatch, tmp_path_factory):
    """No weights but the folder typed in the app (empty caches, no MODEL_EXPLORER_MODELS_DIR), which the
    server shares (MODEL_EXPLORER_DATA_ROOTS: this session's temporary folders)."""
    monkeypatch.delenv("MODEL_EXPLORER_MODELS_DIR", raising=False)
    monkeypatch.setenv("MODEL_EXPLORER_DATA_ROOTS", str(tmp_path_factory.getbasetemp()))
    _place(monkeypatch, {"HF_HUB_CACHE": str(hub.root / "empty_hf"), "TORCH_HOME": str(hub.root / "empty_torch")})
    return hub.models_dir


VISION = ["mobilenet_v2", "deit_small", "efficientnet_b0", "vit_base_patch16_224"]


def test_vision_page_runs_timm_torchvision_and_vit(folder_only, fresh_models):
    at = open_page("app_pages/vision.py", folder_only)
    click(at, "vision_input_sample_chelsea.jpg")
    at.radio(key="keep_vision_task").set_value("Image classification (ImageNet-1k)")
    at.run()
    choose(at, "keep_vision_models_image-classification", VISION)
    click(at, "vision_run")
    assert_clean(at)
    assert real_cards(at) == len(VISION)
    specs = charts(at)
    assert len(specs) == len(VISION) and all(len(s["data"][0]["y"]) == 5 for s in specs)
    assert [top_label(s) for s in specs] == [TARGET_LABEL] * len(VISION)


def test_a_folder_typed_in_the_app_counts_only_inside_the_shared_folders(folder_only, monkeypatch, tmp_path):
    """A classroom server must not load weights from wherever a user points: the sidebar folder is searched
    only inside MODEL_EXPLORER_DATA_ROOTS; without it the field is off and says why."""
    offered = "keep_vision_models_image-classification"
    for roots in ("", str(tmp_path)):  # none shared, then one that does not hold the folder
        monkeypatch.setenv("MODEL_EXPLORER_DATA_ROOTS", roots)
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.run()
        at.switch_page("app_pages/catalog.py")
        at.run()
        field = at.sidebar.text_input(key="keep_models_dir")
        assert field.disabled == (not roots)
        assert ("MODEL_EXPLORER_DATA_ROOTS" if not roots else f"Inside {tmp_path}") in field.help
        if roots:
            field.set_value(str(folder_only))
        else:  # a browser cannot type into it; a value kept in the session is still ignored
            at.session_state["keep_models_dir"] = str(folder_only)
        at.run()
        outside = [w.value for w in at.sidebar.warning]
        assert bool(outside) == bool(roots) and all("outside the folders this server shares" in w for w in outside)
        at.switch_page("app_pages/vision.py")
        at.run()
        at.radio(key="keep_vision_task").set_value("Image classification (ImageNet-1k)")
        at.run()
        assert get_entry("deit_small").name not in at.multiselect(key=offered).options
        assert_clean(at)
    monkeypatch.setenv("MODEL_EXPLORER_DATA_ROOTS", str(folder_only.parent))
    at.run()
    assert get_entry("deit_small").name in at.multiselect(key=offered).options


def test_text_page_runs_hub_encoder_and_classifier(folder_only, fresh_models):
    at = open_page("app_pages/text.py", folder_only)
    at.text_area(key="keep_text_input").set_value("\n".join(LINES))
    at.run()
    at.segmented_control(key="keep_text_tool").set_value("Similarity & search")
    at.run()
    choose(at, "keep_text_models_sentence-similarity", ["all_minilm_l12_v2", "all_minilm_l6_v2"])
    click(at, "run_sentence-similarity")
    assert_clean(at)
    assert real_cards(at) == 2
    heatmaps = [s for s in charts(at) if s["data"][0]["type"] == "heatmap"]
    assert len(heatmaps) == 2
    for spec in heatmaps:
        matrix = spec["data"][0]["z"]
        assert len(matrix) == len(LINES) and all(abs(matrix[i][i] - 1) < 1e-3 for i in range(len(LINES)))

    at.segmented_control(key="keep_text_tool").set_value("Sentiment")
    at.run()
    choose(at, "keep_text_models_sentiment-analysis", ["distilbert_sst2", "vader"])
    click(at, "run_sentiment-analysis")
    assert_clean(at)
    assert real_cards(at) == 2
    tables = [d.value for d in at.dataframe]
    sst2 = next(t for t in tables if set(t["sentiment"]) == {"positive"})  # the tiny head always says POSITIVE
    assert list(sst2["text"]) == LINES and all(0.5 < s <= 1 for s in sst2["score"])


def test_speech_page_runs_wav2vec2_and_whisper(folder_only, fresh_models):
    at = open_page("app_pages/speech.py", folder_only)
    click(at, "speech_input_sample_clip01.wav")
    assert_clean(at)
    choose(at, "keep_speech_models", ["wav2vec2_base_960h", "whisper_tiny"])
    click(at, "speech_run")
    assert_clean(at)
    assert real_cards(at) == 2
    found = quoted(at)
    assert found[get_entry("wav2vec2_base_960h").name] == CTC_LETTER
    assert set(found[get_entry("whisper_tiny").name].split()) == {WHISPER_WORD}


def test_multimodal_page_runs_clip_and_blip(folder_only, fresh_models):
    at = open_page("app_pages/multimodal.py", folder_only, via_sidebar=True)  # the page's own sidebar field
    click(at, "multimodal_input_sample_chelsea.jpg")
    at.segmented_control(key="keep_mm_tool").set_value("Zero-shot labels")
    at.run()
    choose(at, "keep_mm_models", ["clip_vit_b_32"])
    click(at, "mm_run")
    assert_clean(at)
    assert real_cards(at) == 1
    (spec,) = charts(at)
    labels = [l.strip() for l in at.text_input(key="keep_mm_labels").value.split(",")]
    assert sorted(spec["data"][0]["y"]) == sorted(labels[:8])
    assert abs(sum(spec["data"][0]["x"]) - 1.0) < 1e-4  # CLIP's label shares sum to 1

    at.segmented_control(key="keep_mm_tool").set_value("Caption")
    at.run()
    assert_clean(at)
    assert at.multiselect(key="keep_mm_caption_models").value == ["blip_captioning_base"]
    click(at, "mm_caption")
    assert_clean(at)
    assert real_cards(at) == 1
    caption = quoted(at)[get_entry("blip_captioning_base").name]
    assert isinstance(caption, str) and caption.strip()


@pytest.mark.parametrize("page, model_id, how, expected", [
    ("text", "distilbert_sst2", dict(drop=("tokenizer.json",)), "has no tokenizer file"),
    ("vision", "mobilenet_v2", dict(truncate="model.safetensors"), "damaged or truncated"),
])
def test_incomplete_folder_gives_a_card_error_naming_the_file(hub, folder_only, fresh_models, tmp_path, page,
                                                              model_id, how, expected):
    broken = copy_incomplete(hub, model_id, tmp_path / "models", **how)
    at = open_page(f"app_pages/{page}.py", tmp_path / "models")
    if page == "text":
        at.text_area(key="keep_text_input").set_value("I love this wonderful day")
        at.run()
        at.segmented_control(key="keep_text_tool").set_value("Sentiment")
        at.run()
        choose(at, "keep_text_models_sentiment-analysis", [model_id])
        click(at, "run_sentiment-analysis")
    else:
        click(at, "vision_input_sample_chelsea.jpg")
        at.radio(key="keep_vision_task").set_value("Image classification (ImageNet-1k)")
        at.run()
        choose(at, "keep_vision_models_image-classification", [model_id])
        click(at, "vision_run")
    assert_clean(at, errors_allowed=True)
    (message,) = [e.value for e in at.error]
    named = broken / (how.get("truncate") or "")
    assert str(named).rstrip("/") in message and expected in message, message
    assert "Traceback" not in message and real_cards(at) == 0


# ---------------------------------------------------------------- the headless CLI, in a subprocess

# task, models, placement (each engine in one of the two; the factory test above covers both). Each call is a
# fresh interpreter importing torch + transformers (~8 s of a 2-core box): two run by default, the rest in CI.
SLOW = pytest.mark.slow
BENCH = [
    pytest.param("image-classification", VISION, "cache", id="image-classification"),
    pytest.param("speech-recognition", ["wav2vec2_base_960h", "whisper_tiny"], "folder", id="speech-recognition"),
    pytest.param("sentence-similarity", ["all_minilm_l12_v2"], "folder", id="sentence-similarity", marks=SLOW),
    pytest.param("sentiment-analysis", ["distilbert_sst2"], "cache", id="sentiment-analysis", marks=SLOW),
    pytest.param("text-classification", ["distilbert_sst2"], "folder", id="text-classification", marks=SLOW),
    pytest.param("image-captioning", ["blip_captioning_base"], "folder", id="image-captioning", marks=SLOW),
    pytest.param("zero-shot-image-classification", ["clip_vit_b_32"], "cache", id="zero-shot-image-classification",
                 marks=SLOW),  # the task table's bench_options hand the runner its labels
]


@pytest.mark.parametrize("task, models, placement", BENCH)
def test_bench_cli_gives_real_rows(hub, tmp_path, task, models, placement):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODEL_EXPLORER_OFFLINE": "1",
           **(hub.folder_env() if placement == "folder" else hub.cache_env())}
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, "-m", "components.bench", "--task", task, "--models", ",".join(models),
                           "--runs", "2", "--warmup", "0", "--batch-sizes", "1", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [r["model_id"] for r in rows] == models
    for row in rows:
        assert row["weights"] == "real" and row["task"] == task, row
        assert row["env"]["model_revision"] == f"{get_entry(row['model_id']).source.kind}:" \
                                               f"{get_entry(row['model_id']).source.name}"
        assert row["latency_ms"]["p50"] > 0 and row["params"] > 0
        if task in ("image-classification", "sentiment-analysis", "speech-recognition", "sentence-similarity"):
            assert row["n_samples"] > 0 and row["metrics"], row  # evaluated on the bundled labelled set
        if task == "image-classification":
            assert row["metrics"]["top1"] == 0.0  # every photo is a Granny Smith to these weights
        if task == "speech-recognition" and row["model_id"] == "wav2vec2_base_960h":
            assert re.fullmatch(r"[0-9.]+", str(row["metrics"]["wer"])) and row["metrics"]["wer"] >= 0.9


def test_a_checkpoint_without_a_trained_head_is_refused_for_text_classification(hub):
    """A base encoder (architectures: BertModel) would answer with a random head labelled 'real'."""
    from components.models.loaders.hub_files import IncompleteCheckpoint
    from components.models.loaders.text import load_transformers_text_classifier

    with pytest.raises(IncompleteCheckpoint, match="no trained classification head .*BertModel"):
        load_transformers_text_classifier(get_entry("distilbert_sst2"), "cpu", str(hub.folder("all_minilm_l12_v2")))


def test_a_hub_text_classifier_runs_on_onnx_with_its_own_labels(hub, monkeypatch, tmp_path):
    """ONNX keeps no transformers config: the labels travel in the loader's extras."""
    _place(monkeypatch, hub.folder_env())
    monkeypatch.setenv("MODEL_EXPLORER_ONNX_DIR", str(tmp_path))
    entry, manager, text = get_entry("distilbert_sst2"), ModelManager(), ["What a wonderful lesson."]
    eager = create_runner(entry, "sentiment-analysis", "real", manager=manager).run(text).output[0]
    onnx = create_runner(entry, "sentiment-analysis", "real", manager=manager, runtime="onnx").run(text).output[0]
    assert onnx["label"] == eager["label"] == "positive"
    assert onnx["scores"].keys() == eager["scores"].keys()


# ---------------------------------------------------------------- every engine through the benchmark's batch sizes

def _batch_rows() -> list:
    """(model id, task, weights): every hub checkpoint, one random-weights network and the offline pack;
    by default one row per engine of the hub checkpoints (~17 s), the rest with the slow tests."""
    from components.core.catalog import default_catalog

    rows = [pytest.param(c.model_id, c.task, "real", id=c.model_id,
                         marks=SLOW if c.model_id in SLOW_BATCHES else ()) for c in CHECKPOINTS.values()]
    rows.append(pytest.param("mobilenet_v2", "image-classification", "random", id="architecture"))
    rows += [pytest.param(e.id, task, "real", id=f"{e.id}-{task}", marks=() if e.id in FAST_BATCHES else SLOW)
             for e in default_catalog() if e.offline_pack for task in e.tasks if task != "feature-extraction"]
    return rows


SLOW_BATCHES = ("deit_small",)  # timm is covered by mobilenet_v2: ~7 s
FAST_BATCHES = ("rapidocr_ppocrv4",)  # the other offline-pack rows take ~35 s together: slow


BATCH_ROWS = _batch_rows()
BATCH_SIZES = (1, 4, 16)
ONE_AT_A_TIME = ("rapidocr", "architecture")  # OCR, and random-weights image networks: one image per call


def _engine(model_id: str, task: str, weights: str) -> str:
    from components.models.registry import engine_key

    return engine_key(get_entry(model_id), weights, task)


def test_the_batch_rows_cover_every_engine():
    import components.models.runners  # noqa: F401 - registers every engine
    from components.models.registry import engine_names

    assert {_engine(*row.values) for row in BATCH_ROWS} == set(engine_names())


@pytest.fixture(scope="module")
def batch_manager():
    """One manager for the batch rows: ConSE reuses the Lite0 and MiniLM rows' models."""
    return ModelManager()


def assert_close(single, together) -> None:
    """One input's answer equals its place in a batched answer (floats to 1e-3)."""
    if isinstance(single, dict):
        assert single.keys() == together.keys()
        for key in single:
            assert_close(single[key], together[key])
    elif isinstance(single, list) and single and all(isinstance(x, dict) and {"label", "score"} <= x.keys()
                                                     for x in single):
        # ranked labels: a tiny random model's near-ties (within 1e-3) may come out in either order
        assert len(single) == len(together)
        scores = {x["label"]: x["score"] for x in together}
        for a, b in zip(single, together):
            assert abs(a["score"] - b["score"]) < 1e-3, (single, together)
            assert a["label"] == b["label"] or abs(scores.get(a["label"], -1.0) - a["score"]) < 1e-3, (single, together)
    elif isinstance(single, list):
        assert len(single) == len(together)
        for a, b in zip(single, together):
            assert_close(a, b)
    elif isinstance(single, float):
        assert abs(single - together) < 1e-3, (single, together)
    else:
        assert single == together


@pytest.mark.parametrize("model_id, task, weights", BATCH_ROWS)
def test_every_engine_runs_the_benchmark_batches(request, monkeypatch, batch_manager, model_id, task, weights):
    """Issue 21 defect 10: CLIP (and BLIP, RapidOCR) rows failed at batch 4 ('list' object has no attribute
    'convert'); ConSE answered a batch for its first image only."""
    from components.compare.benchmark import BenchmarkConfig, benchmark_model
    from components.core.tasks import get_task
    from components.datasets import load_dataset

    if model_id in CHECKPOINTS:
        _place(monkeypatch, request.getfixturevalue("hub").folder_env())
    entry, spec = get_entry(model_id), get_task(task)
    dataset = load_dataset(task).window(0, 2)
    config = BenchmarkConfig(runs=1, warmup=0, batch_sizes=BATCH_SIZES, weights=weights)
    row = benchmark_model(entry, dataset, config, manager=batch_manager)
    batched = spec.input_kind != "audio" and _engine(model_id, task, weights) not in ONE_AT_A_TIME
    assert row.weights == weights and list(row.throughput) == (["1", "4", "16"] if batched else ["1"])
    assert all(rate > 0 for rate in row.throughput.values())
    if batched and spec.input_kind == "image":  # a list of images: one answer each, as if run alone
        runner = create_runner(entry, task, weights, manager=batch_manager)
        images = [dataset.items()[i % len(dataset)] for i in range(4)]
        together = runner.run(images, **spec.bench_options).output
        assert isinstance(together, list) and len(together) == len(images)
        for image, answer in zip(images, together):
            assert_close(runner.run(image, **spec.bench_options).output, answer)
