"""Image-text runners: zero-shot image classification (ConSE, CLIP) and captioning (BLIP)."""
from __future__ import annotations

from typing import Any

from components.backends import multimodal
from components.backends.multimodal import (
    CONSE_CLASSIFIER_ID,
    CONSE_ENCODER_ID,
    LABEL_PROMPT,
    caption,
    image_text_scores,
)
from components.backends.text import embed, tokenize
from components.runners.base import Runner, label_list
from components.runners.registry import Part, register_engine

CONSE_TOP_T = 10


def _labels(options: dict[str, Any]) -> list[str]:
    return label_list(options, "Zero-shot image classification")


def _ranked(labels: list[str], scores: list[float]) -> list[dict[str, Any]]:
    return sorted(({"label": l, "score": s} for l, s in zip(labels, scores)), key=lambda r: -r["score"])


class ConSERunner(Runner):
    """Embeds the image as the probability-weighted mean of its top-T class-name embeddings.

    Its parts (the classifier and the sentence encoder runners) are handed in by the factory.
    """

    task = "zero-shot-image-classification"

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        classifier, encoder = self.parts
        labels = _labels(options)
        return classifier.preprocess(inputs), tokenize(encoder.loaded, [LABEL_PROMPT.format(l) for l in labels])

    def forward(self, batch: Any) -> Any:
        classifier, encoder = self.parts
        pixels, label_tokens = batch
        probs = classifier.forward(pixels).float().softmax(-1)[0]
        top = probs.topk(CONSE_TOP_T)
        weights = top.values / top.values.sum()
        image_vec = (weights[:, None] * self.model[top.indices]).sum(0)
        image_vec = image_vec / image_vec.norm()
        return (embed(encoder.loaded, label_tokens) @ image_vec).cpu(), top, classifier.loaded.extras.labels

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        sims, top, classes = outputs
        labels = _labels(options)
        shares = (sims / 0.05).softmax(-1).tolist()
        return {"labels": _ranked(labels, shares),
                "evidence": [{"label": classes[i], "score": float(v)}
                             for v, i in zip(top.values.tolist(), top.indices.tolist())]}


class ImageTextRunner(Runner):
    """CLIP-style models: image and label prompts embedded jointly, softmax over the labels."""

    task = "zero-shot-image-classification"

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return inputs.convert("RGB"), _labels(options)

    def forward(self, batch: Any) -> Any:
        image, labels = batch
        return image_text_scores(self.loaded, image, labels)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        return {"labels": _ranked(_labels(options), outputs)}


class CaptionRunner(Runner):
    task = "image-captioning"

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return inputs.convert("RGB")

    def forward(self, batch: Any) -> Any:
        return caption(self.loaded, batch)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        return {"text": outputs}


register_engine("conse", multimodal.load_conse, {"zero-shot-image-classification": ConSERunner},
                parts=(Part(CONSE_CLASSIFIER_ID, "image-classification"), Part(CONSE_ENCODER_ID, "sentence-similarity")))
register_engine("transformers-zero-shot-image", multimodal.load_zero_shot_image,
                {"zero-shot-image-classification": ImageTextRunner})
register_engine("transformers-captioner", multimodal.load_captioner, {"image-captioning": CaptionRunner})
