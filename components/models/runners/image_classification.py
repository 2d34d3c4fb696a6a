"""Image classification: top-k classes with probabilities."""
from __future__ import annotations

from typing import Any

from components.core import IMAGE_CLASSIFICATION
from components.models.extras import ImageTransformExtras, ProcessorExtras
from components.models.loaders import vision
from components.models.registry import TORCH_RUNTIMES, register_engine
from components.models.runners.base import Runner

TOP_K = 5


class ImageClassificationRunner(Runner):
    """torch classifiers whose loader provides a torchvision-style ``transform`` and ``labels``."""

    task = IMAGE_CLASSIFICATION

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        import torch

        images = inputs if isinstance(inputs, list) else [inputs]
        transform = self.extras(ImageTransformExtras).transform
        return torch.stack([transform(img.convert("RGB")) for img in images]).to(self.device)

    def forward(self, batch: Any) -> Any:
        logits = self.model(batch)
        return getattr(logits, "logits", logits)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        probs = outputs.float().softmax(-1).cpu()
        labels = self.loaded.extras.labels
        k = min(int(options.get("top_k", TOP_K)), probs.shape[-1])
        ranked = []
        for row in probs:
            values, indices = row.topk(k)
            ranked.append([{"label": labels[i], "index": int(i), "score": float(v)}
                           for v, i in zip(values.tolist(), indices.tolist())])
        return ranked if isinstance(inputs, list) else ranked[0]


class ProcessorImageClassificationRunner(ImageClassificationRunner):
    """transformers classifiers: preprocessing by their own image processor."""

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        images = inputs if isinstance(inputs, list) else [inputs]
        processed = self.extras(ProcessorExtras).processor(images=[i.convert("RGB") for i in images],
                                                    return_tensors="pt")
        return processed["pixel_values"].to(self.device)


register_engine("efficientnet_lite", vision.load_efficientnet_lite, {IMAGE_CLASSIFICATION: ImageClassificationRunner},
                runtimes=TORCH_RUNTIMES)
register_engine("timm", vision.load_timm, {IMAGE_CLASSIFICATION: ImageClassificationRunner}, runtimes=TORCH_RUNTIMES)
register_engine("torchvision", vision.load_torchvision, {IMAGE_CLASSIFICATION: ImageClassificationRunner},
                runtimes=TORCH_RUNTIMES)
register_engine("transformers-image-classifier", vision.load_transformers_vision,
                {IMAGE_CLASSIFICATION: ProcessorImageClassificationRunner}, runtimes=TORCH_RUNTIMES)
