"""Input widgets: upload, camera / microphone, or one click on a bundled sample.

The raw bytes of the current input live in session state, so a rerun (or a page switch) never loses
what the user gave; decoding and validation happen in components.core.inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from components.core import Checked, InputError, load_audio, load_image
from components.ui.widgets.format import literal

DATA = Path(__file__).resolve().parents[3] / "data"
# Uploaders accept any extension (type=None): the bytes are checked instead, so a mislabelled
# file gets a plain message rather than a silent refusal.


@dataclass(frozen=True)
class RawInput:
    name: str
    data: bytes
    origin: str  # "upload", "camera", "microphone" or "sample"


def _store(key: str, raw: RawInput) -> None:
    if st.session_state.get(key) != raw:
        st.session_state[key] = raw
        st.session_state.pop(f"{key}_results", None)  # results belong to the previous input


def _from_widget(key: str, widget_value, origin: str) -> None:
    if widget_value is not None:
        _store(key, RawInput(widget_value.name or origin, widget_value.getvalue(), origin))
    elif getattr(st.session_state.get(key), "origin", None) == origin:  # the user removed that file
        st.session_state.pop(key, None)
        st.session_state.pop(f"{key}_results", None)


def _samples(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    return sorted(p for pattern in patterns for p in folder.glob(pattern))


def _sample_buttons(key: str, files: list[Path], columns: int = 4) -> None:
    cols = st.columns(columns)
    for i, path in enumerate(files):
        if cols[i % columns].button(path.stem.replace("_", " "), key=f"{key}_sample_{path.name}",
                                    width="stretch"):
            _store(key, RawInput(path.name, path.read_bytes(), "sample"))


def _on_upload(key: str, widget_key: str, origin: str) -> None:
    _from_widget(key, st.session_state.get(widget_key), origin)


def _upload_tab(key: str, label: str, help_text: str) -> None:
    st.file_uploader(label, type=None, key=f"{key}_upload", help=help_text,
                     on_change=_on_upload, args=(key, f"{key}_upload", "upload"))


def image_input(key: str) -> Checked | None:
    """Upload / camera / sample -> validated RGB image, or an error shown in the page."""
    upload, camera, samples = st.tabs([":material/upload: Upload", ":material/photo_camera: Camera",
                                       ":material/image: Samples"])
    with upload:
        _upload_tab(key, "Image file", "PNG, JPEG, WebP, BMP, GIF (first frame), TIFF; any colour mode.")
    with camera:
        if st.toggle("Use the camera", key=f"{key}_camera_on"):
            st.camera_input("Take a photo", key=f"{key}_camera",
                            on_change=_on_upload, args=(key, f"{key}_camera", "camera"))
    with samples:
        _sample_buttons(key, _samples(DATA / "images", ("*.jpg", "*.png")))
    return _decoded(key, load_image, "Upload an image, take a photo, or click a sample to begin.")


def audio_input(key: str) -> Checked | None:
    """Upload / microphone / sample -> 16 kHz mono float32 audio, or an error shown in the page."""
    upload, microphone, samples = st.tabs([":material/upload: Upload", ":material/mic: Record",
                                           ":material/volume_up: Samples"])
    with upload:
        _upload_tab(key, "Audio file", "WAV, MP3, FLAC, OGG (M4A when ffmpeg is installed); up to 10 minutes.")
    with microphone:
        st.audio_input("Record a clip", key=f"{key}_mic",
                       on_change=_on_upload, args=(key, f"{key}_mic", "microphone"))
    with samples:
        _sample_buttons(key, _samples(DATA / "speech", ("*.wav",)), columns=6)
    return _decoded(key, load_audio, "Upload a clip, record one, or click a sample to begin.")


def current_raw(key: str) -> RawInput | None:
    return st.session_state.get(key)


def _decoded(key: str, decode, prompt: str) -> Checked | None:
    raw = current_raw(key)
    if raw is None:
        st.info(prompt)
        return None
    try:
        checked = _cached_decode(decode.__name__, raw.name, raw.data)
    except InputError as exc:
        st.error(literal(exc), icon=":material/warning:")
        return None
    for note in checked.notes:
        st.caption(f":material/info: {note}")
    return checked


@st.cache_data(max_entries=4, ttl=600, show_spinner=False)  # a 50 MP image is ~150 MB decoded
def _cached_decode(kind: str, name: str, data: bytes) -> Checked:
    return {"load_image": load_image, "load_audio": load_audio}[kind](data, name)
