"""Hostile inputs (issue 21): sizes and shapes refused from headers, audio decoded in blocks, ZIP members
streamed, corrupt archives as one line, lazy set checks, symlink swaps, duplicate names, invisible label
characters. Memory bounds are peak RSS growth measured in a fresh subprocess."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import badinputs as bad
import numpy as np
import pytest

from components.core.inputs import InputError, load_audio, load_image
from components.datasets import DatasetError, load_dataset, load_upload
from components.datasets.labelled import load_labelled_upload

ROOT = Path(__file__).resolve().parents[1]
MAX_GROWTH_MB = 300


def _peak_growth(path: Path | None, setup: str, call: str) -> tuple[float, str]:
    """Peak RSS growth (MB) of ``call`` in a fresh process, after ``setup`` and reading ``path`` (if any) into
    ``data``; and the one-line error it raised ('' if none)."""
    code = "\n".join([
        "import resource, sys",
        f"sys.path.insert(0, {str(ROOT)!r})",
        setup,
        f"data = open({str(path)!r}, 'rb').read()" if path else "",
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss",
        "error = ''",
        "try:",
        f"    {call}",
        "except Exception as exc:",
        "    error = f'{type(exc).__name__}: {exc}'",
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss",
        "print((after - before) / 1024)",
        "print(error.replace(chr(10), ' '))",
    ])
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "MODEL_EXPLORER_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    growth, error = proc.stdout.splitlines()[-2:]
    return float(growth), error


def _write(tmp_path: Path, case: tuple[str, bytes]) -> Path:
    path = tmp_path / case[0]
    path.write_bytes(case[1])
    return path


@pytest.fixture()
def no_pixel_decoding(monkeypatch):
    from PIL import ImageFile

    def refuse(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# ---------------------------------------------------------------- images

@pytest.mark.parametrize("size, message", [
    ((3000, 1), "aspect ratio limit is 20:1"),
    ((1, 3000), "aspect ratio limit is 20:1"),
    ((25_000, 2_000), "20,000 px on the long side"),  # 50 MP: within the area limit
])
def test_long_or_thin_images_are_refused_from_the_header(size, message, no_pixel_decoding):
    data = bad._blank_png(size)
    assert len(data) < 10_000
    with pytest.raises(InputError, match=message):
        load_image(data, "long.png")


def test_a_thin_image_in_a_set_is_refused_from_its_header(no_pixel_decoding):
    with pytest.raises(DatasetError, match=r"image 'tabby/thin.png' is 3000x1 px; the aspect ratio limit"):
        load_upload("image-classification", *bad.thin_image_zip())


def test_16_bit_image_is_rescaled_without_a_float64_copy(tmp_path):
    from PIL import Image

    ramp = np.tile(np.arange(5000, dtype=np.uint16) * 13, (5000, 1))  # 25 MP, a few hundred kB as PNG
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, format="PNG")
    path = _write(tmp_path, ("deep.png", buffer.getvalue()))
    growth, error = _peak_growth(path, "from components.core.inputs import load_image",
                                 "checked = load_image(data, 'deep.png')")
    assert not error and growth < MAX_GROWTH_MB, (growth, error)


def test_set_images_are_checked_from_headers_only(no_pixel_decoding):
    blank = bad._blank_png((7000, 7000))  # ten of them: 490 MP, 11 s to decode whole
    members = {f"{('tabby', 'tiger')[i % 2]}/{i}.png": blank for i in range(10)}
    dataset = load_upload("image-classification", "big.zip", bad._zip(members))
    assert len(dataset) == 10
    labelled = load_labelled_upload("image-classification", "big.zip", bad._zip(members))
    assert labelled.classes == ("tabby", "tiger")


def test_a_set_of_too_many_pixels_is_refused(no_pixel_decoding):
    with pytest.raises(DatasetError, match="add up to more than 2,000 megapixels"):
        load_upload("image-classification", *bad.many_pixels_zip())
    with pytest.raises(DatasetError, match="add up to more than 2,000 megapixels"):
        load_labelled_upload("image-classification", *bad.many_pixels_zip())


# ---------------------------------------------------------------- audio

def test_a_hires_many_channel_clip_is_refused_from_its_header(tmp_path):
    path = _write(tmp_path, bad.hires_flac())
    assert path.stat().st_size < 400_000
    growth, error = _peak_growth(path, "import soundfile, soxr\nfrom components.core.inputs import load_audio",
                                 "load_audio(data, 'hires_8ch.flac')")
    assert "sample rate of 655,350 Hz; the limit is 192,000 Hz" in error, error
    assert growth < MAX_GROWTH_MB, growth


def test_too_many_channels_are_refused():
    with pytest.raises(InputError, match="9 channels; the limit is 8"):
        load_audio(bad._wav(np.zeros((16000, 9), dtype=np.float32), 16000), "many.wav")


def test_a_long_hires_clip_is_decoded_mixed_and_resampled_in_blocks(tmp_path):
    path = _write(tmp_path, ("long.flac", bad.silent_flac(599, 192_000, 2)))  # 920 MB as float32 stereo
    setup = "import soundfile, soxr\nfrom components.core.inputs import load_audio"
    growth, error = _peak_growth(path, setup, "assert len(load_audio(data, 'long.flac').data) == 599 * 16000")
    assert not error and growth < MAX_GROWTH_MB, (growth, error)


def test_block_decoding_matches_a_whole_decode():
    name, data = bad.stereo_48k()
    checked = load_audio(data, name)
    assert checked.notes == ["2 channels mixed down to mono", "resampled from 48000 Hz to 16000 Hz"]
    import soundfile as sf
    import soxr

    whole, rate = sf.read(io.BytesIO(data), dtype="float32")
    expected = soxr.resample(whole.mean(axis=1), rate, 16000)
    assert abs(len(checked.data) - len(expected)) <= 1
    size = min(len(expected), len(checked.data))
    assert np.abs(checked.data[:size] - expected[:size]).max() < 1e-3


def test_adapt_audio_sets_cap_total_duration_from_headers(tmp_path):
    path = _write(tmp_path, bad.long_clips_zip())
    assert path.stat().st_size < 700_000
    setup = "import soundfile, soxr\nfrom components.datasets.labelled import load_labelled_upload"
    growth, error = _peak_growth(path, setup,
                                 "load_labelled_upload('audio-classification', 'long_clips.zip', data)")
    assert "holds more than 60 minutes of audio" in error, error
    assert growth < MAX_GROWTH_MB, growth


def test_adapt_audio_sets_keep_clips_encoded_until_used():
    name, data = bad.long_clips_zip(clips=4, seconds=2)
    dataset = load_labelled_upload("audio-classification", name, data)
    assert not isinstance(dataset.inputs, list)
    clips = dataset.inputs[0:2]
    assert [len(c) for c in clips] == [32000, 32000] and clips[0].dtype == np.float32


# ---------------------------------------------------------------- ZIP archives

def test_a_member_that_lies_about_its_size_is_streamed_and_refused(tmp_path):
    path = _write(tmp_path, bad.lying_size_zip())
    setup = "from components.datasets import load_upload"
    growth, error = _peak_growth(path, setup, "load_upload('image-classification', 'lying_size.zip', data)")
    assert error.startswith("DatasetError") and "Bad CRC-32" in error, error
    assert growth < MAX_GROWTH_MB, growth
    growth, error = _peak_growth(path, "from components.datasets import load_dataset",  # streamed from disk
                                 f"load_dataset('image-classification', {str(path)!r})")
    assert error.startswith("DatasetError") and "Bad CRC-32" in error, error
    assert growth < MAX_GROWTH_MB, growth


def test_a_damaged_deflate_stream_is_one_line_everywhere(tmp_path):
    name, data = bad.corrupt_deflate_zip()
    with pytest.raises(DatasetError, match="cannot be read .*Error -3"):
        load_upload("image-classification", name, data)
    streamed = load_dataset("image-classification", _write(tmp_path, (name, data)))  # only headers read so far
    with pytest.raises(DatasetError, match="cannot be read .*Error -3"):
        streamed.inputs[0]


def test_the_bench_cli_reports_a_corrupt_zip_in_one_line(tmp_path):
    path = _write(tmp_path, bad.corrupt_deflate_zip())
    proc = subprocess.run([sys.executable, "-m", "components.bench", "--task", "image-classification", "--models",
                           "efficientnet_lite0", "--dataset", str(path), "--json", str(tmp_path / "out.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "MODEL_EXPLORER_OFFLINE": "1"})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Error -3" in proc.stderr, proc.stderr[-2000:]
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_the_entry_count_is_refused_from_the_end_record(monkeypatch):
    def no_parsing(self, *args, **kwargs):
        raise AssertionError("the central directory was parsed")

    name, data = bad.forged_entry_count_zip()
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", no_parsing)
    with pytest.raises(DatasetError, match="holds 60,000 entries; the limit is 6,000"):
        load_upload("image-classification", name, data)
    with pytest.raises(DatasetError, match="holds 60,000 entries"):
        load_labelled_upload("image-classification", name, data)


def test_duplicate_member_names_are_refused(tmp_path):
    name, data = bad.duplicate_names_zip()
    with pytest.raises(DatasetError, match="holds 'tabby/cat.jpg' more than once"):
        load_upload("image-classification", name, data)
    with pytest.raises(DatasetError, match="more than once"):
        load_dataset("image-classification", _write(tmp_path, (name, data)))


# ---------------------------------------------------------------- folders on the server

def test_a_file_swapped_for_a_symlink_after_listing_is_not_read(tmp_path, chelsea):
    shared, outside = tmp_path / "shared", tmp_path / "private"
    (shared / "set" / "tabby").mkdir(parents=True)
    outside.mkdir()
    chelsea.save(shared / "set" / "tabby" / "cat.png")
    chelsea.save(outside / "secret.png")
    dataset = load_dataset("image-classification", shared / "set", roots=[shared])
    assert dataset.inputs[0].size == chelsea.size  # read while it is a plain file
    (shared / "set" / "tabby" / "cat.png").unlink()
    (shared / "set" / "tabby" / "cat.png").symlink_to(outside / "secret.png")
    with pytest.raises(DatasetError, match="outside the folders this server shares"):
        dataset.inputs[0]


def test_a_zip_swapped_for_a_symlink_before_a_worker_reopens_it_is_not_read(tmp_path):
    import pickle

    shared, outside = tmp_path / "shared", tmp_path / "private"
    shared.mkdir()
    outside.mkdir()
    (shared / "set.zip").write_bytes(bad._zip({"tabby/cat.jpg": bad.PHOTO.read_bytes()}))
    (outside / "secret.zip").write_bytes(bad._zip({"tabby/cat.jpg": bad.thin_png()[1]}))
    dataset = load_dataset("image-classification", shared / "set.zip", roots=[shared])
    shipped = pickle.dumps(dataset.inputs)  # what a Ray worker receives: the path, reopened there
    (shared / "set.zip").unlink()
    (shared / "set.zip").symlink_to(outside / "secret.zip")
    with pytest.raises(DatasetError, match="outside the folders this server shares"):
        pickle.loads(shipped)[0]


def _listing_growth(folder: Path) -> tuple[float, str]:
    """Peak RSS growth (MB) of listing ``folder`` as an image set in a fresh process (the ImageNet names and
    PIL loaded first), and the one-line error it raised ('' if none)."""
    setup = "\n".join(["import PIL.PngImagePlugin", "from components.datasets import load_dataset",
                       "from components.datasets.imagenet import imagenet_indices", "imagenet_indices('espresso')"])
    roots = [str(folder.parent)]
    return _peak_growth(None, setup, f"load_dataset('image-classification', {str(folder)!r}, roots={roots!r})")


def _sparse_image(path: Path, head: bytes, size_mb: int) -> None:
    """``head`` followed by a hole up to ``size_mb`` MiB: a big file that takes no disk space."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        file.write(head)
        file.truncate(size_mb * 2**20)


def test_a_file_over_the_per_file_limit_is_refused_before_it_is_read(tmp_path):
    from components.datasets.limits import MAX_FILE_BYTES

    _sparse_image(tmp_path / "set" / "espresso" / "x.jpg", bad.PHOTO.read_bytes(), MAX_FILE_BYTES // 2**20 + 400)
    growth, error = _listing_growth(tmp_path / "set")
    assert error.startswith("DatasetError") and "'x.jpg' is 600 MB; one file of a set may be at most 200" in error
    assert growth < 50, growth


def _png(size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_streamed_image_size_is_read_from_its_first_bytes(tmp_path):
    _sparse_image(tmp_path / "set" / "espresso" / "x.png", _png(), 190)  # under the per-file limit
    growth, error = _listing_growth(tmp_path / "set")
    assert not error and growth < 50, (growth, error)


def test_a_zip_member_declaring_more_than_the_per_file_limit_is_refused(tmp_path):
    padding = np.random.default_rng(0).bytes(3 * 2**20)  # incompressible: 100x its size passes the ratio check
    data = bytearray(bad._zip({"espresso/x.png": _png() + padding}))
    entry = data.index(b"PK\x01\x02")  # the central directory's record: the size zipfile trusts
    data[entry + 24 : entry + 28] = (300 * 2**20).to_bytes(4, "little")
    (tmp_path / "set.zip").write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="'set.zip: espresso/x.png' is 300 MB; one file of a set may be at most"):
        load_dataset("image-classification", tmp_path / "set.zip")


# ---------------------------------------------------------------- labels

@pytest.mark.parametrize("character", ["\u202e", "\u2066", "\u200f", "\x07", "\x1b"])
def test_labels_with_bidi_or_control_characters_are_refused(character):
    csv = f"text,label\nHello there,en{character}\nBonjour,fr\n".encode()
    with pytest.raises(DatasetError, match=f"U\\+{ord(character):04X}"):
        load_upload("language-identification", "labels.csv", csv)
    speech = bad._zip({"transcripts.csv": f"file,transcript\nclip.wav,hello{character} world\n".encode(),
                       "clip.wav": bad.silence()[1]})
    with pytest.raises(DatasetError, match=f"U\\+{ord(character):04X}"):
        load_upload("speech-recognition", "speech.zip", speech)
    images = bad._zip({f"tabby{character}/cat.jpg": bad.PHOTO.read_bytes()})
    with pytest.raises(DatasetError, match=f"U\\+{ord(character):04X}"):
        load_upload("image-classification", "images.zip", images)
