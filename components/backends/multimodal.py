"""Image-text engines: ConSE (offline, from two packaged models), CLIP and BLIP (transformers)."""
from __future__ import annotations

from typing import Any

from components.catalog import CatalogEntry, get_entry
from components.measure import module_size_mb
from components.model_manager import LoadedModel

CONSE_CLASSIFIER_ID = "efficientnet_lite0"
CONSE_ENCODER_ID = "all_minilm_l6_v2"
LABEL_PROMPT = "a photo of a {}"  # ConSE class names and CLIP-style labels alike


def conse_parts() -> tuple[Any, Any]:
    """ConSE's two models as runners, from the shared manager: loaded once, counted once in its budget."""
    from components.runners.registry import create_runner

    return (create_runner(get_entry(CONSE_CLASSIFIER_ID), "image-classification", "real"),
            create_runner(get_entry(CONSE_ENCODER_ID), "sentence-similarity", "real"))


def load_conse(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    """ConSE (Norouzi et al., 2014): EfficientNet-Lite0 probabilities x MiniLM class-name embeddings.

    ConSE owns only the 1000 class-name embeddings (computed once here); its two models stay in the
    manager under their own names, so evicting one never leaves a hidden second copy.
    """
    from components.backends.text import embed, tokenize

    classifier, encoder = conse_parts()
    names = [LABEL_PROMPT.format(label.split(",")[0]) for label in classifier.loaded.extras["labels"]]
    class_embeddings = embed(encoder.loaded, tokenize(encoder.loaded, names))
    return LoadedModel(class_embeddings, class_embeddings.numel() * 4 / 2**20, device, "real")


def load_zero_shot_image(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """CLIP, ALIGN, SigLIP…: the class transformers registers for the checkpoint's own model type."""
    from transformers import AutoModelForZeroShotImageClassification, AutoProcessor

    where = weights_path or entry.source.name
    model = AutoModelForZeroShotImageClassification.from_pretrained(where).eval().to(device)
    return LoadedModel(model, module_size_mb(model), device, "real",
                       extras={"processor": AutoProcessor.from_pretrained(where)})


def load_captioner(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    """BLIP, BLIP-2…: the image-text-to-text class registered for the checkpoint's model type."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    where = weights_path or entry.source.name
    model = AutoModelForImageTextToText.from_pretrained(where).eval().to(device)
    return LoadedModel(model, module_size_mb(model), device, "real",
                       extras={"processor": AutoProcessor.from_pretrained(where)})


def image_text_scores(loaded: LoadedModel, image: Any, labels: list[str]) -> list[float]:
    import torch

    inputs = loaded.extras["processor"](text=[LABEL_PROMPT.format(l) for l in labels], images=image,
                                        return_tensors="pt", padding=True).to(loaded.device)
    with torch.inference_mode():
        logits = loaded.model(**inputs).logits_per_image[0]
    return logits.softmax(-1).cpu().tolist()


def caption(loaded: LoadedModel, image: Any) -> str:
    import torch

    inputs = loaded.extras["processor"](images=image, return_tensors="pt").to(loaded.device)
    with torch.inference_mode():
        ids = loaded.model.generate(**inputs, max_new_tokens=30)
    return loaded.extras["processor"].decode(ids[0], skip_special_tokens=True)
