"""Image-text engines: ConSE (offline, from two packaged models), CLIP and BLIP (transformers)."""
from __future__ import annotations

from typing import Any

from components.catalog import CatalogEntry, get_entry
from components.measure import module_size_mb
from components.model_manager import LoadedModel

CONSE_CLASSIFIER_ID = "efficientnet_lite0"
CONSE_ENCODER_ID = "all_minilm_l6_v2"
CONSE_PROMPT = "a photo of a {}"


def load_conse(entry: CatalogEntry, device: str, weights_path: str = "") -> LoadedModel:
    """ConSE (Norouzi et al., 2014): EfficientNet-Lite0 probabilities x MiniLM class-name embeddings.

    Both parts come from the shared model manager (loaded once); the 1000 class-name embeddings are
    computed once here.
    """
    from components.backends.text import embed, tokenize
    from components.runners.registry import create_runner

    classifier = create_runner(get_entry(CONSE_CLASSIFIER_ID), "image-classification", "real")
    encoder = create_runner(get_entry(CONSE_ENCODER_ID), "sentence-similarity", "real")
    names = [CONSE_PROMPT.format(label.split(",")[0]) for label in classifier.loaded.extras["labels"]]
    class_embeddings = embed(encoder.loaded, tokenize(encoder.loaded, names))
    return LoadedModel((classifier, encoder), class_embeddings.numel() * 4 / 2**20, device, "real",
                       extras={"class_embeddings": class_embeddings})


def load_clip(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    from transformers import CLIPModel, CLIPProcessor

    where = weights_path or entry.source.name
    model = CLIPModel.from_pretrained(where).eval().to(device)
    return LoadedModel(model, module_size_mb(model), device, "real",
                       extras={"processor": CLIPProcessor.from_pretrained(where)})


def load_blip_captioner(entry: CatalogEntry, device: str, weights_path: str) -> LoadedModel:
    from transformers import BlipForConditionalGeneration, BlipProcessor

    where = weights_path or entry.source.name
    model = BlipForConditionalGeneration.from_pretrained(where).eval().to(device)
    return LoadedModel(model, module_size_mb(model), device, "real",
                       extras={"processor": BlipProcessor.from_pretrained(where)})


def clip_scores(loaded: LoadedModel, image: Any, labels: list[str]) -> list[float]:
    import torch

    inputs = loaded.extras["processor"](text=[CONSE_PROMPT.format(l) for l in labels], images=image,
                                        return_tensors="pt", padding=True).to(loaded.device)
    with torch.inference_mode():
        logits = loaded.model(**inputs).logits_per_image[0]
    return logits.softmax(-1).cpu().tolist()


def blip_caption(loaded: LoadedModel, image: Any) -> str:
    import torch

    inputs = loaded.extras["processor"](images=image, return_tensors="pt").to(loaded.device)
    with torch.inference_mode():
        ids = loaded.model.generate(**inputs, max_new_tokens=30)
    return loaded.extras["processor"].decode(ids[0], skip_special_tokens=True)
