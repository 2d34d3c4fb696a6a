"""Speech runners: transcription (three engines) and voice-activity detection."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from components.core import SPEECH_RECOGNITION, VOICE_ACTIVITY_DETECTION
from components.models.loaders import speech
from components.models.registry import register_engine
from components.models.runners.base import InputError, Runner


def _audio(inputs: Any) -> np.ndarray:
    audio = np.asarray(inputs, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise InputError("The audio is empty: record or upload a clip with sound in it.")
    return audio


class TranscriptionRunner(Runner):
    """Speech to text; the output carries the real-time factor (compute time / audio duration)."""

    task = SPEECH_RECOGNITION
    transcribe: Callable[[Any, np.ndarray], str] = staticmethod(speech.transcribe_whisper_ct2)

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return _audio(inputs)

    def forward(self, batch: Any) -> Any:
        return type(self).transcribe(self.loaded, batch)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        return {"text": outputs, "audio_s": len(inputs) / speech.SAMPLE_RATE}


class PocketSphinxRunner(TranscriptionRunner):
    transcribe = staticmethod(speech.transcribe_pocketsphinx)


class TransformersASRRunner(TranscriptionRunner):
    transcribe = staticmethod(speech.transcribe_transformers)


class VoiceActivityRunner(Runner):
    task = VOICE_ACTIVITY_DETECTION

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return _audio(inputs)

    def forward(self, batch: Any) -> Any:
        return speech.speech_segments(self.loaded, batch)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        audio_s = len(inputs) / speech.SAMPLE_RATE
        voiced = sum(s["end"] - s["start"] for s in outputs)
        return {"segments": outputs, "audio_s": audio_s, "speech_s": voiced}


register_engine("whisper_ct2", speech.load_whisper_ct2, {SPEECH_RECOGNITION: TranscriptionRunner},
                own_runtime="CTranslate2")
register_engine("pocketsphinx", speech.load_pocketsphinx, {SPEECH_RECOGNITION: PocketSphinxRunner},
                own_runtime="PocketSphinx")
register_engine("silero_vad", speech.load_silero_vad, {VOICE_ACTIVITY_DETECTION: VoiceActivityRunner},
                own_runtime="TorchScript")
register_engine("transformers-asr", speech.load_transformers_asr, {SPEECH_RECOGNITION: TransformersASRRunner})
