"""The bad-input matrix (issue 5) as generators: each function returns ``(filename, bytes)``.

Everything is made in memory from the bundled samples or from numbers, so the repository stays small and a
test can write any of these to disk (browser upload) or hand the bytes to AppTest's file_uploader.

Groups (the tests look these up by name):

* IMAGE_ERRORS / IMAGE_ODD_BUT_VALID   – for the Vision and Multimodal pages
* TEXT_ERRORS / TEXT_ODD_BUT_VALID     – for the Text page (the bytes are UTF-8; ``.decode()`` for the text area)
* AUDIO_ERRORS / AUDIO_ODD_BUT_VALID   – for the Speech page
* DATASET_ERRORS                       – bring-your-own evaluation sets of the Compare page
* ADAPT_ERRORS                         – labelled sets of the Adapt page

"Errors" must give a clear message (st.error) and no traceback; "odd but valid" inputs must work, with a note
where the app changed something (mode converted, resampled, first frame of an animation, silence, ...).
"""
from __future__ import annotations

import io
import math
import struct
import warnings
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data"
CLIP = DATA / "speech" / "clip01.wav"  # "the quick brown fox jumps over the lazy dog"
PHOTO = DATA / "images" / "chelsea.jpg"


# ---------------------------------------------------------------- images

@lru_cache(maxsize=1)
def _photo_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(PHOTO).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def truncated_png() -> tuple[str, bytes]:
    """A real PNG cut in the middle of its pixel data (a broken download)."""
    data = _photo_png()
    return "truncated.png", data[: len(data) // 2]


def text_named_jpg() -> tuple[str, bytes]:
    """Plain text with an image file name: the extension lies."""
    return "holiday.jpg", b"This is not a photo, it is a shopping list: milk, eggs, bread.\n" * 20


def empty_file(name: str = "empty.png") -> tuple[str, bytes]:
    """Zero bytes (an upload that failed half way, or a placeholder file)."""
    return name, b""


@lru_cache(maxsize=1)
def _huge_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (8000, 7500), 0).save(buffer, format="PNG", optimize=True)  # ~10 kB on disk, 60 MP
    return buffer.getvalue()


def huge_png() -> tuple[str, bytes]:
    """60 megapixels (8000x7500), but a 1-bit all-black PNG that compresses to a few kB.

    The size is in the header, so a careful decoder refuses it before decoding any pixel.
    """
    return "huge_60mp.png", _huge_png()


def animated_gif() -> tuple[str, bytes]:
    """Three frames: the cat photo, then two flat colours. The app should use the first frame."""
    from PIL import Image

    cat = Image.open(PHOTO).convert("RGB").resize((224, 150))
    frames = [cat, Image.new("RGB", cat.size, (255, 0, 0)), Image.new("RGB", cat.size, (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return "animated.gif", buffer.getvalue()


def cmyk_jpeg() -> tuple[str, bytes]:
    """The cat photo as a CMYK JPEG (what print workflows export)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(PHOTO).convert("CMYK").save(buffer, format="JPEG", quality=90)
    return "cmyk.jpg", buffer.getvalue()


def png_16bit() -> tuple[str, bytes]:
    """A 16-bit greyscale PNG (mode I;16 in Pillow), from the cat photo (scientific / medical exports)."""
    from PIL import Image

    grey = np.asarray(Image.open(PHOTO).convert("L"), dtype=np.uint16) * 257
    buffer = io.BytesIO()
    Image.fromarray(grey.astype(np.uint16)).save(buffer, format="PNG")
    return "grey16.png", buffer.getvalue()


def one_pixel() -> tuple[str, bytes]:
    """A 1x1 image: valid, useless, must not crash a resize / crop pipeline."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 30, 30)).save(buffer, format="PNG")
    return "one_pixel.png", buffer.getvalue()


def _blank_png(size: tuple[int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", size, 0).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def thin_png() -> tuple[str, bytes]:
    """3000x1 px in under 100 bytes: 3 kilopixels, but a 224 px-short-side preprocess makes it 672000x224
    (4 s and +773 MB in Lite0's resize before the aspect ratio was bounded)."""
    return "thin_3000x1.png", _blank_png((3000, 1))


IMAGE_ERRORS = {
    "truncated_png": truncated_png,
    "text_named_jpg": text_named_jpg,
    "empty_file": empty_file,
    "huge_png": huge_png,
    "thin_png": thin_png,
}
IMAGE_ODD_BUT_VALID = {
    "animated_gif": animated_gif,
    "cmyk_jpeg": cmyk_jpeg,
    "png_16bit": png_16bit,
    "one_pixel": one_pixel,
}


# ---------------------------------------------------------------- text

def _text(name: str, text: str) -> tuple[str, bytes]:
    return name, text.encode("utf-8")


def empty_text() -> tuple[str, bytes]:
    """No characters at all."""
    return _text("empty.txt", "")


def whitespace_text() -> tuple[str, bytes]:
    """Spaces, tabs, newlines and a no-break space: looks empty, is not zero length."""
    return _text("blank.txt", "   \n\t \n\u00a0 \n  ")


def long_text(chars: int = 200_000) -> tuple[str, bytes]:
    """200k characters of real-looking sentences (twice the 100k limit)."""
    sentence = "The quick brown fox jumps over the lazy dog. "
    return _text("long.txt", (sentence * (chars // len(sentence) + 1))[:chars])


def emoji_text() -> tuple[str, bytes]:
    """Emoji mixed into English sentences, including ZWJ sequences and skin-tone modifiers."""
    return _text("emoji.txt", "I love this place 😍🔥 the food was great 👍🏽\n"
                              "Family trip 👨‍👩‍👧‍👦 to the sea 🌊🏖️ was wonderful")


def rtl_text() -> tuple[str, bytes]:
    """Right-to-left Arabic and Hebrew sentences."""
    return _text("rtl.txt", "القطة نائمة على الأريكة في غرفة المعيشة\n"
                            "החתול ישן על הספה בסלון")


def cjk_text() -> tuple[str, bytes]:
    """Chinese, Japanese and Korean sentences (no spaces between words in the first two)."""
    return _text("cjk.txt", "今天天气很好，我们去公园散步吧。\n"
                            "猫はソファの上で寝ています。\n"
                            "고양이가 소파 위에서 자고 있습니다.")


TEXT_ERRORS = {"empty_text": empty_text, "whitespace_text": whitespace_text, "long_text": long_text}
TEXT_ODD_BUT_VALID = {"emoji_text": emoji_text, "rtl_text": rtl_text, "cjk_text": cjk_text}
# What fastText (lid.176) should call each line of the valid non-Latin texts.
EXPECTED_LANGUAGES = {"rtl_text": ["ar", "he"], "cjk_text": ["zh", "ja", "ko"]}


# ---------------------------------------------------------------- audio

def _wav(samples: np.ndarray, rate: int, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def _speech() -> tuple[np.ndarray, int]:
    import soundfile as sf

    samples, rate = sf.read(CLIP, dtype="float32")
    return samples, rate


def _tone(seconds: float, rate: int = 16000, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (0.3 * np.sin(2 * math.pi * hz * t)).astype(np.float32)


def short_audio(seconds: float = 0.1) -> tuple[str, bytes]:
    """A tone of ``seconds`` at 16 kHz (0.1 s is exactly the app's minimum; 0.05 s is below it)."""
    return f"short_{int(seconds * 1000)}ms.wav", _wav(_tone(seconds), 16000)


def very_short_audio() -> tuple[str, bytes]:
    """0.05 s: too short to hold a word."""
    return short_audio(0.05)


def silence() -> tuple[str, bytes]:
    """Three seconds of digital silence."""
    return "silence.wav", _wav(np.zeros(3 * 16000, dtype=np.float32), 16000)


def stereo_48k() -> tuple[str, bytes]:
    """The speech sample as a stereo 48 kHz WAV (what a phone or a DAW exports)."""
    import soxr

    samples, rate = _speech()
    up = soxr.resample(samples, rate, 48000).astype(np.float32)
    return "stereo_48k.wav", _wav(np.stack([up, 0.8 * up], axis=1), 48000)


def wav_8bit() -> tuple[str, bytes]:
    """The speech sample as unsigned 8-bit PCM (old sound effects, telephony)."""
    samples, rate = _speech()
    return "speech_8bit.wav", _wav(samples, rate, subtype="PCM_U8")


def corrupt_wav_header() -> tuple[str, bytes]:
    """A real WAV whose RIFF/fmt header is overwritten with garbage."""
    data = bytearray(_wav(*_speech()))
    data[0:36] = bytes(range(36))
    return "corrupt_header.wav", bytes(data)


def mp3() -> tuple[str, bytes]:
    """The speech sample as MP3 (libsndfile >= 1.1 encodes MP3 through LAME)."""
    samples, rate = _speech()
    return "speech.mp3", _wav(samples, rate, subtype="MPEG_LAYER_III", fmt="MP3")


def m4a() -> tuple[str, bytes]:
    """Bytes named .m4a. Without ffmpeg the app must say so; with ffmpeg these bytes do not decode either."""
    return "voice_memo.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + bytes(64)


def silent_flac(seconds: float, rate: int, channels: int) -> bytes:
    """FLAC digital silence, written a second at a time (tiny on disk whatever it decodes to)."""
    import soundfile as sf

    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", rate, channels, format="FLAC", subtype="PCM_16") as audio:
        second = np.zeros((rate, channels), dtype=np.int16)
        for _ in range(int(seconds)):
            audio.write(second)
        audio.write(second[: round((seconds % 1) * rate)])
    return buffer.getvalue()


def hires_flac() -> tuple[str, bytes]:
    """60 s of 8-channel 655,350 Hz FLAC silence, ~340 kB: 1.35 GB once decoded whole (refused from its header)."""
    return "hires_8ch.flac", silent_flac(60, 655_350, 8)


AUDIO_ERRORS = {
    "hires_flac": hires_flac,
    "very_short_audio": very_short_audio,
    "corrupt_wav_header": corrupt_wav_header,
    "m4a_without_ffmpeg": m4a,
    "empty_file": lambda: empty_file("empty.wav"),
    "text_named_wav": lambda: ("notes.wav", text_named_jpg()[1]),
}
AUDIO_ODD_BUT_VALID = {
    "short_audio_100ms": short_audio,
    "silence": silence,
    "stereo_48k": stereo_48k,
    "wav_8bit": wav_8bit,
    "mp3": mp3,
}


# ---------------------------------------------------------------- bring-your-own evaluation sets (Compare page)

def csv_missing_columns() -> tuple[str, bytes]:
    """A labelled-text CSV (language identification / sentiment need columns text,label) with the wrong header.

    Expected: components.datasets.DatasetError naming the missing column ('label') and the expected ones.
    """
    return "my_sentences.csv", b"sentence,lang\nHello there,en\nBonjour,fr\n"


def zip_bomb(size_mb: int = 64) -> tuple[str, bytes]:
    """A small ZIP (tens of kB) of class folders whose one member inflates ``size_mb`` MiB of zeros (> 1000x).

    Bomb-like, not a real bomb: it is safe to inflate if something goes wrong, but an evaluation-set loader must
    refuse it from the declared sizes in the ZIP directory, before reading any member (DatasetError
    'looks like a zip bomb').
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("tabby/cat.jpg", PHOTO.read_bytes())
        with archive.open("tabby/huge.png", "w", force_zip64=True) as member:
            block = bytes(2**20)
            for _ in range(size_mb):
                member.write(block)
    return "bring_your_own.zip", buffer.getvalue()


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name" is the point of one generator
        for name, data in members.items() if isinstance(members, dict) else members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _zip_entry(name: bytes, method: int, crc: int, packed: int, size: int, offset: int, central: bool) -> bytes:
    """A ZIP local header (``central`` False) or central-directory record for one member."""
    if central:
        return struct.pack("<4s2B5H3L5H2L", b"PK\x01\x02", 20, 3, 20, 0, method, 0, 33, crc, packed, size,
                           len(name), 0, 0, 0, 0, 0, offset) + name
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 33, crc, packed, size, len(name), 0) + name


def lying_size_zip(size_mb: int = 512) -> tuple[str, bytes]:
    """~0.5 MB: one member declares 1,000 bytes (and passes every ratio check) but inflates to ``size_mb`` MiB
    of zeros, the CRC of all of them. Read whole, it costs seconds and twice its size in memory before
    'Bad CRC-32'."""
    packer, block, crc = zlib.compressobj(9, zlib.DEFLATED, -15), bytes(2**20), 0
    chunks = []
    for _ in range(size_mb):
        chunks.append(packer.compress(block))
        crc = zlib.crc32(block, crc)
    payload, name = b"".join(chunks) + packer.flush(), b"tabby/cat.png"
    local = _zip_entry(name, 8, crc, len(payload), 1000, 0, central=False)
    central = _zip_entry(name, 8, crc, len(payload), 1000, 0, central=True)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(payload), 0)
    return "lying_size.zip", local + payload + central + end


def _photo_bmp() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(PHOTO).convert("RGB").save(buffer, format="BMP")
    return buffer.getvalue()


def corrupt_deflate_zip() -> tuple[str, bytes]:
    """A ZIP of the cat photo (BMP, deflated) whose deflate stream is overwritten mid-member: zlib.error -3."""
    data = bytearray(_zip({"tabby/cat.bmp": _photo_bmp(), "tabby/cat2.bmp": _photo_bmp()}))
    middle = len(data) // 4
    data[middle : middle + 64] = b"\xff" * 64
    return "corrupt.zip", bytes(data)


def duplicate_names_zip() -> tuple[str, bytes]:
    """Two members named 'tabby/cat.jpg' (different photos): one would silently hide the other."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 0, 255)).save(buffer, format="JPEG")
    members = [("tabby/cat.jpg", PHOTO.read_bytes()), ("tabby/cat.jpg", buffer.getvalue())]
    return "duplicates.zip", _zip(members)


def forged_entry_count_zip(entries: int = 60_000) -> tuple[str, bytes]:
    """A one-photo ZIP whose end record declares ``entries`` entries (a 300k-entry central directory takes
    5.4 s to parse: the count must be refused from the end record, before parsing)."""
    data = bytearray(_zip({"tabby/cat.jpg": PHOTO.read_bytes()}))
    data[-14:-10] = struct.pack("<2H", entries, entries)  # entries on this disk, entries in total
    return "many_entries.zip", bytes(data)


def thin_image_zip() -> tuple[str, bytes]:
    """A class folder holding a 3000x1 PNG next to the cat photo."""
    return "thin.zip", _zip({"tabby/cat.jpg": PHOTO.read_bytes(), "tabby/thin.png": thin_png()[1]})


def many_pixels_zip(count: int = 41) -> tuple[str, bytes]:
    """``count`` 49-megapixel 1-bit PNGs (~6 kB each): 41 add up to 2 gigapixels to decode."""
    blank = _blank_png((7000, 7000))
    return "many_pixels.zip", _zip({f"tabby/{i:02d}.png": blank for i in range(count)})


def bidi_label_csv() -> tuple[str, bytes]:
    """A text,label CSV whose label hides a right-to-left override (U+202E): 'ne' that displays reversed."""
    return "bidi.csv", "text,label\nHello there,\u202ene\nBonjour,fr\n".encode()


def long_clips_zip(clips: int = 24, seconds: float = 599) -> tuple[str, bytes]:
    """An Adapt audio set: ``clips`` silent 16 kHz FLAC clips of ``seconds`` each in two class folders
    (24 x 599 s: 0.65 MB, +887 MB when every clip is kept decoded)."""
    clip = silent_flac(seconds, 16000, 1)
    return "long_clips.zip", _zip({f"{('yes', 'no')[i % 2]}/{i:02d}.flac": clip for i in range(clips)})


DATASET_ERRORS = {
    "csv_missing_columns": csv_missing_columns,
    "zip_bomb": zip_bomb,
    "lying_size_zip": lying_size_zip,
    "corrupt_deflate_zip": corrupt_deflate_zip,
    "duplicate_names_zip": duplicate_names_zip,
    "forged_entry_count_zip": forged_entry_count_zip,
    "thin_image_zip": thin_image_zip,
    "many_pixels_zip": many_pixels_zip,
    "bidi_label_csv": bidi_label_csv,
}
# The task each set is offered for, and words of the one-line message it must get
DATASET_EXPECTED = {
    "csv_missing_columns": ("language-identification", "missing column"),
    "zip_bomb": ("image-classification", "zip bomb"),
    "lying_size_zip": ("image-classification", "Bad CRC-32"),
    "corrupt_deflate_zip": ("image-classification", "Error -3"),
    "duplicate_names_zip": ("image-classification", "more than once"),
    "forged_entry_count_zip": ("image-classification", "60,000 entries"),
    "thin_image_zip": ("image-classification", "aspect ratio"),
    "many_pixels_zip": ("image-classification", "megapixels"),
    "bidi_label_csv": ("language-identification", "U+202E"),
}
ADAPT_ERRORS = {"long_clips_zip": long_clips_zip}
ADAPT_EXPECTED = {"long_clips_zip": ("audio-classification", "60 minutes of audio")}

ALL = {**IMAGE_ERRORS, **IMAGE_ODD_BUT_VALID, **TEXT_ERRORS, **TEXT_ODD_BUT_VALID,
       **{f"audio_{k}": v for k, v in {**AUDIO_ERRORS, **AUDIO_ODD_BUT_VALID}.items()}, **DATASET_ERRORS,
       **ADAPT_ERRORS}
