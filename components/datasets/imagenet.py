"""ImageNet-1k class names: the indices a class-folder name stands for."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from components.datasets.limits import DatasetError


def _norm_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).replace("_", " ").lower().split())


@lru_cache(maxsize=1)
def _imagenet_lookup() -> dict[str, frozenset[int]]:
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    lookup: dict[str, set[int]] = {}
    for index in range(info.num_classes()):
        description = info.index_to_description(index)
        keys = {str(index), info.index_to_label_name(index), description,
                *(part for part in description.split(","))}
        for key in keys:
            lookup.setdefault(_norm_name(key), set()).add(index)
    return {k: frozenset(v) for k, v in lookup.items() if k}


def imagenet_indices(folder: str) -> frozenset[int]:
    """ImageNet-1k indices a class-folder name stands for: index, synset id, description or synonym.

    An ambiguous synonym (e.g. "crane": bird or machine) accepts every class it names.
    """
    found = _imagenet_lookup().get(_norm_name(folder))
    if found is None:
        raise DatasetError(f"unknown ImageNet class folder '{folder}': name it by a class description "
                           f"(e.g. 'tabby cat'), a synset id (n02123045) or an index 0-999")
    return found
