"""Random-weights runner: feeds a real input, shaped for the architecture, to measure its cost.

Its output is only a tensor shape: with random weights a prediction would mean nothing, so every
place that shows it says "random weights — accuracy n/a".
"""
from __future__ import annotations

import re
import zlib
from typing import Any

import numpy as np

from components.models.extras import ArchitectureExtras
from components.models.loaders.architecture import load_architecture
from components.models.registry import ANY_TASK, TORCH_RUNTIMES, register_engine
from components.models.runners.base import InputError, Runner

RANDOM_NOTE = "random weights — accuracy n/a"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SAMPLE_RATE = 16000


def _pixels(image: Any, size: int) -> Any:
    import torch

    rgb = image.convert("RGB").resize((size, size))
    arr = (np.asarray(rgb, dtype=np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(arr.transpose(2, 0, 1).copy()).unsqueeze(0).float()


def _token_ids(texts: list[str], vocab_size: int) -> Any:
    """Word pieces hashed into the vocabulary: the right sequence length, no tokenizer download."""
    import torch

    pieces = [re.findall(r"\w{1,6}|[^\w\s]", text) or ["."] for text in texts]
    length = max(len(p) for p in pieces) + 2
    ids = torch.zeros((len(texts), length), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, words in enumerate(pieces):
        hashed = [1 + zlib.crc32(w.encode()) % (vocab_size - 2) for w in words]
        ids[row, 1 : len(hashed) + 1] = torch.tensor(hashed)
        mask[row, : len(hashed) + 2] = 1
    return ids, mask


def _log_mel(audio: np.ndarray, mel_bins: int) -> Any:
    import torch
    from transformers import WhisperFeatureExtractor

    extractor = WhisperFeatureExtractor(feature_size=mel_bins)
    return torch.from_numpy(extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="np")["input_features"])


class RandomWeightsRunner(Runner):
    task = "*"

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        spec = self.extras(ArchitectureExtras).input_spec
        kind = spec["kind"]
        is_image = hasattr(inputs, "convert")
        if kind == "pixels":  # timm / torchvision: a bare tensor
            if not is_image:
                raise InputError(f"{self.entry.name} takes an image.")
            return _pixels(inputs, spec["size"]).to(self.device)
        if kind == "input_values":
            batch = {"input_values": self._waveform(inputs)}
        elif kind == "input_features":
            batch = {"input_features": _log_mel(self._audio(inputs), spec["mel_bins"])}
        else:
            batch = self._text_and_pixels(inputs, spec, is_image)
        if "decoder_start" in spec:
            import torch

            rows = next(iter(batch.values())).shape[0]
            batch["decoder_input_ids"] = torch.full((rows, 1), spec["decoder_start"], dtype=torch.long)
        return {k: v.to(self.device) for k, v in batch.items()}

    def _text_and_pixels(self, inputs: Any, spec: dict[str, Any], is_image: bool) -> dict[str, Any]:
        """Vision, text and image-text models: the real image and/or text, a neutral stand-in for the other."""
        image_size = spec.get("size") or spec.get("pixels")
        wants_text = spec["kind"] == "input_ids" or "pixels" in spec
        if spec["kind"] == "pixel_values" and not is_image:
            raise InputError(f"{self.entry.name} takes an image.")
        if spec["kind"] == "input_ids" and "pixels" not in spec and is_image:
            raise InputError(f"{self.entry.name} takes text.")
        batch: dict[str, Any] = {}
        if image_size and (is_image or "pixels" in spec):
            batch["pixel_values"] = _pixels(inputs, image_size) if is_image else _pixels_blank(image_size)
        if wants_text:
            texts = ["a photo"] if is_image else [inputs] if isinstance(inputs, str) else list(inputs)
            if not texts:
                raise InputError(f"{self.entry.name} takes text.")
            batch["input_ids"], batch["attention_mask"] = _token_ids(texts, spec["vocab_size"])
        return batch

    def _audio(self, inputs: Any) -> np.ndarray:
        audio = np.asarray(inputs, dtype=np.float32) if isinstance(inputs, np.ndarray) else None
        if audio is None or audio.ndim != 1 or audio.size == 0:
            raise InputError(f"{self.entry.name} takes audio.")
        return audio

    def _waveform(self, inputs: Any) -> Any:
        import torch

        return torch.from_numpy(self._audio(inputs)).unsqueeze(0)

    def forward(self, batch: Any) -> Any:
        return self.model(batch) if not isinstance(batch, dict) else self.model(**batch)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        tensor = outputs if hasattr(outputs, "shape") else next(
            (v for v in getattr(outputs, "values", lambda: [])() if hasattr(v, "shape")), None)
        shape = list(tensor.shape) if tensor is not None else []
        return {"output_shape": shape, "note": RANDOM_NOTE}


def _pixels_blank(size: int) -> Any:
    import torch

    return torch.zeros((1, 3, size, size))


register_engine("architecture", load_architecture, {ANY_TASK: RandomWeightsRunner}, runtimes=TORCH_RUNTIMES)
