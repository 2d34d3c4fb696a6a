"""A loopback stand-in for the Hugging Face Hub: the part of its HTTP protocol that huggingface_hub 2.x and
transformers 5 use when a model loads by repo id with ``HF_ENDPOINT`` set (read from huggingface_hub's
``hf_api.model_info`` / ``list_repo_tree``, ``file_download.get_hf_file_metadata`` / ``http_get`` and
``utils._http.hf_raise_for_status``):

- ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}``: JSON ``id``, ``sha``, ``siblings``;
- ``GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=...``: ``[{type, path, size, oid, lfs?}]``;
- ``HEAD`` / ``GET /{repo}/resolve/{rev}/{file}``: ``X-Repo-Commit``, ``ETag`` (the LFS sha256 for weights,
  the git blob sha1 otherwise), ``Content-Length``; ``Range: bytes=N-`` answers 206 with ``Content-Range``;
- errors as ``X-Error-Code``: ``RepoNotFound`` (401 without a token, 404 with one), ``RevisionNotFound``,
  ``EntryNotFound`` (404), ``GatedRepo`` (401 without a token, 403 with one not granted access), and a refused
  token as 401 ``X-Error-Message: Invalid credentials in Authorization header``.

``rate`` throttles file bodies (bytes per second) so that a download lasts long enough to watch and cancel;
``sent`` counts the body bytes written per file, to measure what a resume sends again.

Serves folders of tiny checkpoints (``tests/hub_checkpoints.py``) on 127.0.0.1 only, on a free port.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from hub_checkpoints import REVISION

LFS_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt", ".model", ".onnx", ".msgpack", ".h5")
INVALID_TOKEN = "Invalid credentials in Authorization header"
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass(frozen=True)
class RepoFile:
    path: str
    source: Path
    size: int
    blob_sha1: str  # git blob id
    sha256: str

    @property
    def lfs(self) -> bool:
        return self.path.endswith(LFS_SUFFIXES)

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.blob_sha1

    def tree_entry(self) -> dict:
        entry = {"type": "file", "oid": self.blob_sha1, "size": self.size, "path": self.path}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": 134}
        return entry


def _repo_files(folder: Path) -> dict[str, RepoFile]:
    files = {}
    for source in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = source.read_bytes()
        rel = source.relative_to(folder).as_posix()
        files[rel] = RepoFile(rel, source, len(data), hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
                              hashlib.sha256(data).hexdigest())
    return files


@dataclass
class Cut:
    """Close the connection after ``after`` bytes of a GET of this file, ``times`` times."""
    after: int
    times: int = 1


@dataclass
class HubStandin:
    """``repos`` maps a repo id to the folder it serves. ``gated``: repo id -> the tokens granted access.
    ``tokens``: the tokens this hub accepts (any other Bearer token is refused)."""
    repos: dict[str, Path]
    gated: dict[str, set[str]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    commit: str = REVISION
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Range header)
    cuts: dict[tuple[str, str], Cut] = field(default_factory=dict)
    rate: float = 0.0  # bytes per second of a file body (0: as fast as the socket takes them)
    sent: Counter = field(default_factory=Counter, init=False)  # body bytes written, by "/repo/file"
    files: dict[str, dict[str, RepoFile]] = field(default_factory=dict, init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.files = {repo: _repo_files(folder) for repo, folder in self.repos.items()}

    # -------------------------------------------------------------- control
    def start(self) -> HubStandin:
        standin = self

        class Handler(_Handler):
            hub = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop answering and free the port (a later connect is refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self, repo: str, path: str, after: int, times: int = 1) -> None:
        self.cuts[(repo, path)] = Cut(after, times)

    def count(self, method: str, contains: str = "") -> int:
        with self._lock:
            return sum(1 for m, p, _ in self.requests if m == method and contains in p)

    def file_gets(self) -> Counter:
        """How many GETs each ``repo/file`` got (Range resumes included)."""
        with self._lock:
            return Counter(p.split("/resolve/")[0] + "/" + p.split("/", 5)[-1]
                           for m, p, _ in self.requests if m == "GET" and "/resolve/" in p)

    def __enter__(self) -> HubStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, method: str, path: str, range_header: str) -> None:
        with self._lock:
            self.requests.append((method, path, range_header))

    def _count_sent(self, key: str, n: int) -> None:
        with self._lock:
            self.sent[key] += n

    def _take_cut(self, repo: str, path: str) -> int | None:
        with self._lock:
            cut = self.cuts.get((repo, path))
            if cut is None or cut.times <= 0:
                return None
            cut.times -= 1
            return cut.after


class _Handler(BaseHTTPRequestHandler):
    hub: HubStandin
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch(head=True)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch(head=False)

    # -------------------------------------------------------------- routing
    def _dispatch(self, head: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        self.hub._record(self.command, path, self.headers.get("Range", ""))
        segments = path.strip("/").split("/")
        if segments[:2] == ["api", "models"] and len(segments) >= 4:
            self._api(segments[2] + "/" + segments[3], segments[4:], parse_qs(parts.query))
        elif len(segments) >= 5 and segments[2] == "resolve":
            self._resolve(segments[0] + "/" + segments[1], segments[3], "/".join(segments[4:]), head)
        else:
            self._error(404, "", "Not found")  # telemetry and anything else

    def _refused(self, repo: str, content: bool) -> bool:
        """Answer an auth / missing-repo / gated error when one applies; True when answered."""
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token and token not in self.hub.tokens:
            self._error(401, "", INVALID_TOKEN)
        elif repo not in self.hub.files:
            self._error(404 if token else 401, "RepoNotFound", "Repository not found")
        elif content and repo in self.hub.gated and token not in self.hub.gated[repo]:
            self._error(403 if token else 401, "GatedRepo", f"Access to model {repo} is restricted. You must have "
                                                            "access to it and be authenticated to access it.")
        else:
            return False
        return True

    def _revision_ok(self, rev: str) -> bool:
        if rev in ("main", self.hub.commit):
            return True
        self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return False

    def _api(self, repo: str, rest: list[str], query: dict[str, list[str]]) -> None:
        if self._refused(repo, content=False):
            return
        files = self.hub.files[repo]
        if not rest or rest[0] == "revision":
            if rest and not self._revision_ok(unquote(rest[1]) if len(rest) > 1 else ""):
                return
            gated = "manual" if repo in self.hub.gated else False
            self._json({"id": repo, "modelId": repo, "sha": self.hub.commit, "private": False, "gated": gated,
                        "disabled": False, "downloads": 0, "likes": 0, "tags": [],
                        "siblings": [{"rfilename": name} for name in files]})
        elif rest[0] == "tree" and len(rest) >= 2:
            if self._revision_ok(rest[1]):
                self._tree(files, "/".join(rest[2:]), query.get("recursive", ["false"])[0].lower() == "true")
        else:
            self._error(404, "", "Not found")

    def _tree(self, files: dict[str, RepoFile], folder: str, recursive: bool) -> None:
        prefix = f"{folder}/" if folder else ""
        inside = [f for name, f in files.items() if name.startswith(prefix)]
        if folder and not inside:
            self._error(404, "EntryNotFound", f"{folder} does not exist on \"main\"")
            return
        entries, folders = [], set()
        for f in inside:
            rest = f.path[len(prefix):]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/")[0])
                continue
            entries.append(f.tree_entry())
            if recursive:
                parents = f.path.split("/")[:-1]
                folders.update("/".join(parents[: i + 1]) for i in range(len(parents)))
        folders = {d for d in folders if d.startswith(prefix)}
        entries += [{"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
                    for d in sorted(folders)]
        self._json(entries)

    def _resolve(self, repo: str, rev: str, name: str, head: bool) -> None:
        if self._refused(repo, content=True) or not self._revision_ok(rev):
            return
        found = self.hub.files[repo].get(name)
        if found is None:
            self._error(404, "EntryNotFound", f"{name} does not exist on \"{rev}\"")
            return
        start = 0
        match = _RANGE.fullmatch(self.headers.get("Range", "").strip())
        if match:
            start = int(match.group(1))
        self.send_response(206 if match else 200)
        self.send_header("X-Repo-Commit", self.hub.commit)
        self.send_header("ETag", f'"{found.etag}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(found.size - start))
        if match:
            self.send_header("Content-Range", f"bytes {start}-{found.size - 1}/{found.size}")
        self.end_headers()
        if not head:
            self._send_body(repo, found, start)

    def _send_body(self, repo: str, found: RepoFile, start: int) -> None:
        """The file from ``start``: cut short when a cut is due, throttled to ``hub.rate``, counted in
        ``hub.sent``; a client that hangs up (a cancelled download) ends it."""
        data = found.source.read_bytes()[start:]
        cut = self.hub._take_cut(repo, found.path)
        if cut is not None:
            data = data[: max(0, cut - start)]
            self.close_connection = True
        step = 16_384 if self.hub.rate else max(len(data), 1)
        for offset in range(0, len(data), step):
            chunk = data[offset: offset + step]
            try:
                self.wfile.write(chunk)
                self.wfile.flush()
            except OSError:  # the client went away
                self.close_connection = True
                return
            self.hub._count_sent(f"/{repo}/{found.path}", len(chunk))
            if self.hub.rate:
                time.sleep(len(chunk) / self.hub.rate)

    # -------------------------------------------------------------- answers
    def _json(self, data: object) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
