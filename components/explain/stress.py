"""Stress tests: perturb an input with a strength in [0, 1] (0 leaves it unchanged), read each item's
headline answer from a run's output (to set it beside the original's), and a robustness curve: the task's
headline metric on the bundled labelled set at several strengths, scored by
:func:`components.compare.evaluation.evaluate` with the task table's metrics.

Every perturbation is seeded, so the same (input, strength, seed) gives the same result.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from components.compare import evaluate
from components.core import get_task
from components.datasets import Dataset

SAMPLE_RATE = 16000
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
AUXILIARIES = {"is", "are", "was", "were", "am", "do", "does", "did", "can", "could", "will", "would",
               "should", "has", "have", "had", "must", "may", "might"}


@dataclass(frozen=True)
class Answer:
    """One item's headline answer in a run's output (the photo, a line of text, the clip)."""

    item: str  # "photo", "line 2", "query", "clip"
    answer: str
    confidence: float | None  # the model's score for its answer; None where it gives none (a transcript)
    scores: dict[str, float]  # every answer the output scores: the original answer's score after a perturbation


@dataclass(frozen=True)
class Perturbation:
    name: str
    kind: str  # "image" | "text" | "audio"
    describe: Callable[[float], str]  # what a strength means, in words
    apply: Callable[[Any, float, np.random.Generator], Any]


# ---------------------------------------------------------------- images (PIL in, PIL out)

def _blur(image: Any, s: float, rng: np.random.Generator) -> Any:
    from PIL import ImageFilter

    return image.filter(ImageFilter.GaussianBlur(s * min(image.size) / 30))


def _noise(image: Any, s: float, rng: np.random.Generator) -> Any:
    from PIL import Image

    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    noisy = pixels + rng.normal(0.0, s * 0.5 * 255, pixels.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _jpeg(image: Any, s: float, rng: np.random.Generator) -> Any:
    from PIL import Image

    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=_jpeg_quality(s))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _jpeg_quality(s: float) -> int:
    return max(1, round(95 - 94 * s))


def _rotate(image: Any, s: float, rng: np.random.Generator) -> Any:
    return image.rotate(180 * s, resample=3, fillcolor=(128, 128, 128))  # 3: bicubic


def _crop(image: Any, s: float, rng: np.random.Generator) -> Any:
    """Keep a window (1 - 0.8 s) of each side at a seeded place, scaled back to the photo's size."""
    width, height = image.size
    keep_w, keep_h = max(1, round(width * (1 - 0.8 * s))), max(1, round(height * (1 - 0.8 * s)))
    left, top = int(rng.integers(0, width - keep_w + 1)), int(rng.integers(0, height - keep_h + 1))
    return image.crop((left, top, left + keep_w, top + keep_h)).resize(image.size)


def _brightness(image: Any, s: float, rng: np.random.Generator) -> Any:
    from PIL import ImageEnhance

    return ImageEnhance.Brightness(image).enhance(1 - 0.95 * s)


def _grayscale(image: Any, s: float, rng: np.random.Generator) -> Any:
    from PIL import Image

    rgb = image.convert("RGB")
    return Image.blend(rgb, rgb.convert("L").convert("RGB"), s)


# ---------------------------------------------------------------- text (str in, str out)

def _typos(text: str, s: float, rng: np.random.Generator) -> str:
    """A share ``s`` of the words of 3+ letters get one typo (swap, drop or double a letter)."""
    def typo(match: re.Match) -> str:
        word = match.group(0)
        if rng.random() >= s:
            return word
        i = int(rng.integers(0, len(word) - 1))
        edit = int(rng.integers(0, 3))
        if edit == 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        return word[:i] + word[i + 1:] if edit == 1 else word[:i] + word[i] + word[i:]

    return re.sub(r"[A-Za-z]{3,}", typo, text)


def _casing(text: str, s: float, rng: np.random.Generator) -> str:
    """Each letter's case flipped with probability ``s``."""
    return "".join(c.swapcase() if c.isalpha() and rng.random() < s else c for c in text)


def _negation(text: str, s: float, rng: np.random.Generator) -> str:
    """Each sentence negated with probability ``s``: 'not' after its first auxiliary verb, else
    'It is not true that …'. Negation flips meaning: the label a model should give changes too."""
    def negate(sentence: str) -> str:
        if not sentence.strip() or rng.random() >= s:
            return sentence
        words = sentence.split(" ")
        for i, word in enumerate(words):
            if word.lower().strip(",;:") in AUXILIARIES:
                return " ".join(words[:i + 1] + ["not"] + words[i + 1:])
        stripped = sentence.lstrip()
        return sentence[: len(sentence) - len(stripped)] + "It is not true that " + stripped[:1].lower() + stripped[1:]

    return "".join(negate(part) for part in re.split(r"(?<=[.!?])(\s+)", text))


def _shuffle(text: str, s: float, rng: np.random.Generator) -> str:
    """A share ``s`` of the word positions exchange their words (seeded)."""
    words = text.split()
    chosen = [i for i in range(len(words)) if rng.random() < s]
    moved = [words[i] for i in rng.permutation(chosen)] if chosen else []
    for i, word in zip(chosen, moved):
        words[i] = word
    return " ".join(words)


# ---------------------------------------------------------------- audio (16 kHz float32 in and out)

def _audio_noise(audio: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at an SNR of 40 (1 - s) dB (s = 1: as loud as the speech)."""
    if s <= 0:
        return audio
    power = float(np.mean(audio.astype(np.float64) ** 2)) or 1e-10
    noise = rng.normal(0.0, np.sqrt(power / 10 ** (_snr_db(s) / 10)), audio.shape)
    return (audio + noise).astype(np.float32)


def _snr_db(s: float) -> float:
    return 40 * (1 - s)


def _telephone(audio: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    """A band-pass narrowing towards the telephone band, 300-3,400 Hz at s = 1."""
    from scipy.signal import butter, sosfiltfilt

    if s <= 0:
        return audio
    low, high = 300 * s, 7900 - (7900 - 3400) * s
    sos = butter(4, [max(low, 20), high], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return sosfiltfilt(sos, audio).astype(np.float32)


def _speed(audio: np.ndarray, s: float, rng: np.random.Generator) -> np.ndarray:
    """Played 1 + 0.5 s times faster (pitch rises too, like a tape)."""
    import soxr

    factor = 1 + 0.5 * s
    return audio if s <= 0 else soxr.resample(audio, SAMPLE_RATE * factor, SAMPLE_RATE).astype(np.float32)


_ALL = (
    Perturbation("blur", "image", lambda s: f"Gaussian blur, radius {s / 30:.3f} of the short side", _blur),
    Perturbation("noise", "image", lambda s: f"Gaussian noise, σ {s * 0.5:.2f} of full scale", _noise),
    Perturbation("jpeg", "image", lambda s: f"JPEG quality {_jpeg_quality(s)}", _jpeg),
    Perturbation("rotation", "image", lambda s: f"rotated {180 * s:.0f}°", _rotate),
    Perturbation("crop", "image", lambda s: f"crop keeping {1 - 0.8 * s:.0%} of each side", _crop),
    Perturbation("brightness", "image", lambda s: f"brightness × {1 - 0.95 * s:.2f}", _brightness),
    Perturbation("grayscale", "image", lambda s: f"{s:.0%} grayscale", _grayscale),
    Perturbation("typos", "text", lambda s: f"typos in {s:.0%} of the words", _typos),
    Perturbation("casing", "text", lambda s: f"case flipped for {s:.0%} of the letters", _casing),
    Perturbation("negation", "text", lambda s: f"{s:.0%} of the sentences negated", _negation),
    Perturbation("word shuffle", "text", lambda s: f"{s:.0%} of the words shuffled", _shuffle),
    Perturbation("noise", "audio", lambda s: f"white noise at {_snr_db(s):.0f} dB SNR", _audio_noise),
    Perturbation("telephone", "audio", lambda s: f"band {300 * s:.0f}-{7900 - 4500 * s:.0f} Hz", _telephone),
    Perturbation("speed", "audio", lambda s: f"played {1 + 0.5 * s:.2f}× faster", _speed),
)
PERTURBATIONS: dict[tuple[str, str], Perturbation] = {(p.kind, p.name): p for p in _ALL}


def perturbations_for(kind: str) -> tuple[str, ...]:
    """Perturbation names for an input kind ('image', 'text', 'audio')."""
    return tuple(p.name for p in _ALL if p.kind == kind)


def get_perturbation(kind: str, name: str) -> Perturbation:
    try:
        return PERTURBATIONS[(kind, name)]
    except KeyError:
        raise KeyError(f"no {kind} perturbation '{name}' (there are: {', '.join(perturbations_for(kind))})") from None


def perturb(kind: str, name: str, inputs: Any, strength: float, seed: int = 0) -> Any:
    """``inputs`` perturbed by ``name`` at ``strength`` in [0, 1]; pairs and lists item by item."""
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be in [0, 1], not {strength}")
    perturbation = get_perturbation(kind, name)
    rng = np.random.default_rng(seed)
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(perturbation.apply(item, strength, rng) for item in inputs)
    return perturbation.apply(inputs, strength, rng)


def robustness_curve(runner: Any, dataset: Dataset, name: str, strengths: Sequence[float] = STRENGTHS,
                     seed: int = 0, tick: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """One point per strength: the task's metrics on ``dataset`` with every input perturbed (sample i
    with seed ``seed + i``), as :func:`components.compare.evaluation.evaluate` scores it."""
    kind = get_task(dataset.task).input_kind
    points = []
    for strength in strengths:
        inputs = [perturb(kind, name, dataset.inputs[i], strength, seed + i) for i in range(len(dataset))]
        shaken = Dataset(dataset.task, dataset.source, dataset.ids, inputs, dataset.labels)
        metrics, _ = evaluate(runner, shaken, tick)
        points.append({"strength": float(strength), "metrics": metrics})
    return points


# ---------------------------------------------------------------- answers in a run's output

def answers(task: str, output: Any) -> list[Answer]:
    """The headline answer per item of a runner's ``output`` for ``task`` (the tasks the playgrounds stress: their
    spec's ``stress`` names the shape of their output)."""
    shape = get_task(task).stress
    if not shape:
        raise KeyError(f"no stress-test answers for {task}")
    return _ANSWERS[shape](output)


def _photo_answers(output: Any) -> list[Answer]:
    return [Answer("photo", output[0]["label"], output[0]["score"], {r["label"]: r["score"] for r in output})]


def _label_answers(output: Any) -> list[Answer]:
    return [Answer(f"line {i}", r["label"], r["score"], _label_scores(r)) for i, r in enumerate(output, 1)]


def _lang_answers(output: Any) -> list[Answer]:
    return [Answer(f"line {i}", r["lang"], r["score"], {t["lang"]: t["score"] for t in r["top"]})
            for i, r in enumerate(output, 1)]


def _labels_answers(output: Any) -> list[Answer]:
    return [Answer(f"line {i}", r["labels"][0]["label"], r["labels"][0]["score"],
                   {label["label"]: label["score"] for label in r["labels"]}) for i, r in enumerate(output, 1)]


def _clip_answers(output: Any) -> list[Answer]:
    return [Answer("clip", output["text"], None, {})]


def _label_scores(row: dict[str, Any]) -> dict[str, float]:
    """A classifier's probability per label where its ``scores`` are those (VADER's are not: its label's
    score is |compound|, its ``scores`` are word shares)."""
    scores = row.get("scores") or {}
    return scores if abs(scores.get(row["label"], -1.0) - row["score"]) < 1e-9 else {row["label"]: row["score"]}


def _closest_lines(output: dict[str, Any]) -> list[Answer]:
    """Similarity: the line closest to the query (when there is one), else each line's closest other line."""
    sentences, matrix = output["sentences"], output["matrix"]
    if "ranking" in output:
        cosines = {f"line {sentences.index(r['text']) + 1}": r["score"] for r in output["ranking"]}
        best = max(cosines, key=cosines.__getitem__)
        return [Answer("query", best, cosines[best], cosines)]
    found = []
    for i, row in enumerate(matrix):
        cosines = {f"line {j + 1}": cosine for j, cosine in enumerate(row) if j != i}
        if cosines:
            best = max(cosines, key=cosines.__getitem__)
            found.append(Answer(f"line {i + 1}", best, cosines[best], cosines))
    return found


_ANSWERS: dict[str, Callable[[Any], list[Answer]]] = {  # a spec's ``stress`` shape -> its answers
    "photo": _photo_answers, "line-label": _label_answers, "line-lang": _lang_answers,
    "line-labels": _labels_answers, "closest-lines": _closest_lines, "clip": _clip_answers,
}
