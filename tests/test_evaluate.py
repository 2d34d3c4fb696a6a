"""Task metrics against hand-computed values; evaluation sets (bundled and uploaded) and their errors."""
from __future__ import annotations

import csv
import io
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest

from components.compare.evaluation import compute_metrics, predictions_from_output
from components.core.scoring import (
    accuracy,
    char_error_rate,
    macro_f1,
    normalise_transcript,
    sentiment_class,
    spearman,
    topk_accuracy,
    word_error_rate,
)
from components.datasets import DatasetError, limits, load_bundled, load_dataset, load_upload
from components.datasets.imagenet import imagenet_indices

DATA = Path(__file__).resolve().parents[1] / "data"


# ---------------------------------------------------------------- metrics

def test_wer_of_a_known_pair():
    # "sat" -> "sit" (1 substitution), "the" before "mat" dropped (1 deletion): 2 errors / 6 words
    assert word_error_rate(["the cat sat on the mat"], ["The cat, sit on mat!"]) == pytest.approx(2 / 6)


def test_corpus_wer_pools_errors_and_counts_an_empty_hypothesis():
    assert word_error_rate(["a b c", "d e"], ["a x c", ""]) == pytest.approx(3 / 5)


def test_cer_of_a_known_pair():
    assert char_error_rate(["abcd"], ["ABED."]) == pytest.approx(1 / 4)


def test_normaliser_lowercases_and_strips_punctuation():
    assert normalise_transcript("  Hello, World!  It's  well-known. ") == "hello world its well known"


def test_topk_counts_any_accepted_class():
    ranked = [[1, 2, 3, 4, 5], [9, 8, 7, 6, 5], [0, 1, 2, 3, 4]]
    accepted = [frozenset({2}), frozenset({9, 100}), frozenset({50})]
    assert topk_accuracy(ranked, accepted, 1) == pytest.approx(1 / 3)
    assert topk_accuracy(ranked, accepted, 5) == pytest.approx(2 / 3)


def test_macro_f1_of_a_small_confusion():
    truth = ["pos", "pos", "neg", "neg"]
    predicted = ["pos", "neg", "neg", "neg"]
    # pos: P 1, R 1/2 -> F1 2/3; neg: P 2/3, R 1 -> F1 4/5
    assert macro_f1(truth, predicted) == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert accuracy(truth, predicted) == pytest.approx(3 / 4)


def test_neutral_is_its_own_class_in_sentiment():
    metrics = compute_metrics("sentiment-analysis", ["positive", "negative", "Positive"],
                              ["POSITIVE", "neg", "neutral"])
    # positive F1 2/3, negative F1 1, neutral F1 0 (predicted once, never true)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1 + 0) / 3)


def test_sentiment_label_spellings():
    assert [sentiment_class(x) for x in ("POSITIVE", "pos", "Negative", "neutral", "LABEL_1")] == \
        ["positive", "positive", "negative", "neutral", "label_1"]


def test_spearman_of_a_small_set():
    # rank differences 0, 0, 1, -1 -> rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [10, 20, 40, 30]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [5, 5, 5]) is None


def test_similarity_predictions_come_from_each_pairs_cell():
    matrix = [[1, 0.9, 0, 0], [0.9, 1, 0, 0], [0, 0, 1, 0.2], [0, 0, 0.2, 1]]
    assert predictions_from_output("sentence-similarity", {"matrix": matrix}, 2) == [0.9, 0.2]


# ---------------------------------------------------------------- bundled sets

@pytest.mark.parametrize("task, csv_path", [
    ("image-classification", "images/labels.csv"),
    ("speech-recognition", "speech/transcripts.csv"),
    ("language-identification", "text/languages.csv"),
    ("sentiment-analysis", "text/sentiment.csv"),
    ("sentence-similarity", "text/sentence_pairs.csv"),
])
def test_bundled_sets_load_every_row(task, csv_path):
    with open(DATA / csv_path, encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle) if any(c.strip() for c in r)][1:]
    dataset = load_bundled(task)
    assert dataset.labelled and len(dataset) == len(rows) == len(dataset.labels) > 0
    if task == "speech-recognition":
        assert all(clip.dtype == np.float32 and clip.ndim == 1 for clip in dataset.inputs)


def test_tasks_without_a_labelled_set_get_unlabelled_samples():
    assert not load_bundled("feature-extraction").labelled
    assert load_bundled("object-detection").inputs[0].mode == "RGB"


# ---------------------------------------------------------------- bring your own: CSV

def test_uploaded_csv_loads(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("Text,Label,extra\nBonjour tout le monde,fr\n\n\"Hello, world\",en\n", encoding="utf-8")
    dataset = load_dataset("language-identification", path)
    assert list(dataset.inputs) == ["Bonjour tout le monde", "Hello, world"]
    assert dataset.labels == ("fr", "en") and dataset.source == "mine.csv"


@pytest.mark.parametrize("payload, message", [
    (b"words,tag\nhello,x\n", "missing column(s) text, label"),
    (b"", "is empty"),
    (b"text,label\n", "no data rows"),
    (b"text,label\nhello,\n", "line 2: empty label"),
    (b"\xff\xfe\x00binary\x00garbage", "not UTF-8"),
    (b"PK\x03\x04garbage", "is a ZIP file"),
])
def test_bad_csv_gives_one_clear_line(payload, message):
    with pytest.raises(DatasetError) as err:
        load_upload("language-identification", "set.csv", payload)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_sentence_pairs_need_numeric_scores():
    with pytest.raises(DatasetError, match="score must be a number"):
        load_upload("sentence-similarity", "p.csv", b"sentence1,sentence2,score\na,b,high\n")


def test_task_without_evaluation_refuses_uploads():
    with pytest.raises(DatasetError, match="no labelled evaluation"):
        load_upload("fill-mask", "x.csv", b"text,label\na,b\n")


# ---------------------------------------------------------------- bring your own: ZIP

def _zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _jpeg(seed: int = 0) -> bytes:
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG")
    return out.getvalue()


def _wav(seconds: float, rate: int, channels: int = 1) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    frames = np.repeat(tone[:, None], channels, axis=1)
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(frames.tobytes())
    return out.getvalue()


def test_class_folder_names_map_to_imagenet_indices():
    assert imagenet_indices("tabby cat") == imagenet_indices("Tabby, tabby cat") == frozenset({281})
    assert imagenet_indices("281") == imagenet_indices("n02123045") == frozenset({281})
    assert imagenet_indices("crane") == frozenset({134, 517})  # bird or machine: both accepted
    with pytest.raises(DatasetError, match="unknown ImageNet class folder 'kitty'"):
        imagenet_indices("kitty")


def test_image_zip_loads_with_labels_from_folders():
    data = _zip({"set/tabby_cat/a.jpg": _jpeg(1), "set/espresso/b.jpg": _jpeg(2),
                 "set/README.txt": b"ignored", "__MACOSX/set/._a.jpg": b"junk"})
    dataset = load_upload("image-classification", "photos.zip", data)
    assert dataset.ids == ("set/espresso/b.jpg", "set/tabby_cat/a.jpg")
    assert dataset.labels == (frozenset({967}), frozenset({281}))
    assert dataset.inputs[1].size == (60, 40)


@pytest.mark.parametrize("files, message", [
    ({"tabby/cat.jpg": b"this is not a jpeg"}, "cannot be decoded"),
    ({"kitty/cat.jpg": _jpeg()}, "unknown ImageNet class folder"),
    ({"cat.jpg": _jpeg()}, "not inside a class folder"),
    ({"notes/readme.txt": b"hello"}, "holds no images"),
])
def test_bad_image_zip_gives_one_clear_line(files, message):
    with pytest.raises(DatasetError, match=message):
        load_upload("image-classification", "set.zip", _zip(files))


def test_not_a_zip_and_a_corrupt_zip():
    with pytest.raises(DatasetError, match="not a ZIP file"):
        load_upload("image-classification", "set.csv", b"file,label\n")
    with pytest.raises(DatasetError, match="not a valid ZIP"):
        load_upload("image-classification", "set.zip", b"PK\x03\x04" + b"\x00" * 100)


def test_zip_bomb_is_refused_before_extraction():
    bomb = _zip({"tabby/zeros.jpg": b"\x00" * (20 * 2**20)})
    assert len(bomb) < 100_000
    with pytest.raises(DatasetError, match="zip bomb"):
        load_upload("image-classification", "bomb.zip", bomb)


def test_zip_limits_on_size_and_file_count(monkeypatch):
    data = _zip({f"tabby/{i}.jpg": _jpeg(i) for i in range(4)}, zipfile.ZIP_STORED)
    monkeypatch.setattr(limits, "MAX_ZIP_FILES", 3)
    with pytest.raises(DatasetError, match="holds 4 files; the limit is 3"):
        load_upload("image-classification", "many.zip", data)
    monkeypatch.setattr(limits, "MAX_ZIP_FILES", 2000)
    monkeypatch.setattr(limits, "MAX_ZIP_BYTES", 1000)
    with pytest.raises(DatasetError, match="unpacks to"):
        load_upload("image-classification", "big.zip", data)


def test_speech_zip_resamples_and_mixes_to_16k_mono():
    transcripts = b"file,transcript\nclips/a.wav,hello there\nb.wav,good morning\n"
    data = _zip({"set/transcripts.csv": transcripts, "set/clips/a.wav": _wav(0.5, 44100, channels=2),
                 "set/b.wav": _wav(0.25, 16000)})
    dataset = load_upload("speech-recognition", "speech.zip", data)
    assert dataset.labels == ("hello there", "good morning")
    assert [len(c) for c in dataset.inputs] == [8000, 4000]
    assert all(c.dtype == np.float32 and c.ndim == 1 for c in dataset.inputs)


@pytest.mark.parametrize("files, message", [
    ({"a.wav": _wav(0.1, 16000)}, "has no transcripts.csv"),
    ({"transcripts.csv": b"file,transcript\nmissing.wav,hi\n"}, "no such file"),
    ({"transcripts.csv": b"file,transcript\na.wav,hi\n", "a.wav": b"RIFF not audio"}, "cannot be decoded"),
    ({"transcripts.csv": b"name,text\na.wav,hi\n", "a.wav": _wav(0.1, 16000)}, "missing column"),
])
def test_bad_speech_zip_gives_one_clear_line(files, message):
    with pytest.raises(DatasetError, match=message):
        load_upload("speech-recognition", "speech.zip", _zip(files))
