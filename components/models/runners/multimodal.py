"""Image-text runners: zero-shot image classification (ConSE, CLIP) and captioning (BLIP)."""
from __future__ import annotations

from typing import Any

from components.core import IMAGE_CAPTIONING, IMAGE_CLASSIFICATION, SENTENCE_SIMILARITY, ZERO_SHOT_IMAGE_CLASSIFICATION
from components.models.loaders import multimodal
from components.models.loaders.multimodal import (
    CONSE_CLASSIFIER_ID,
    CONSE_ENCODER_ID,
    LABEL_PROMPT,
    caption,
    image_text_scores,
)
from components.models.loaders.text import embed, tokenize
from components.models.registry import Part, register_engine
from components.models.runners.base import Runner, label_list

CONSE_TOP_T = 10


def _labels(options: dict[str, Any]) -> list[str]:
    return label_list(options, "Zero-shot image classification")


def _ranked(labels: list[str], scores: list[float]) -> list[dict[str, Any]]:
    return sorted(({"label": l, "score": s} for l, s in zip(labels, scores)), key=lambda r: -r["score"])


def _images(inputs: Any) -> list[Any]:
    """One image or a list of them (the benchmark's batches), as RGB images."""
    return [image.convert("RGB") for image in (inputs if isinstance(inputs, list) else [inputs])]


def _per_input(inputs: Any, results: list[Any]) -> Any:
    """A list of results for a list of inputs, else the one result."""
    return results if isinstance(inputs, list) else results[0]


class ConSERunner(Runner):
    """Embeds each image as the probability-weighted mean of its top-T class-name embeddings.

    Its parts (the classifier and the sentence encoder runners) are handed in by the factory.
    """

    task = ZERO_SHOT_IMAGE_CLASSIFICATION

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        classifier, encoder = self.parts
        labels = _labels(options)
        return classifier.preprocess(inputs), tokenize(encoder.loaded, [LABEL_PROMPT.format(l) for l in labels])

    def forward(self, batch: Any) -> Any:
        classifier, encoder = self.parts
        pixels, label_tokens = batch
        probs = classifier.forward(pixels).float().softmax(-1)
        top = probs.topk(CONSE_TOP_T, dim=-1)  # [images, T]
        weights = top.values / top.values.sum(-1, keepdim=True)
        image_vecs = (weights[..., None] * self.model[top.indices]).sum(1)
        image_vecs = image_vecs / image_vecs.norm(dim=-1, keepdim=True)
        sims = image_vecs @ embed(encoder.loaded, label_tokens).T  # [images, labels]
        return sims.cpu(), top, classifier.loaded.extras.labels

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        sims, top, classes = outputs
        labels = _labels(options)
        results = [{"labels": _ranked(labels, shares),
                    "evidence": [{"label": classes[i], "score": float(v)} for v, i in zip(values, indices)]}
                   for shares, values, indices in zip((sims / 0.05).softmax(-1).tolist(), top.values.tolist(),
                                                      top.indices.tolist())]
        return _per_input(inputs, results)


class ImageTextRunner(Runner):
    """CLIP-style models: images and label prompts embedded jointly, softmax over the labels per image."""

    task = ZERO_SHOT_IMAGE_CLASSIFICATION

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return _images(inputs), _labels(options)

    def forward(self, batch: Any) -> Any:
        images, labels = batch
        return image_text_scores(self.loaded, images, labels)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        labels = _labels(options)
        return _per_input(inputs, [{"labels": _ranked(labels, shares)} for shares in outputs])


class CaptionRunner(Runner):
    task = IMAGE_CAPTIONING

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return _images(inputs)

    def forward(self, batch: Any) -> Any:
        return caption(self.loaded, batch)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        return _per_input(inputs, [{"text": text} for text in outputs])


register_engine("conse", multimodal.load_conse, {ZERO_SHOT_IMAGE_CLASSIFICATION: ConSERunner},
                parts=(Part(CONSE_CLASSIFIER_ID, IMAGE_CLASSIFICATION), Part(CONSE_ENCODER_ID, SENTENCE_SIMILARITY)))
register_engine("transformers-zero-shot-image", multimodal.load_zero_shot_image,
                {ZERO_SHOT_IMAGE_CLASSIFICATION: ImageTextRunner})
register_engine("transformers-captioner", multimodal.load_captioner, {IMAGE_CAPTIONING: CaptionRunner})
