"""Speech explanations: Whisper's words with their timestamps and probabilities (faster-whisper's
``word_timestamps``: cross-attention alignment), for drawing on the waveform."""
from __future__ import annotations

from typing import Any

import numpy as np

from components.models import CannotRun, Runner


def whisper_words(runner: Runner, audio: np.ndarray) -> list[dict[str, Any]]:
    """[{word, start, end, probability}] for a faster-whisper (CTranslate2) runner on 16 kHz ``audio``,
    decoded as the runner decodes (beam 5, English)."""
    if not hasattr(runner.model, "transcribe") or runner.entry.source.engine != "whisper_ct2":
        raise CannotRun(f"word timings come from faster-whisper; {runner.entry.name} does not give them here")
    with runner.loaded.in_use():
        segments, _info = runner.model.transcribe(audio, beam_size=5, language="en",
                                                  condition_on_previous_text=False, word_timestamps=True)
        return [{"word": word.word.strip(), "start": float(word.start), "end": float(word.end),
                 "probability": float(word.probability)} for segment in segments for word in segment.words or []]
