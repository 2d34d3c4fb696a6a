"""Image-text engines: ConSE (offline, from two packaged models), CLIP and BLIP (transformers)."""
from __future__ import annotations

from typing import Any

from components.core import CatalogEntry
from components.models.extras import ProcessorExtras
from components.models.loaders.hub_files import check_hub_folder
from components.models.manager import LoadedModel
from components.models.measure import module_size_mb

CONSE_CLASSIFIER_ID = "efficientnet_lite0"
CONSE_ENCODER_ID = "all_minilm_l6_v2"
LABEL_PROMPT = "a photo of a {}"  # ConSE class names and CLIP-style labels alike


def load_conse(entry: CatalogEntry, device: str, weights_path: str, parts: tuple[Any, Any]) -> LoadedModel:
    """ConSE (Norouzi et al., 2014): EfficientNet-Lite0 probabilities x MiniLM class-name embeddings.

    ``parts`` are the classifier and encoder runners, handed in by the factory from the same model
    manager. ConSE owns only the 1000 class-name embeddings (computed once here); its two models stay
    in the manager under their own names, so evicting one never leaves a hidden second copy.
    """
    import torch

    from components.models.loaders.text import embed, tokenize

    classifier, encoder = parts
    names = [LABEL_PROMPT.format(label.split(",")[0]) for label in classifier.loaded.extras.labels]
    with torch.inference_mode():
        class_embeddings = embed(encoder.loaded, tokenize(encoder.loaded, names))
    return LoadedModel(class_embeddings, class_embeddings.numel() * 4 / 2**20, device, "real")


def load_zero_shot_image(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """CLIP, ALIGN, SigLIP…: the class transformers registers for the checkpoint's own model type."""
    from transformers import AutoModelForZeroShotImageClassification, AutoProcessor

    where = weights_path or entry.source.name
    check_hub_folder(where, tokenizer=True, preprocessor=True)
    model = AutoModelForZeroShotImageClassification.from_pretrained(where).eval().to(device)
    return LoadedModel(model, module_size_mb(model), device, "real",
                       extras=ProcessorExtras(AutoProcessor.from_pretrained(where)))


def load_captioner(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """BLIP, BLIP-2…: the image-text-to-text class registered for the checkpoint's model type."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    where = weights_path or entry.source.name
    check_hub_folder(where, tokenizer=True, preprocessor=True)
    model = AutoModelForImageTextToText.from_pretrained(where).eval().to(device)
    return LoadedModel(model, module_size_mb(model), device, "real",
                       extras=ProcessorExtras(AutoProcessor.from_pretrained(where)))


def image_text_scores(loaded: LoadedModel, images: list[Any], labels: list[str]) -> list[list[float]]:
    """Each image's softmax over the label prompts, in one forward pass."""
    processor = loaded.extras.processor
    inputs = processor(text=[LABEL_PROMPT.format(l) for l in labels], images=images,
                       return_tensors="pt", padding=True).to(loaded.device)
    return loaded.model(**inputs).logits_per_image.softmax(-1).cpu().tolist()


def caption(loaded: LoadedModel, images: list[Any]) -> list[str]:
    """One caption per image, generated as one batch."""
    processor = loaded.extras.processor
    inputs = processor(images=images, return_tensors="pt").to(loaded.device)
    ids = loaded.model.generate(**inputs, max_new_tokens=30)
    return processor.batch_decode(ids, skip_special_tokens=True)
