"""Validate user input at the edge: images, audio and text become clean data or a clear message."""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_IMAGE_PIXELS = 50_000_000
MAX_IMAGE_SIDE = 20_000  # px, the long side
MAX_ASPECT_RATIO = 20  # long side / short side: preprocessing scales the short side up to ~256 px
MIN_USEFUL_PIXELS = 32 * 32
MAX_UPLOAD_MB = 200
MAX_AUDIO_S = 600.0
MIN_AUDIO_S = 0.1
MAX_AUDIO_RATE = 192_000  # Hz, from the header, before decoding
MAX_AUDIO_CHANNELS = 8
AUDIO_BLOCK_FRAMES = 2**16  # decoded, mixed down and resampled one block at a time
FFMPEG_SUFFIXES = (".m4a", ".mp4", ".aac")
MAX_TEXT_CHARS = 100_000
MAX_TEXT_LINES = 200  # lines per Text page run: similarity is lines x lines (2,000 lines cost +1.8 GB)
SAMPLE_RATE = 16000
SILENCE_RMS = 1e-4


class InputError(ValueError):
    """The input cannot be used; the message is shown to the user as is."""


@dataclass
class Checked:
    """Validated data plus notes worth telling the user (e.g. 'first frame of an animated GIF')."""

    data: object
    notes: list[str] = field(default_factory=list)


def _require_bytes(data: bytes, name: str) -> None:
    if not data:
        raise InputError(f"'{name}' is empty (0 bytes).")
    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise InputError(f"'{name}' is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_MB} MB.")


def load_image(data: bytes, name: str = "image") -> Checked:
    """Decode any common image to RGB; refuse corrupt, non-image and over-50-megapixel files."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _require_bytes(data, name)
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            check_image_size(*image.size, name)
            if getattr(image, "n_frames", 1) > 1:
                notes.append(f"animated image with {image.n_frames} frames: using the first frame")
                image.seek(0)
            image.load()
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"'{name}' is not an image this app can read (PNG, JPEG, WebP, BMP, GIF, TIFF), "
                         f"whatever its file name says.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"'{name}' is too large to decode safely (over "
                         f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels).") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"'{name}' is damaged or truncated and cannot be decoded ({exc}).") from None
    image = ImageOps.exif_transpose(image) or image
    if image.width * image.height < MIN_USEFUL_PIXELS:
        notes.append(f"very small image ({image.width}×{image.height} px): it is upscaled, so predictions "
                     f"on it mean little")
    return Checked(_to_rgb(image, notes), notes)


def check_image_size(width: int, height: int, name: str) -> None:
    """Refuse, from the header's size alone, an image too large or too elongated to preprocess cheaply."""
    if width * height > MAX_IMAGE_PIXELS:
        raise InputError(f"'{name}' is {width}x{height} = {width * height / 1e6:.0f} megapixels; "
                         f"the limit is {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels. Resize it first.")
    if max(width, height) > MAX_IMAGE_SIDE:
        raise InputError(f"'{name}' is {width}x{height} px; the limit is {MAX_IMAGE_SIDE:,} px on the long side.")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise InputError(f"'{name}' is {width}x{height} px; the aspect ratio limit is {MAX_ASPECT_RATIO}:1. "
                         f"Crop it first.")


def _to_rgb(image, notes: list[str]):
    """RGB for any mode: alpha onto white, 16-bit rescaled, CMYK / palette / grey converted."""
    from PIL import Image

    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        notes.append(f"{mode} high-bit-depth image rescaled to 8 bits")
        return Image.fromarray(_rescaled_to_8_bits(image)).convert("RGB")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        notes.append("transparent areas shown on white")
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode != "RGB":
        notes.append(f"{mode} image converted to RGB")
    return image.convert("RGB")


def _rescaled_to_8_bits(image, rows: int = 256) -> np.ndarray:
    """Min-max rescale to uint8, a block of rows at a time (the full image is never copied to float64)."""
    low, high = image.getextrema()
    out = np.zeros((image.height, image.width), dtype=np.uint8)
    if high > low:
        for top in range(0, image.height, rows):
            block = np.asarray(image.crop((0, top, image.width, min(top + rows, image.height))), dtype=np.float64)
            out[top:top + len(block)] = (block - low) / (high - low) * 255.0
    return out


def load_audio(data: bytes, name: str = "audio") -> Checked:
    """Decode WAV / FLAC / OGG / MP3 (and M4A where ffmpeg exists) to 16 kHz mono float32."""
    _require_bytes(data, name)
    if Path(name).suffix.lower() in FFMPEG_SUFFIXES:
        samples, notes = _decode_with_ffmpeg(data, name), []
        duration = len(samples) / SAMPLE_RATE
    else:
        samples, duration, notes = _decode_with_soundfile(data, name)
    _check_duration(duration, name)
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if not np.isfinite(samples).all():
        raise InputError(f"'{name}' holds invalid samples (NaN or infinity).")
    if float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < SILENCE_RMS:
        notes.append("the clip is silent: there is no speech to find")
    return Checked(samples, notes)


def _check_duration(duration: float, name: str) -> None:
    if duration > MAX_AUDIO_S:
        raise InputError(f"'{name}' lasts {duration / 60:.1f} min; the limit is {MAX_AUDIO_S / 60:.0f} min.")
    if duration < MIN_AUDIO_S:
        raise InputError(f"'{name}' lasts {duration * 1000:.0f} ms; at least {MIN_AUDIO_S * 1000:.0f} ms "
                         f"of audio is needed.")


def audio_seconds(data: bytes, name: str = "audio") -> float:
    """A clip's duration from its header alone (rate, channels and length checked), nothing decoded."""
    _require_bytes(data, name)
    if Path(name).suffix.lower() in FFMPEG_SUFFIXES:
        return len(load_audio(data, name).data) / SAMPLE_RATE
    with _soundfile(data, name) as audio:
        duration = _check_header(audio, name)
    _check_duration(duration, name)
    return duration


def _check_header(audio, name: str) -> float:
    """The duration an open SoundFile's header declares, after checking its rate and channels."""
    if audio.samplerate > MAX_AUDIO_RATE:
        raise InputError(f"'{name}' has a sample rate of {audio.samplerate:,} Hz; the limit is "
                         f"{MAX_AUDIO_RATE:,} Hz.")
    if audio.channels > MAX_AUDIO_CHANNELS:
        raise InputError(f"'{name}' has {audio.channels} channels; the limit is {MAX_AUDIO_CHANNELS}.")
    duration = audio.frames / audio.samplerate
    if duration > MAX_AUDIO_S:  # too long already; too short is judged on the samples decoded
        _check_duration(duration, name)
    return duration


def _decode_with_soundfile(data: bytes, name: str) -> tuple[np.ndarray, float, list[str]]:
    """16 kHz mono samples, the duration and notes; the header is checked before any sample is decoded."""
    notes: list[str] = []
    with _soundfile(data, name) as audio:
        _check_header(audio, name)
        if audio.channels > 1:
            notes.append(f"{audio.channels} channels mixed down to mono")
        if audio.samplerate != SAMPLE_RATE:
            notes.append(f"resampled from {audio.samplerate} Hz to {SAMPLE_RATE} Hz")
        samples, frames = _read_mono_16k(audio, name)
        return samples, frames / audio.samplerate, notes


def _read_mono_16k(audio, name: str) -> tuple[np.ndarray, int]:
    """Decode block by block, each block mixed down and resampled, so only the 16 kHz mono result is held;
    stop past MAX_AUDIO_S whatever the header said. Returns the samples and the frames read."""
    import soxr

    limit = int(MAX_AUDIO_S * audio.samplerate) + 1
    stream = None if audio.samplerate == SAMPLE_RATE else soxr.ResampleStream(
        audio.samplerate, SAMPLE_RATE, 1, dtype="float32")
    parts, frames = [], 0
    try:
        for block in audio.blocks(AUDIO_BLOCK_FRAMES, dtype="float32", always_2d=True):
            frames += len(block)
            if frames > limit:
                _check_duration(frames / audio.samplerate, name)
            mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
            parts.append(mono if stream is None else stream.resample_chunk(mono))
    except InputError:
        raise
    except (RuntimeError, ValueError) as exc:
        raise InputError(f"'{name}' is damaged and cannot be decoded: {str(exc)[:160]}") from None
    if stream is not None:
        parts.append(stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)), frames


def _soundfile(data: bytes, name: str):
    """An open soundfile.SoundFile over ``data`` (header read, nothing decoded), or InputError."""
    import soundfile as sf

    try:
        return sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        # libsndfile's str() names the in-memory buffer ("Error opening <_io.BytesIO object at 0x…>: …"):
        # show only its reason.
        detail = getattr(exc, "error_string", "") or (str(exc).splitlines() or [""])[0]
        raise InputError(f"'{name}' is not audio this app can decode (WAV, FLAC, OGG, MP3): "
                         f"{detail[:160]}") from None


def _decode_with_ffmpeg(data: bytes, name: str) -> np.ndarray:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise InputError(f"'{name}' is M4A/AAC, which needs ffmpeg, and ffmpeg is not installed on this "
                         f"server. Convert it to WAV, MP3, FLAC or OGG, or install ffmpeg.")
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as src:
        src.write(data)
        src.flush()
        proc = subprocess.run([ffmpeg, "-v", "error", "-i", src.name, "-f", "f32le", "-ac", "1", "-ar",
                               str(SAMPLE_RATE), "-t", str(MAX_AUDIO_S + 1), "-"],
                              capture_output=True, timeout=120, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise InputError(f"'{name}' could not be decoded by ffmpeg: "
                         f"{proc.stderr.decode(errors='replace').strip()[:160]}")
    return np.frombuffer(proc.stdout, dtype=np.float32).copy()


def wav_bytes(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV of float audio, for the browser's audio player."""
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, audio, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def clean_text(text: str, what: str = "text") -> Checked:
    """Strip; refuse empty or over-100k-character text."""
    if text is None or not str(text).strip():
        raise InputError(f"The {what} is empty: type something or pick a sample.")
    text = str(text)
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"The {what} has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}.")
    return Checked(text.strip())


def decode_text_file(data: bytes, name: str = "text file") -> Checked:
    """A .txt upload as text (UTF-8, or Latin-1 as a fallback with a note)."""
    _require_bytes(data, name)
    if b"\x00" in data[:4096]:
        raise InputError(f"'{name}' is a binary file, not plain text.")
    try:
        return clean_text(data.decode("utf-8-sig"), f"file '{name}'")
    except UnicodeDecodeError:
        checked = clean_text(data.decode("latin-1"), f"file '{name}'")
        checked.notes.append("not UTF-8: read as Latin-1")
        return checked


def text_lines(text: str) -> list[str]:
    """Non-empty lines of a text."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def capped_lines(lines: list[str]) -> tuple[list[str], str]:
    """The first MAX_TEXT_LINES lines, and a one-line note when some were left out ("" otherwise)."""
    if len(lines) <= MAX_TEXT_LINES:
        return lines, ""
    note = f"Only the first {MAX_TEXT_LINES} of {len(lines):,} lines are used: the limit per run."
    return lines[:MAX_TEXT_LINES], note
