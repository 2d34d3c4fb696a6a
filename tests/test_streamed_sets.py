"""Large sets from disk (folders, ZIP files) are streamed, and runs are recorded row by row in the history."""
from __future__ import annotations

import gc
import io
import os
import pickle
import socket
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from components.compare.benchmark import BenchmarkConfig, compare
from components.compare.executors.base import ExecutorError
from components.compare.executors.ray_executor import RayExecutor
from components.compare.runs import CANCELLED, INCOMPLETE, ResumeError, RunPlan, load_resumable, run_recorded
from components.compare.store import FINISHED, RUNNING, HistoryStore
from components.core.catalog import get_entry
from components.datasets import DatasetError, limits, load_dataset, load_upload
from components.datasets.containers import AudioFiles, ImageFiles
from components.datasets.imagenet import imagenet_indices

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
        for i in range(limits.MAX_ZIP_FILES + 100):
            archive.writestr(f"{'espresso' if i % 2 else 'tabby cat'}/{i:05d}.png", png)
    dataset = load_dataset("image-classification", path)
    assert len(dataset) == limits.MAX_ZIP_FILES + 100 and dataset.source == "many.zip"
    assert isinstance(dataset.inputs, ImageFiles) and len(pickle.dumps(dataset)) < 300_000  # names, not bytes
    assert dataset.inputs[7].size == (2, 2) and dataset.labels[0] == imagenet_indices("espresso")
    shard = pickle.loads(pickle.dumps(dataset.window(16, 32)))  # what a Ray worker gets
    assert len(shard) == 16 and shard.ids[0] == dataset.ids[16] and shard.inputs[0].size == (2, 2)
    with pytest.raises(DatasetError, match=f"the limit is {limits.MAX_ZIP_FILES}"):
        load_upload("image-classification", "many.zip", path.read_bytes())  # an upload stays in memory


def test_an_image_whose_size_lies_past_the_first_bytes_is_read_whole(tmp_path):
    from PIL import Image

    buffer = io.BytesIO()  # EXIF and an ICC profile before the frame header push the size past HEADER_BYTES
    Image.new("RGB", (40, 30)).save(buffer, format="JPEG", exif=b"Exif\x00\x00" + bytes(65_000),
                                    icc_profile=bytes(100_000))
    data = buffer.getvalue()
    assert data.find(b"\xff\xc0") > limits.HEADER_BYTES
    (tmp_path / "set" / "espresso").mkdir(parents=True)
    (tmp_path / "set" / "espresso" / "big_header.jpg").write_bytes(data)
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as archive:
        archive.writestr("espresso/big_header.jpg", data)
    for path in (tmp_path / "set", tmp_path / "set.zip"):
        assert load_dataset("image-classification", path).inputs[0].size == (40, 30)


def test_a_folder_over_the_limit_is_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_STREAMED_FILES", 5)
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


def noisy_png(size: int = 64) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_bad_first_image_fails_its_row_with_its_name(tmp_path):
    """A streamed set only checks headers: a file that then fails to decode fails the row, named, no traceback."""
    (tmp_path / "tabby cat").mkdir()
    whole = noisy_png()
    (tmp_path / "tabby cat" / "0-truncated.png").write_bytes(whole[: len(whole) // 2])  # header fine, pixels cut
    (tmp_path / "tabby cat" / "1.png").write_bytes(whole)
    dataset = load_dataset("image-classification", tmp_path)
    with pytest.raises(DatasetError, match="image 'tabby cat/0-truncated.png' cannot be decoded"):
        dataset.inputs[0]
    outcome = compare([get_entry("efficientnet_lite0")], dataset, FAST)
    assert not outcome.results and "tabby cat/0-truncated.png" in outcome.failures["efficientnet_lite0"]


def test_the_shared_folders_bound_a_set_and_its_symlinks(tmp_path):
    shared, private = tmp_path / "shared", tmp_path / "private"
    (shared / "set" / "tabby cat").mkdir(parents=True)
    private.mkdir()
    (shared / "set" / "tabby cat" / "0.png").write_bytes(tiny_png())
    (private / "secret.png").write_bytes(tiny_png())
    (shared / "set" / "tabby cat" / "1.png").symlink_to(private / "secret.png")
    assert len(load_dataset("image-classification", shared / "set")) == 2  # the CLI reads any path
    dataset = load_dataset("image-classification", shared / "set", roots=[shared])
    assert dataset.ids == ("tabby cat/0.png",)  # the symlink out of the shared folder is skipped
    with pytest.raises(DatasetError, match="outside the folders this server shares"):
        load_dataset("image-classification", shared / "set" / ".." / ".." / "private", roots=[shared])


def test_a_file_read_whole_is_size_checked_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ZIP_BYTES", 100)
    big = tmp_path / "big.csv"
    big.write_text("text,label\n" + "good,positive\n" * 20, encoding="utf-8")
    with pytest.raises(DatasetError, match="a file read whole \\(a CSV\\) may be at most"):
        load_dataset("sentiment-analysis", big)


def test_a_zip_on_disk_is_closed_with_its_set(tmp_path):
    path = tmp_path / "set.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tabby cat/0.png", tiny_png())
    dataset = load_dataset("image-classification", path)
    assert dataset.inputs[0].size == (2, 2)
    opened = dataset.inputs._blobs._members._archive
    assert opened.fp is not None
    del dataset
    gc.collect()
    assert opened.fp is None


BUNDLED_PLAN = RunPlan("sentiment-analysis", ("vader",), ("eager",), FAST, "bundled")


def test_a_running_run_is_resumed_only_once_its_owner_is_gone(tmp_path):
    store = HistoryStore(tmp_path / "history.sqlite")
    here = socket.gethostname()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()

    def recorded(owner: dict) -> int:
        return store.start_run("sentiment-analysis", "bundled", ["vader"], {**BUNDLED_PLAN.meta(), "owner": owner})

    with pytest.raises(ResumeError, match="still running"):
        load_resumable(store, recorded({"pid": os.getpid(), "host": here}))
    with pytest.raises(ResumeError, match="marked running on another-host"):
        load_resumable(store, recorded({"pid": 1, "host": "another-host"}))
    crashed = recorded({"pid": gone.pid, "host": here})
    assert load_resumable(store, crashed)[0] == BUNDLED_PLAN
    run_recorded(store, BUNDLED_PLAN, [get_entry("vader")], load_dataset("sentiment-analysis"), run_id=crashed)
    run = store.load_run(crashed)
    assert run["meta"]["status"] == FINISHED and run["meta"]["owner"] == {"pid": os.getpid(), "host": here}


def test_a_run_that_stops_is_never_left_running(tmp_path):
    """No cluster: a new run is deleted (it saved nothing), a resumed one is incomplete; Ctrl-C: cancelled."""
    store = HistoryStore(tmp_path / "history.sqlite")
    dataset = load_dataset("sentiment-analysis")
    nowhere = RayExecutor("127.0.0.1:1")  # nothing listens there
    with pytest.raises(ExecutorError, match="no Ray cluster answers"):
        run_recorded(store, BUNDLED_PLAN, [get_entry("vader")], dataset, executor=nowhere)
    assert store.list_runs() == []

    def interrupt(fraction: float, message: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_recorded(store, BUNDLED_PLAN, [get_entry("vader")], dataset, progress=interrupt)
    (run,) = store.list_runs()
    assert run["meta"]["status"] == CANCELLED and run["n_results"] == 0
    with pytest.raises(ExecutorError):
        run_recorded(store, BUNDLED_PLAN, [get_entry("vader")], dataset, run_id=run["id"], executor=nowhere)
    assert store.load_run(run["id"])["meta"]["status"] == INCOMPLETE
