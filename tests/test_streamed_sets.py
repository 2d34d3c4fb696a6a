"""Large sets from disk (folders, ZIP files) are streamed, and runs are recorded row by row in the history."""
from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

import components.datasets as datasets
from components.benchmark import BenchmarkConfig, compare
from components.catalog import get_entry
from components.datasets import AudioFiles, DatasetError, ImageFiles, load_dataset, load_upload
from components.runs import INCOMPLETE, RunPlan, load_resumable, ResumeError, run_recorded
from components.store import FINISHED, RUNNING, HistoryStore

FAST = BenchmarkConfig(runs=2, warmup=1, batch_sizes=(1,))


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 100, 50)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_zip_on_disk_streams_past_the_upload_file_limit(tmp_path):
    path = tmp_path / "many.zip"
    png = tiny_png()
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(datasets.MAX_ZIP_FILES + 100):
            archive.writestr(f"{'espresso' if i % 2 else 'tabby cat'}/{i:05d}.png", png)
    dataset = load_dataset("image-classification", path)
    assert len(dataset) == datasets.MAX_ZIP_FILES + 100 and dataset.source == "many.zip"
    assert isinstance(dataset.inputs, ImageFiles) and len(pickle.dumps(dataset)) < 300_000  # names, not bytes
    assert dataset.inputs[7].size == (2, 2) and dataset.labels[0] == datasets.imagenet_indices("espresso")
    shard = pickle.loads(pickle.dumps(dataset.window(16, 32)))  # what a Ray worker gets
    assert len(shard) == 16 and shard.ids[0] == dataset.ids[16] and shard.inputs[0].size == (2, 2)
    with pytest.raises(DatasetError, match=f"the limit is {datasets.MAX_ZIP_FILES}"):
        load_upload("image-classification", "many.zip", path.read_bytes())  # an upload stays in memory


def test_a_folder_over_the_limit_is_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "MAX_STREAMED_FILES", 5)
    (tmp_path / "espresso").mkdir()
    for i in range(6):
        (tmp_path / "espresso" / f"{i}.png").write_bytes(tiny_png())
    with pytest.raises(DatasetError, match="more than 5 files; the limit for a folder is 5"):
        load_dataset("image-classification", tmp_path)


@pytest.mark.parametrize("layout, message", [
    ({"loose.png": "png"}, "not inside a class folder"),
    ({"no such class/a.png": "png"}, "unknown ImageNet class folder"),
    ({"espresso/a.png": "not an image"}, "cannot be decoded"),
    ({"notes.txt": "hello"}, "holds no images"),
])
def test_a_bad_folder_gives_one_line(tmp_path, layout, message):
    for name, content in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(tiny_png() if content == "png" else content.encode())
    with pytest.raises(DatasetError, match=message):
        load_dataset("image-classification", tmp_path)


def test_an_audio_folder_decodes_one_clip_at_a_time(tmp_path, spoken):
    import soundfile as sf

    text, clip = spoken
    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, clip, 16000)
    (tmp_path / "transcripts.csv").write_text(f"file,transcript\na.wav,{text}\nb.wav,{text}\n", encoding="utf-8")
    dataset = load_dataset("speech-recognition", tmp_path)
    assert isinstance(dataset.inputs, AudioFiles) and dataset.labels == (text, text)
    assert len(pickle.dumps(dataset)) < 10_000  # paths, not samples
    decoded = dataset.inputs[1]
    assert decoded.dtype == np.float32 and abs(len(decoded) - len(clip)) < 16


def test_compare_skips_saved_rows_and_reports_each_result():
    dataset = load_upload("sentiment-analysis", "s.csv", b"text,label\ngood,positive\nbad,negative\n")
    seen: list[str] = []
    outcome = compare([get_entry("vader"), get_entry("distilbert_sst2")], dataset, FAST, skip={"vader"},
                      on_result=lambda result: seen.append(result.model_id))
    assert seen == ["distilbert_sst2"] and [r.model_id for r in outcome.results] == ["distilbert_sst2"]
    assert outcome.results[0].env["executor"] == "local" and outcome.results[0].env["hostname"]


def test_a_run_is_recorded_row_by_row(tmp_path):
    store = HistoryStore(tmp_path / "history.sqlite")
    dataset = load_upload("sentiment-analysis", "s.csv", b"text,label\ngood,positive\nbad,negative\n")
    plan = RunPlan("sentiment-analysis", ("vader", "gpt4"), ("eager",), FAST, None)
    states: list[tuple[str, int]] = []

    def look(result) -> None:  # while the run goes on, its row is already saved
        run = store.load_run(run_ids[0])
        states.append((run["meta"]["status"], len(run["results"])))

    run_ids: list[int] = []
    run_id, outcome = run_recorded(store, plan, [get_entry("vader"), get_entry("gpt4")], dataset,
                                   on_start=run_ids.append, on_result=look)
    assert states == [(RUNNING, 1)] and "gpt4" in outcome.failures
    run = store.load_run(run_id)
    assert run["meta"]["status"] == INCOMPLETE and run["meta"]["models"] == ["vader", "gpt4"]
    assert RunPlan.from_run(run) == plan
    with pytest.raises(ResumeError, match="uploaded set"):  # its set was an upload: not kept
        load_resumable(store, run_id)
    store.finish_run(run_id, FINISHED)
    assert store.unfinished_runs() == []
    with pytest.raises(ResumeError, match="has finished"):
        load_resumable(store, run_id)
