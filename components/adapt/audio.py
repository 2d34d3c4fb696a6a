"""Pooled speech features for Adapt: one vector per clip from a speech model's encoder.

Whisper (CTranslate2 through faster-whisper, or transformers with any weights): faster-whisper's
log-mel of the clip, padded or trimmed to Whisper's 30 s window, through the encoder; the mean of
the encoder frames that cover the real audio (the padding is left out). wav2vec 2.0 / HuBERT: the
mean of the last hidden states of the waveform.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from components.core import CatalogEntry

WHISPER_FRAMES = 3000  # log-mel frames in Whisper's 30 s window; the encoder halves them
AUDIO_ARCHITECTURES = ("WhisperConfig", "Wav2Vec2Config", "HubertConfig")


def can_embed_audio(entry: CatalogEntry) -> bool:
    """Whether Adapt can take pooled features of ``entry`` (not PocketSphinx, VAD, …)."""
    return entry.source.engine == "whisper_ct2" or (
        entry.architecture is not None and entry.architecture.name in AUDIO_ARCHITECTURES)


@lru_cache(maxsize=4)
def _extractor(mel_bins: int) -> Any:
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor(feature_size=mel_bins)


def whisper_log_mel(audio: np.ndarray, extractor: Any) -> tuple[np.ndarray, int]:
    """(mel_bins, 3000) log-mel as faster-whisper makes it, and how many frames hold the clip."""
    from faster_whisper.audio import pad_or_trim

    mel = extractor(audio)[:, :-1]  # faster-whisper drops the last frame too
    return pad_or_trim(mel, WHISPER_FRAMES).astype(np.float32), max(1, min(mel.shape[-1], WHISPER_FRAMES))


def mean_over_real(frames: np.ndarray, mel_frames: Sequence[int]) -> np.ndarray:
    """Mean of each clip's encoder frames that cover its audio (stride 2: ceil(mel frames / 2))."""
    return np.stack([f[: max(1, (n + 1) // 2)].mean(axis=0) for f, n in zip(frames, mel_frames)])


def _clip(item: Any) -> np.ndarray:
    from components.models import InputError

    audio = np.asarray(item, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise InputError("The audio is empty: record or upload a clip with sound in it.")
    return audio


def embed_audio(runner: Any, items: Sequence[Any]) -> np.ndarray:
    """(clips, feature_dim) float32 pooled encoder features of 16 kHz mono clips."""
    from components.models import CannotRun

    clips = [_clip(item) for item in items]
    model = runner.model
    if hasattr(model, "encode") and hasattr(model, "feature_extractor"):  # faster-whisper / CTranslate2
        mels, counts = zip(*(whisper_log_mel(c, model.feature_extractor) for c in clips))
        frames = np.array(model.encode(np.stack(mels)))
        return mean_over_real(frames, counts).astype(np.float32)
    torch_model = model if hasattr(model, "config") else getattr(model, "model", None)  # a pipeline's model
    kind = getattr(getattr(torch_model, "config", None), "model_type", "")
    if kind == "whisper":
        return _whisper_torch(torch_model, clips)
    if kind in ("wav2vec2", "hubert"):
        return _waveform_torch(torch_model, clips)
    raise CannotRun(f"{runner.entry.name} gives no pooled speech features here")


def _whisper_torch(model: Any, clips: list[np.ndarray]) -> np.ndarray:
    import torch

    extractor = _extractor(model.config.num_mel_bins)
    mels, counts = zip(*(whisper_log_mel(c, extractor) for c in clips))
    device = next(model.parameters()).device
    with torch.inference_mode():
        frames = model.get_encoder()(input_features=torch.from_numpy(np.stack(mels)).to(device)).last_hidden_state
    return mean_over_real(frames.float().cpu().numpy(), counts).astype(np.float32)


def _waveform_torch(model: Any, clips: list[np.ndarray]) -> np.ndarray:
    import torch

    device = next(model.parameters()).device
    pooled = []
    with torch.inference_mode():
        for clip in clips:  # one at a time: no padding to mask
            values = torch.from_numpy((clip - clip.mean()) / (clip.std() + 1e-7)).unsqueeze(0).to(device)
            hidden = model(input_values=values, output_hidden_states=True).hidden_states[-1]
            pooled.append(hidden[0].mean(dim=0).float().cpu().numpy())
    return np.stack(pooled).astype(np.float32)
