"""Adapt core and CLI: pre-training measurably helps, the CLI contract holds, bad sets are refused."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from components.adapt.features import FeatureMemory, backbone_runner, cache_key, extract, prune
from components.adapt.heads import TorchHead, fewshot_shots, split
from components.adapt.run import main as adapt_main
from components.core.catalog import get_entry
from components.datasets import DatasetError
from components.datasets.labelled import load_labelled, load_labelled_upload
from components.models.fingerprint import weights_fingerprint

ROW_FIELDS = {"backbone_id", "weights", "task", "dataset", "classes", "n_train", "n_test", "accuracy", "macro_f1",
              "fewshot", "feature_dim", "embed_s", "train_s", "env", "metrics_ci"}


@pytest.fixture(autouse=True)
def feature_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MODEL_EXPLORER_FEATURES_DIR", str(tmp_path_factory.getbasetemp() / "features"))


def _png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _zip(files: dict[str, bytes], folders: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for folder in folders:
            archive.writestr(folder.rstrip("/") + "/", b"")
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _image_zip(per_class: int = 4) -> bytes:
    colours = {"red": (200, 30, 30), "green": (30, 180, 40), "blue": (20, 40, 210)}
    return _zip({f"myset/{name}/{i}.png": _png(tuple(min(255, c + 7 * i) for c in rgb))
                 for name, rgb in colours.items() for i in range(per_class)})


def _run_cli(tmp_path, *args: str) -> tuple[int, list[dict]]:
    out = tmp_path / "out.json"
    code = adapt_main([*args, "--json", str(out)])
    return code, (json.loads(out.read_text()) if code == 0 else [])


@pytest.mark.slow
def test_pretrained_lite0_beats_random_weights_on_bundled_images(tmp_path, capsys):
    code, rows = _run_cli(tmp_path, "--task", "image-classification", "--backbones", "efficientnet_lite0",
                          "--baseline", "--seed", "0")
    assert code == 0
    real, random_row = (next(r for r in rows if r["weights"] == w) for w in ("real", "random"))
    print(f"Lite0 bundled solar cells: real {real['accuracy']:.3f} vs random {random_row['accuracy']:.3f}")
    assert real["accuracy"] - random_row["accuracy"] >= 0.2
    assert ROW_FIELDS <= set(real) and real["feature_dim"] == 1280 and len(real["classes"]) == 4


@pytest.mark.slow
def test_minilm_beats_random_weights_and_tfidf_is_a_row(tmp_path):
    code, rows = _run_cli(tmp_path, "--task", "text-classification", "--backbones", "all_minilm_l6_v2",
                          "--baseline")
    assert code == 0
    by_weights = {r["weights"]: r for r in rows}
    assert set(by_weights) == {"real", "random", "none"}
    assert by_weights["real"]["accuracy"] > by_weights["random"]["accuracy"] + 0.2
    assert by_weights["none"]["backbone_id"] == "tfidf"
    curve = by_weights["real"]["fewshot"]
    assert [p["shots"] for p in curve] == [1, 2, 4, 8, 16] and all(0 <= p["accuracy_std"] <= 1 for p in curve)


def test_cli_on_a_users_csv_with_finetune_head(tmp_path):
    topics = {"weather": ["rain falls all day", "the sun is hot", "snow covers the hills", "a storm is coming"],
              "cooking": ["boil the pasta", "fry an egg", "bake the bread", "chop the onions"],
              "sport": ["the team scored a goal", "she ran a marathon", "he won the match", "a tennis serve"]}
    csv = "text,label\n" + "".join(f"{t},{label}\n" for label, texts in topics.items() for t in texts)
    path = tmp_path / "mine.csv"
    path.write_text(csv)
    code, rows = _run_cli(tmp_path, "--task", "text-classification", "--backbones", "all_minilm_l6_v2",
                          "--dataset", str(path), "--head", "finetune", "--shots", "1,2")
    assert code == 0 and len(rows) == 1
    row = rows[0]
    assert ROW_FIELDS <= set(row) and row["dataset"] == "mine.csv" and row["head"] == "finetune"
    assert row["classes"] == ["cooking", "sport", "weather"] and row["n_train"] + row["n_test"] == 12
    assert [p["shots"] for p in row["fewshot"]] == [1, 2]
    low, high = row["metrics_ci"]["accuracy"]
    assert low <= row["accuracy"] <= high and high - low > 0.3  # a handful of held-out texts: a wide interval
    assert all(p["accuracy_ci"][0] <= p["accuracy_mean"] <= p["accuracy_ci"][1] for p in row["fewshot"])


def test_cli_on_a_users_image_zip(tmp_path):
    path = tmp_path / "colours.zip"
    path.write_bytes(_image_zip())
    code, rows = _run_cli(tmp_path, "--task", "image-classification", "--backbones", "efficientnet_lite0",
                          "--dataset", str(path), "--shots", "1,2,4")
    assert code == 0
    assert rows[0]["classes"] == ["blue", "green", "red"] and rows[0]["accuracy"] == 1.0
    assert [p["shots"] for p in rows[0]["fewshot"]] == [1, 2]  # 3 train images per class allow k <= 2


@pytest.mark.parametrize("args, message", [
    (["--backbones", "no_such_model"], "unknown model id"),
    (["--backbones", "fasttext_lid176"], "cannot give features"),
    (["--backbones", "efficientnet_lite0", "--shots", "1,x"], "--shots"),
    (["--backbones", "efficientnet_lite0", "--dataset", "/no/such.zip"], "cannot read"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, args, message):
    code, _ = _run_cli(tmp_path, "--task", "image-classification", *args)
    err = capsys.readouterr().err.strip()
    assert code == 1 and message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("files, folders, message", [
    ({"cat/1.png": "img", "cat/2.png": "img"}, (), "one class only"),
    ({"cat/1.png": "img", "cat/2.png": "img", "dog/1.png": "img"}, (), "class 'dog' has one example"),
    ({"a/1.png": "img", "b/1.png": "img", "c/1.png": "img"}, (), "3 examples for 3 classes"),
    ({"cat/1.png": "img", "cat/2.png": "img", "dog/x/1.png": "img", "dog/2.png": "img"}, (), "nested folder"),
    ({"cat/1.png": "img", "cat/2.png": "img", "dog/1.png": "img", "dog/2.png": "img"}, ("bird/",), "is empty"),
    ({"cat/1.png": "img", "cat/2.png": "img", "dog/1.png": "img", "dog/notes.txt": b"hi"}, (), "not an image"),
    ({"cat/1.png": "img", "cat/2.png": "img", "d%g/1.png": "img", "d%g/2.png": "img"}, (), "characters"),
    ({"1.png": "img", "cat/2.png": "img"}, (), "not inside a class folder"),
])
def test_bad_image_sets_say_what_to_fix(files, folders, message):
    png = _png((120, 120, 120))
    data = _zip({k: png if v == "img" else v for k, v in files.items()}, folders)
    with pytest.raises(DatasetError, match=message):
        load_labelled_upload("image-classification", "set.zip", data)


@pytest.mark.parametrize("csv, message", [
    ("text,label\nhello,a\nworld,a\n", "one class only"),
    ("text,label\nhello,a\nworld,b\nagain,b\n", "class 'a' has one example"),
    ("text,label\nhello,a\tb\nworld,a\tb\nx,c\ny,c\n", "characters"),
    ("words,label\nhello,a\n", "missing column"),
])
def test_bad_text_sets_say_what_to_fix(csv, message):
    with pytest.raises(DatasetError, match=message):
        load_labelled_upload("text-classification", "set.csv", csv.encode())


def test_zip_given_for_text_and_csv_given_for_images_are_refused():
    with pytest.raises(DatasetError, match="is a ZIP file"):
        load_labelled_upload("text-classification", "x.zip", _image_zip())
    with pytest.raises(DatasetError, match="is not a ZIP file"):
        load_labelled_upload("image-classification", "x.csv", b"text,label\n")


def test_bundled_sets_are_real_and_big_enough():
    images, texts = load_labelled("image-classification"), load_labelled("text-classification")
    for dataset in (images, texts):
        assert len(dataset.classes) >= 3
        assert min(dataset.labels.count(c) for c in dataset.classes) >= 20


def test_features_are_cached_in_memory_and_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_EXPLORER_FEATURES_DIR", str(tmp_path))
    from components.adapt import features as adapt_features

    dataset = load_labelled_upload("image-classification", "colours.zip", _image_zip(2))
    entry = get_entry("efficientnet_lite0")
    first = extract(entry, "real", dataset)
    assert first.source == "computed" and first.array.shape == (6, 1280)
    fingerprint = weights_fingerprint(backbone_runner(entry, dataset.task, "real").model)
    assert (tmp_path / f"{cache_key(entry.id, 'real', fingerprint, dataset.digest)}.npy").exists()
    assert extract(entry, "real", dataset).source == "memory"
    monkeypatch.setattr(adapt_features, "MEMORY", FeatureMemory(2**20))
    again = extract(entry, "real", dataset)
    assert again.source == "disk" and np.array_equal(again.array, first.array)


def test_feature_files_beyond_the_disk_budget_go_least_recently_used_first(tmp_path):
    import os

    for age, name in enumerate("abcd"):  # a oldest ... d newest; 4000 bytes each
        path = tmp_path / f"{name}.npy"
        np.save(path, np.zeros(1000 - 32, dtype=np.float32))
        os.utime(path, (1000 + age, 1000 + age))
    (tmp_path / "keep.txt").write_text("not a feature file")
    os.utime(tmp_path / "a.npy")  # just read from disk: the most recently used now
    size = (tmp_path / "a.npy").stat().st_size
    prune(tmp_path, budget_bytes=2 * size)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "d.npy", "keep.txt"]
    prune(tmp_path, budget_bytes=0, keep=tmp_path / "d.npy")  # the file just written stays, however large
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npy", "keep.txt"]


def test_feature_memory_is_bounded():
    memory = FeatureMemory(budget_bytes=3 * 4000)
    for key in "abcd":
        memory.put(key, np.zeros(1000, dtype=np.float32))
    assert len(memory) == 3 and memory.get("a") is None and memory.get("d") is not None


def test_split_is_stratified_and_fewshot_k_fits_the_train_split():
    labels = ["a"] * 10 + ["b"] * 4 + ["c"] * 2
    train, test = split(labels, seed=0)
    assert sorted([labels[i] for i in test]) == ["a", "a", "a", "b", "c"]
    assert fewshot_shots([labels[i] for i in train]) == [1]
    assert fewshot_shots(["a"] * 9 + ["b"] * 9, [1, 2, 4, 8, 16]) == [1, 2, 4, 8]


def test_finetune_head_reports_progress_and_stops_early():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (30, 8)), rng.normal(3, 1, (30, 8))]).astype(np.float32)
    y = ["low"] * 30 + ["high"] * 30
    seen = []
    head = TorchHead(["high", "low"]).fit(x, y, progress=lambda e, m, loss, val: seen.append((e, loss, val)))
    assert seen and seen[0][0] == 1 and all(np.isfinite(v) for _, l, v in seen for v in (l, v))
    assert head.epochs_run < 60 or seen[-1][1] < seen[0][1]
    assert (head.predict(x) == np.array(y)).mean() > 0.9
    assert np.allclose(head.predict_proba(x).sum(1), 1, atol=1e-5)


# ---------------------------------------------------------------- audio

def _audio_zip(words: tuple[str, ...] = ("yes", "no", "up"), per_class: int = 3) -> bytes:
    """A user's audio ZIP (a folder per class) made from bundled clips."""
    from components.datasets.bundled import DATA_DIR

    root = DATA_DIR / "adapt" / "spoken_words"
    return _zip({f"words/{w}/{p.name}": p.read_bytes()
                 for w in words for p in sorted((root / w).glob("*.wav"))[:per_class]})


def test_bundled_audio_set_is_synthetic_words_big_enough():
    dataset = load_labelled("audio-classification")
    assert dataset.classes == ("down", "no", "up", "yes")
    assert min(dataset.labels.count(c) for c in dataset.classes) >= 20
    assert all(a.dtype == np.float32 and a.ndim == 1 and 0.2 < len(a) / 16000 < 1.0 for a in dataset.inputs)


def test_mean_pooling_leaves_out_whisper_padding():
    from faster_whisper.feature_extractor import FeatureExtractor

    from components.adapt.audio import mean_over_real, whisper_log_mel

    mel, frames = whisper_log_mel(np.zeros(8000, dtype=np.float32), FeatureExtractor(feature_size=80))
    assert mel.shape == (80, 3000) and frames == 50  # 0.5 s = 50 mel frames -> 25 encoder frames
    encoded = np.zeros((1, 1500, 2), dtype=np.float32)
    encoded[0, :25] = 1.0  # the padding's frames stay 0
    assert np.allclose(mean_over_real(encoded, [frames]), 1.0)


def test_audio_backbones_are_the_speech_encoders():
    from components.adapt.run import adapt_backbones

    ids = [e.id for e in adapt_backbones("audio-classification")]
    assert "whisper_tiny_en_ct2" in ids and "pocketsphinx_en_us" not in ids


def test_backbones_offered_have_real_weights_here():
    """Offline (conftest cuts the network), AlexNet or ResNet-50 only build with random weights: offering them
    as pre-trained backbones ended in a load error per row (found in the browser)."""
    from components.adapt.run import adapt_backbones
    from components.core.catalog import default_catalog
    from components.models.availability import compute_availability

    for task in ("image-classification", "text-classification"):
        offered = {e.id for e in adapt_backbones(task)}
        random_only = {e.id for e in default_catalog() if not compute_availability(e).runnable
                       and e.architecture is not None and (task in e.tasks or "feature-extraction" in e.tasks)}
        assert random_only and not offered & random_only, offered & random_only
        assert all(compute_availability(get_entry(i)).runnable for i in offered)
    assert {"efficientnet_lite0", "all_minilm_l6_v2"} <= {e.id for t in ("image-classification",
                                                                         "text-classification")
                                                          for e in adapt_backbones(t)}


def test_cli_refuses_a_speech_model_without_an_encoder(tmp_path, capsys):
    code, _ = _run_cli(tmp_path, "--task", "audio-classification", "--backbones", "pocketsphinx_en_us")
    assert code == 1 and "cannot give features" in capsys.readouterr().err


@pytest.mark.parametrize("files, message", [
    ({"yes/1.wav": "wav", "yes/2.wav": "wav"}, "one class only"),
    ({"yes/1.wav": "wav", "yes/2.wav": "wav", "no/1.wav": "wav", "no/2.png": b"x"}, "not an audio clip"),
    ({"yes/1.wav": "wav", "yes/2.wav": "wav", "no/a/1.wav": "wav", "no/2.wav": "wav"}, "nested folder"),
])
def test_bad_audio_sets_say_what_to_fix(files, message):
    from components.datasets.bundled import DATA_DIR

    wav = next((DATA_DIR / "adapt" / "spoken_words" / "yes").glob("*.wav")).read_bytes()
    with pytest.raises(DatasetError, match=message):
        load_labelled_upload("audio-classification", "set.zip", _zip({k: wav if v == "wav" else v
                                                                         for k, v in files.items()}))


def test_cli_on_a_users_audio_zip(tmp_path):
    path = tmp_path / "words.zip"
    path.write_bytes(_audio_zip())
    code, rows = _run_cli(tmp_path, "--task", "audio-classification", "--backbones", "whisper_tiny_en_ct2",
                          "--dataset", str(path), "--shots", "1,2")
    assert code == 0 and len(rows) == 1
    row = rows[0]
    assert ROW_FIELDS <= set(row) and row["dataset"] == "words.zip" and row["weights"] == "real"
    assert row["classes"] == ["no", "up", "yes"] and (row["n_train"], row["n_test"]) == (6, 3)
    assert row["feature_dim"] == 384 and row["accuracy"] >= 2 / 3
    assert [p["shots"] for p in row["fewshot"]] == [1, 2]


@pytest.mark.slow
def test_pretrained_whisper_encoder_beats_random_weights_on_bundled_words(tmp_path):
    code, rows = _run_cli(tmp_path, "--task", "audio-classification", "--backbones", "whisper_tiny_en_ct2",
                          "--baseline", "--seed", "0")
    assert code == 0
    real, random_row = (next(r for r in rows if r["weights"] == w) for w in ("real", "random"))
    assert ROW_FIELDS <= set(real) and real["feature_dim"] == random_row["feature_dim"] == 384
    one_shot = {r["weights"]: r["fewshot"][0]["accuracy_mean"] for r in (real, random_row)}
    print(f"Whisper tiny.en encoder, bundled words: real {real['accuracy']:.3f} vs random "
          f"{random_row['accuracy']:.3f}; 1-shot {one_shot['real']:.3f} vs {one_shot['random']:.3f}")
    # Measured (seed 0): held out 1.000 vs 0.833, 1-shot 0.950 vs 0.383.
    assert real["accuracy"] - random_row["accuracy"] >= 0.1
    assert one_shot["real"] - one_shot["random"] >= 0.4
