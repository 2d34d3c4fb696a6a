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
MIN_USEFUL_PIXELS = 32 * 32
MAX_UPLOAD_MB = 200
MAX_AUDIO_S = 600.0
MIN_AUDIO_S = 0.1
MAX_TEXT_CHARS = 100_000
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
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise InputError(f"'{name}' is {width}x{height} = {width * height / 1e6:.0f} megapixels; "
                                 f"the limit is {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels. Resize it first.")
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


def _to_rgb(image, notes: list[str]):
    """RGB for any mode: alpha onto white, 16-bit rescaled, CMYK / palette / grey converted."""
    from PIL import Image

    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        low, high = float(arr.min()), float(arr.max())
        scaled = np.zeros_like(arr) if high <= low else (arr - low) / (high - low) * 255.0
        notes.append(f"{mode} high-bit-depth image rescaled to 8 bits")
        return Image.fromarray(scaled.astype(np.uint8)).convert("RGB")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        notes.append("transparent areas shown on white")
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode != "RGB":
        notes.append(f"{mode} image converted to RGB")
    return image.convert("RGB")


def load_audio(data: bytes, name: str = "audio") -> Checked:
    """Decode WAV / FLAC / OGG / MP3 (and M4A where ffmpeg exists) to 16 kHz mono float32."""
    _require_bytes(data, name)
    suffix = Path(name).suffix.lower()
    notes: list[str] = []
    if suffix in (".m4a", ".mp4", ".aac"):
        samples, rate = _decode_with_ffmpeg(data, name)
    else:
        samples, rate = _decode_with_soundfile(data, name)
    if samples.ndim == 2:
        if samples.shape[1] > 1:
            notes.append(f"{samples.shape[1]} channels mixed down to mono")
        samples = samples.mean(axis=1)
    duration = len(samples) / rate if rate else 0.0
    if duration > MAX_AUDIO_S:
        raise InputError(f"'{name}' lasts {duration / 60:.1f} min; the limit is {MAX_AUDIO_S / 60:.0f} min.")
    if duration < MIN_AUDIO_S:
        raise InputError(f"'{name}' lasts {duration * 1000:.0f} ms; at least {MIN_AUDIO_S * 1000:.0f} ms "
                         f"of audio is needed.")
    if rate != SAMPLE_RATE:
        import soxr

        notes.append(f"resampled from {rate} Hz to {SAMPLE_RATE} Hz")
        samples = soxr.resample(samples, rate, SAMPLE_RATE)
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if not np.isfinite(samples).all():
        raise InputError(f"'{name}' holds invalid samples (NaN or infinity).")
    if float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) < SILENCE_RMS:
        notes.append("the clip is silent: there is no speech to find")
    return Checked(samples, notes)


def _decode_with_soundfile(data: bytes, name: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        # libsndfile's str() names the in-memory buffer ("Error opening <_io.BytesIO object at 0x…>: …"):
        # show only its reason.
        detail = getattr(exc, "error_string", "") or (str(exc).splitlines() or [""])[0]
        raise InputError(f"'{name}' is not audio this app can decode (WAV, FLAC, OGG, MP3): "
                         f"{detail[:160]}") from None
    return np.asarray(samples), int(rate)


def _decode_with_ffmpeg(data: bytes, name: str) -> tuple[np.ndarray, int]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise InputError(f"'{name}' is M4A/AAC, which needs ffmpeg, and ffmpeg is not installed on this "
                         f"server. Convert it to WAV, MP3, FLAC or OGG, or install ffmpeg.")
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as src:
        src.write(data)
        src.flush()
        proc = subprocess.run([ffmpeg, "-v", "error", "-i", src.name, "-f", "f32le", "-ac", "1", "-ar",
                               str(SAMPLE_RATE), "-"], capture_output=True, timeout=120, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise InputError(f"'{name}' could not be decoded by ffmpeg: "
                         f"{proc.stderr.decode(errors='replace').strip()[:160]}")
    return np.frombuffer(proc.stdout, dtype=np.float32).copy(), SAMPLE_RATE


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
