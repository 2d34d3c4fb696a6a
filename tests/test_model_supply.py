"""The online path, against a Hub stand-in on 127.0.0.1 (tests/hub_standin.py): reachability that follows
HF_ENDPOINT / HTTPS_PROXY / NO_PROXY, ``python -m components.models`` (pull / list / rm / verify), a cut
connection that resumes within the download (and what a download that gives up costs the next one), gated /
missing repos and refused tokens as one line, one download for 8 threads, Compare on Ray fetching through the
page's step (or its worker refusing), and a pulled model that runs through the factory once the stand-in is gone.
No real host is ever contacted: every download runs in a subprocess whose HF_ENDPOINT is the stand-in
(huggingface_hub reads it at import).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hub_checkpoints import CHECKPOINTS, build_all
from hub_standin import HubStandin

from components.core import settings as runtime
from components.models.supply import SupplyError, check_disk, hub_failure

ROOT = Path(__file__).resolve().parents[1]
CLIP, SST2 = "clip_vit_b_32", "distilbert_sst2"
CLIP_REPO, SST2_REPO = CHECKPOINTS[CLIP].repo, CHECKPOINTS[SST2].repo
TIMEOUT = 240


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return build_all(tmp_path_factory.mktemp("supply"), [CLIP, SST2])


@pytest.fixture
def hub(layout):
    with HubStandin({CLIP_REPO: layout.folder(CLIP), SST2_REPO: layout.folder(SST2)}, tokens={"good", "other"}) as s:
        yield s


def _env(hub_url: str, cache: Path, **extra: str) -> dict[str, str]:
    """A clean environment: the stand-in as the endpoint, a fresh cache, no saved token, no proxy."""
    drop = ("HF_", "HUGGINGFACE", "TRANSFORMERS_OFFLINE", "MODEL_EXPLORER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and "proxy" not in k.lower()}
    env.update(HF_ENDPOINT=hub_url, HF_HUB_CACHE=str(cache), HF_HOME=str(cache.parent / "hf_home"),
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1", PYTHONPATH=str(ROOT), **extra)
    return env


def _cli(env: dict[str, str], *args: str, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"{prelude}\nimport sys\nfrom components.models.supply import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


def _one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed once the socket is: a connect is refused


# ---------------------------------------------------------------- reachability

@pytest.fixture
def probe_env(monkeypatch):
    """Run the probe afresh and restore the HF offline switches it sets."""
    for name in (runtime.OFFLINE_ENV, "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in runtime.HF_OFFLINE_SWITCHES:
        monkeypatch.setenv(name, "0")
    if "huggingface_hub" in sys.modules:
        from huggingface_hub import constants

        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", constants.HF_HUB_OFFLINE)
    runtime.network_available.cache_clear()
    yield monkeypatch
    runtime.network_available.cache_clear()


def test_endpoint_at_the_standin_is_online_and_named(probe_env, hub):
    probe_env.setenv("HF_ENDPOINT", hub.url + "/")
    assert runtime.hub_endpoint() == hub.url
    assert runtime.network_available() is True
    assert f"`{hub.url}`" in runtime.endpoint_line(True) and "reachable" in runtime.endpoint_line(True)


def test_endpoint_at_a_closed_port_is_offline_within_the_bound(probe_env):
    probe_env.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    started = time.perf_counter()
    assert runtime.network_available() is False
    assert time.perf_counter() - started < runtime.NETWORK_TIMEOUT_S + 1.0
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_a_proxy_is_probed_unless_no_proxy_names_the_host(probe_env, hub):
    probe_env.setenv("HF_ENDPOINT", "https://hub.invalid")  # never connected to: the proxy answers for it
    probe_env.setenv("HTTPS_PROXY", f"http://127.0.0.1:{hub.port}")
    assert runtime.probe_target() == ("127.0.0.1", hub.port, True)
    assert runtime.network_available() is True
    assert f"proxy 127.0.0.1:{hub.port}" in runtime.endpoint_line(True)
    probe_env.setenv("NO_PROXY", "localhost,hub.invalid")
    assert runtime.probe_target() == ("hub.invalid", 443, False)


# ---------------------------------------------------------------- pull / list / verify / rm, then offline

def test_pull_list_verify_then_runs_with_the_standin_gone(hub, tmp_path):
    cache = tmp_path / "cache"
    env = _env(hub.url, cache)
    done = _cli(env, "pull", CLIP, "--json", str(tmp_path / "pull.json"))
    assert done.returncode == 0, done.stderr
    pulled = json.loads((tmp_path / "pull.json").read_text())[0]
    assert pulled["repo"] == CLIP_REPO and pulled["downloaded_bytes"] == pulled["bytes"] > 0
    assert _cli(env, "list", "--json", str(tmp_path / "list.json")).returncode == 0
    listed = json.loads((tmp_path / "list.json").read_text())
    assert [r["repo"] for r in listed] == [CLIP_REPO] and listed[0]["ids"] == [CLIP] and listed[0]["bytes"] > 0
    checked = _cli(env, "verify", CLIP, "--json", str(tmp_path / "verify.json"))
    assert checked.returncode == 0, checked.stderr
    assert json.loads((tmp_path / "verify.json").read_text())["against"] == "endpoint"

    hub.stop()
    offline = _cli(env, "verify", CLIP, "--json", str(tmp_path / "verify2.json"))
    assert offline.returncode == 0, offline.stderr
    assert json.loads((tmp_path / "verify2.json").read_text())["against"] == "cache"
    run = ("from PIL import Image\nfrom skimage import data\nfrom components.core.catalog import get_entry\n"
           "from components.models.factory import create_runner\n"
           "from components.core.settings import network_available\n"
           "assert not network_available()\n"
           "r = create_runner(get_entry('clip_vit_b_32'), 'zero-shot-image-classification', weights='real')\n"
           "out = r.run(Image.fromarray(data.chelsea()), labels=['cat', 'dog']).output\n"
           "print(sorted(x['label'] for x in out['labels']))")
    ran = subprocess.run([sys.executable, "-c", run], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert ran.returncode == 0 and ran.stdout.strip().endswith("['cat', 'dog']"), ran.stderr[-2000:]


def test_rm_frees_exactly_that_repo(hub, tmp_path):
    cache = tmp_path / "cache"
    env = _env(hub.url, cache)
    assert _cli(env, "pull", f"{CLIP},{SST2}").returncode == 0
    clip_dir, sst2_dir = (cache / f"models--{r.replace('/', '--')}" for r in (CLIP_REPO, SST2_REPO))
    clip_bytes = sum(p.stat().st_size for p in clip_dir.rglob("*") if p.is_file() and not p.is_symlink())
    sst2_before = sorted((p.name, p.stat().st_size) for p in sst2_dir.rglob("*") if p.is_file())
    done = _cli(env, "rm", CLIP, "--json", str(tmp_path / "rm.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "rm.json").read_text())["freed_bytes"] == clip_bytes
    assert not clip_dir.exists()
    assert sorted((p.name, p.stat().st_size) for p in sst2_dir.rglob("*") if p.is_file()) == sst2_before
    assert _one_line_error(_cli(env, "rm", CLIP)).endswith(f"is not in the cache {cache}")


# ---------------------------------------------------------------- resume, concurrency

def test_a_connection_cut_mid_file_resumes_with_a_range_request(hub, layout, tmp_path):
    size = (layout.folder(CLIP) / "model.safetensors").stat().st_size
    hub.cut(CLIP_REPO, "model.safetensors", after=size // 2, times=2)
    env = _env(hub.url, tmp_path / "cache")
    small_chunks = "from huggingface_hub import constants\nconstants.DOWNLOAD_CHUNK_SIZE = 4096"
    done = _cli(env, "pull", CLIP, prelude=small_chunks)
    assert done.returncode == 0, done.stderr
    gets = [r for m, p, r in hub.requests if m == "GET" and p.endswith("/model.safetensors")]
    assert len(gets) == 3 and gets[0] == "" and all(r.startswith("bytes=") for r in gets[1:]), gets
    assert int(gets[1][6:].rstrip("-")) > 0  # resumed from what had arrived, not from zero
    assert size <= hub.sent[f"/{CLIP_REPO}/model.safetensors"] < size + 2 * 4096  # each cut re-sends < one read
    assert _cli(env, "verify", CLIP).returncode == 0


def test_a_download_that_gives_up_fetches_its_cut_file_again_from_the_start(hub, layout, tmp_path):
    """What the failure lines promise: huggingface_hub 2.4 retries a cut within the download (Range), then gives
    up and deletes the partial file; the complete files stay and the next pull fetches the cut file from byte 0."""
    weights, size = f"/{CLIP_REPO}/model.safetensors", (layout.folder(CLIP) / "model.safetensors").stat().st_size
    hub.cut(CLIP_REPO, "model.safetensors", after=size // 2, times=100)  # half, then nothing: the endpoint is gone
    cache = tmp_path / "cache"
    env = _env(hub.url, cache)
    small_chunks = "from huggingface_hub import constants\nconstants.DOWNLOAD_CHUNK_SIZE = 4096"  # a Range on retry
    line = _one_line_error(_cli(env, "pull", CLIP, prelude=small_chunks))
    assert "the files already complete are kept; a file cut short is fetched again from its start" in line, line
    assert not list(cache.rglob("*.incomplete"))
    first = hub.sent[weights]
    hub.cuts.clear()
    assert _cli(env, "pull", CLIP).returncode == 0
    gets = [r for m, p, r in hub.requests if m == "GET" and p.endswith("/model.safetensors")]
    assert gets[0] == "" and set(gets[1:-1]) == {gets[1]} and gets[1].startswith("bytes=") and gets[-1] == "", gets
    assert hub.sent[weights] - first == size  # the second pull sent the whole file again
    assert hub.file_gets()[f"/{CLIP_REPO}/config.json"] == 1  # a complete file was kept


@pytest.fixture
def five_mb_repo(tmp_path):
    """CLIP's repo id serving a config and 5 MB of random weights (downloaded, never loaded)."""
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(os.urandom(5_000_000))
    return folder


def test_a_cut_resumes_from_the_last_mebibyte_read(five_mb_repo, tmp_path):
    """With huggingface_hub's 10 MiB reads a cut at 2.5 MB lost every byte (the retry asked from byte 0): 2.5 MB sent
    again. With 1 MiB reads the retry asks from 2 MiB: less than 1 MiB is sent twice."""
    with HubStandin({CLIP_REPO: five_mb_repo}) as standin:
        standin.cut(CLIP_REPO, "model.safetensors", after=2_500_000)
        assert _cli(_env(standin.url, tmp_path / "cache"), "pull", CLIP).returncode == 0
    gets = [r for m, p, r in standin.requests if m == "GET" and p.endswith("/model.safetensors")]
    assert gets == ["", f"bytes={1 << 21}-"], gets
    assert standin.sent[f"/{CLIP_REPO}/model.safetensors"] - 5_000_000 < 1 << 20


def test_progress_and_cancel_move_every_mebibyte_not_every_ten(five_mb_repo, tmp_path):
    """huggingface_hub reads 10 MiB per step by default: the bar stood still (and Cancel waited) that long."""
    with HubStandin({CLIP_REPO: five_mb_repo}, rate=5_000_000.0) as standin:
        env = _env(standin.url, tmp_path / "cache", MODEL_EXPLORER_ALLOW_DOWNLOADS="1")
        ran = subprocess.run([sys.executable, "-c", PAGE_DOWNLOAD], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    done = {e[2] for e in json.loads(ran.stdout)[1:]}
    assert len({d for d in done if 0 < d < 5_000_000}) >= 2, sorted(done)


def test_eight_threads_pulling_one_repo_download_each_file_once(hub, tmp_path):
    env = _env(hub.url, tmp_path / "cache")
    code = ("from concurrent.futures import ThreadPoolExecutor\nfrom components.core.catalog import get_entry\n"
            "from components.models.supply import pull\ne = get_entry('clip_vit_b_32')\n"
            "with ThreadPoolExecutor(8) as pool:\n    done = list(pool.map(lambda _: pull(e), range(8)))\n"
            "print(sum(d['downloaded_bytes'] > 0 for d in done))")
    ran = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip() == "1"
    gets = hub.file_gets()
    assert gets and set(gets.values()) == {1}, gets


# ---------------------------------------------------------------- one-line reasons

def test_gated_repo_says_where_to_accept_and_to_set_hf_token(hub, tmp_path):
    hub.gated[CLIP_REPO] = {"good"}
    cache = tmp_path / "cache"
    line = _one_line_error(_cli(_env(hub.url, cache), "pull", CLIP))
    assert f"accept its licence at {hub.url}/{CLIP_REPO}" in line and "set HF_TOKEN" in line
    line = _one_line_error(_cli(_env(hub.url, cache, HF_TOKEN="other"), "pull", CLIP))
    assert "has no access yet" in line and f"{hub.url}/{CLIP_REPO}" in line
    line = _one_line_error(_cli(_env(hub.url, cache, HF_TOKEN="bogus"), "pull", CLIP))
    assert "refused the token" in line
    assert _cli(_env(hub.url, cache, HF_TOKEN="good"), "pull", CLIP).returncode == 0


def test_missing_repo_and_gated_repo_through_the_factory(hub, tmp_path):
    """A page Run of a repo this endpoint lacks, or one that is gated: one line, not transformers' text."""
    hub.gated[SST2_REPO] = set()
    del hub.files[CLIP_REPO]
    code = ("from components.core.catalog import get_entry\n"
            "from components.models.factory import CannotRun, create_runner\n"
            "for mid, task in (('clip_vit_b_32', 'zero-shot-image-classification'), "
            "('distilbert_sst2', 'sentiment-analysis')):\n"
            "    try:\n        create_runner(get_entry(mid), task, weights='real')\n"
            "    except CannotRun as exc:\n        print(exc)\n")
    ran = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(hub.url, tmp_path / "cache"),
                         capture_output=True, text=True, timeout=TIMEOUT)
    lines = ran.stdout.strip().splitlines()
    assert len(lines) == 2, ran.stdout + ran.stderr[-2000:]
    assert f"{CLIP_REPO} was not found on {hub.url}" in lines[0]
    assert f"accept its licence at {hub.url}/{SST2_REPO}" in lines[1] and "set HF_TOKEN" in lines[1]


def test_endpoint_gone_mid_download_is_one_line(hub, tmp_path):
    hub.cut(CLIP_REPO, "model.safetensors", after=0, times=100)  # every GET of the weights dies at once
    line = _one_line_error(_cli(_env(hub.url, tmp_path / "cache"), "pull", CLIP))
    assert f"{hub.url} is not answering" in line and "resumes where it stopped" not in line  # it starts over
    assert "a file cut short is fetched again from its start" in line


def test_short_disk_is_refused_with_the_figures(tmp_path):
    import shutil

    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(SupplyError, match=r"needs .* MB .* has .* MB free"):
        check_disk(free + 1, tmp_path / "cache")
    check_disk(1024, tmp_path / "cache")


def test_disk_full_during_a_download_is_one_line():
    import errno

    line = hub_failure(RuntimeError("load failed").with_traceback(None), "org/x")
    assert line is None
    full = OSError(errno.ENOSPC, "No space left on device")
    wrapped = RuntimeError("load failed")
    wrapped.__cause__ = full
    line = hub_failure(wrapped, "org/x")
    assert "is full" in line and "fetched again from its start" in line


# ---------------------------------------------------------------- page downloads

PAGE_DOWNLOAD = """
import json, time
from components.core.catalog import get_entry
from components.models.supply import SupplyError, page_download
events, started = [], time.perf_counter()
def show(plan, progress):
    events.append([round(time.perf_counter() - started, 3), plan.missing_bytes,
                   None if progress is None else progress.done, None if progress is None else progress.line()])
for _ in range(2):  # the second time it is cached: nothing shown
    try:
        page_download(get_entry('clip_vit_b_32'), show, every_s=0.01)
    except SupplyError as exc:
        events.append(str(exc))
        break
print(json.dumps(events))
"""


def test_a_page_download_is_refused_unless_the_server_allows_it(hub, tmp_path):
    ran = subprocess.run([sys.executable, "-c", PAGE_DOWNLOAD], cwd=ROOT, env=_env(hub.url, tmp_path / "cache"),
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    (refused,) = json.loads(ran.stdout)
    assert "page downloads are off" in refused and "python -m components.models pull clip_vit_b_32" in refused
    assert hub.count("GET", "/resolve/") == 0


def test_a_page_download_shows_its_size_first_then_progress(hub, layout, tmp_path):
    hub.cut(CLIP_REPO, "model.safetensors", after=100_000, times=1)  # ~1 s pause (the retry) to watch it move
    env = _env(hub.url, tmp_path / "cache", MODEL_EXPLORER_ALLOW_DOWNLOADS="1")
    small_chunks = "from huggingface_hub import constants\nconstants.DOWNLOAD_CHUNK_SIZE = 4096\n"
    ran = subprocess.run([sys.executable, "-c", small_chunks + PAGE_DOWNLOAD], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    events = json.loads(ran.stdout)
    total = sum(f.stat().st_size for f in layout.folder(CLIP).iterdir())
    assert events[0][1:] == [total, None, None]  # the size, before any byte
    done = [e[2] for e in events[1:]]
    assert done == sorted(done) and done[-1] == total and any(0 < d < total for d in done), done
    assert all(" MB/s, " in e[3] for e in events[1:])


MULTIMODAL_RUN = """
import json
from streamlit.testing.v1 import AppTest
at = AppTest.from_file('app.py', default_timeout=200)
at.run()
home = [c.value for c in at.caption]
at.switch_page('app_pages/catalog.py')
at.run()
catalog = [c.value for c in at.caption]
at.switch_page('app_pages/multimodal.py')
at.run()
at.button(key='multimodal_input_sample_chelsea.jpg').click()
at.run()
at.segmented_control(key='keep_mm_tool').set_value('Zero-shot labels')
at.run()
at.multiselect(key='keep_mm_models').set_value(['clip_vit_b_32'])
at.run()
at.button(key='mm_run').click()
at.run()
print(json.dumps({'exceptions': [e.value for e in at.exception], 'errors': [e.value for e in at.error],
                  'captions': [c.value for c in at.caption], 'charts': len(at.get('plotly_chart')),
                  'home': home, 'catalog': catalog}))
"""


@pytest.mark.parametrize("allowed", [True, False])
def test_multimodal_page_downloads_clip_from_the_endpoint_and_answers(hub, tmp_path, allowed):
    env = _env(hub.url, tmp_path / "cache", **({"MODEL_EXPLORER_ALLOW_DOWNLOADS": "1"} if allowed else {}))
    ran = subprocess.run([sys.executable, "-c", MULTIMODAL_RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    page = json.loads(ran.stdout.strip().splitlines()[-1])
    assert not page["exceptions"], page
    named = f"Hub endpoint: `{hub.url}` (reachable)"
    assert any(named in c for c in page["home"]) and any(named in c for c in page["catalog"]), page
    if allowed:
        assert not page["errors"] and page["charts"] == 1, page
        assert any("real weights" in c for c in page["captions"]), page
        assert hub.count("GET", "model.safetensors") == 1
    else:
        assert any("page downloads are off" in e for e in page["errors"]), page
        assert hub.count("GET", "/resolve/") == 0


def test_lessons_and_small_models_name_what_to_pull(tmp_path):
    from components.models.supply import models_to_pull

    env = _env(f"http://127.0.0.1:{_closed_port()}", tmp_path / "cache")
    done = _cli(env, "pull", "--lesson", "cnn-sees-a-photo", "--json", str(tmp_path / "lesson.json"))
    assert done.returncode == 0 and "needs no download" in done.stdout, done.stderr
    assert json.loads((tmp_path / "lesson.json").read_text()) == []
    assert "no lesson 'nope'" in _one_line_error(_cli(env, "pull", "--lesson", "nope"))
    assert "offline pack" in _one_line_error(_cli(env, "pull", "efficientnet_lite0"))
    small = {e.id for e in models_to_pull(None, None, True)}
    assert {CLIP, SST2, "whisper_tiny"} <= small and not {"llama2_7b", "bloom_176b"} & small


# ---------------------------------------------------------------- every page's loads: one step, Cancel, waiters

STEP_RUN = """
import json, time
from components.core.catalog import get_entry
from components.models.factory import CannotRun, create_runner
from components.models.supply import download_step, page_download
events, started = [], time.perf_counter()
def show(plan, progress):
    events.append([plan.missing_bytes, None if progress is None else progress.done])
def step(entry, extra_dir):
    page_download(entry, show, extra_dir, every_s=0.01)
try:
    with download_step(step):  # what app.py installs around every page (Compare, Adapt, Explain load this way)
        create_runner(get_entry('clip_vit_b_32'), 'zero-shot-image-classification', weights='real')
    events.append('loaded')
except CannotRun as exc:
    events.append(str(exc))
print(json.dumps(events))
"""


@pytest.mark.parametrize("allowed", [True, False])
def test_a_factory_load_downloads_through_the_installed_step(hub, layout, tmp_path, allowed):
    """create_runner (what Compare, Adapt and Explain load through) shows size then progress, or is refused."""
    env = _env(hub.url, tmp_path / "cache", **({"MODEL_EXPLORER_ALLOW_DOWNLOADS": "1"} if allowed else {}))
    ran = subprocess.run([sys.executable, "-c", STEP_RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    events = json.loads(ran.stdout.strip().splitlines()[-1])
    if allowed:
        total = sum(f.stat().st_size for f in layout.folder(CLIP).iterdir())
        assert events[0] == [total, None] and events[-2] == [total, total] and events[-1] == "loaded", events
        assert hub.count("GET", "model.safetensors") == 1
    else:
        assert len(events) == 1 and "page downloads are off" in events[0], events
        assert hub.count("GET", "/resolve/") == 0


CANCEL = """
import json
from components.core.catalog import get_entry
from components.models.supply import SupplyError, cancel_download, needs_download, page_download, pull
entry, events = get_entry('clip_vit_b_32'), []
def show(plan, progress):
    if progress is not None and progress.done > AFTER:  # the small files are done, the weights on their way
        events.append(cancel_download(plan.repo))  # what the Cancel button's callback does
try:
    page_download(entry, show, every_s=0.01)
except SupplyError as exc:
    events.append(str(exc))
events.append(needs_download(entry))
events.append(pull(entry)['downloaded_bytes'])
events.append(needs_download(entry))
print(json.dumps(events))
"""


def test_cancel_stops_a_page_download_and_nothing_half_fetched_is_loaded(hub, layout, tmp_path):
    hub.cut(CLIP_REPO, "model.safetensors", after=100_000, times=1)  # a pause mid-file, while Cancel is pressed
    cache = tmp_path / "cache"
    env = _env(hub.url, cache, MODEL_EXPLORER_ALLOW_DOWNLOADS="1")
    small_chunks = "from huggingface_hub import constants\nconstants.DOWNLOAD_CHUNK_SIZE = 4096\n"
    weights = (layout.folder(CLIP) / "model.safetensors").stat().st_size
    total = sum(f.stat().st_size for f in layout.folder(CLIP).iterdir())
    after = f"AFTER = {total - weights + 90_000}\n"  # the weights pause at ~98 kB (the cut): small files done
    ran = subprocess.run([sys.executable, "-c", small_chunks + after + CANCEL], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    events = json.loads(ran.stdout.strip().splitlines()[-1])
    cancelled = [e for e in events if isinstance(e, str)]
    assert events[0] is True and len(cancelled) == 1 and "was cancelled" in cancelled[0], events
    assert events[-3] is True and weights <= events[-2] < total and events[-1] is False, events  # only the rest
    assert not list(cache.rglob("*.incomplete"))
    # complete files were kept: the files run in parallel, so one still in flight at the Cancel may come again,
    # but not every small file (which was the case when a cancelled download threw its finished files away)
    gets = hub.file_gets()
    small = [n for path, n in gets.items() if not path.endswith("model.safetensors")]
    assert small and min(small) == 1, gets
    assert _cli(_env(hub.url, cache), "verify", CLIP).returncode == 0


WAITERS = """
import json, threading
from components.core.catalog import get_entry
from components.models.supply import page_download
entry, seen = get_entry('clip_vit_b_32'), {}
def session(i):
    seen[i] = []
    page_download(entry, lambda plan, p: seen[i].append(None if p is None else p.done), every_s=0.01)
threads = [threading.Thread(target=session, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(seen))
"""


def test_sessions_pressing_run_together_download_once_and_all_see_progress(hub, layout, tmp_path):
    hub.cut(CLIP_REPO, "model.safetensors", after=100_000, times=1)
    env = _env(hub.url, tmp_path / "cache", MODEL_EXPLORER_ALLOW_DOWNLOADS="1")
    small_chunks = "from huggingface_hub import constants\nconstants.DOWNLOAD_CHUNK_SIZE = 4096\n"
    ran = subprocess.run([sys.executable, "-c", small_chunks + WAITERS], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    total = sum(f.stat().st_size for f in layout.folder(CLIP).iterdir())
    assert len(seen) == 4 and all(s[0] is None and s[-1] == total for s in seen.values()), seen
    assert all(any(d is not None and 0 < d < total for d in s) for s in seen.values()), seen
    gets = hub.file_gets()
    assert gets and set(gets.values()) <= {1, 2} and gets[f"/{CLIP_REPO}/config.json"] == 1, gets


CATALOG_CARD = """
import json
from streamlit.testing.v1 import AppTest
def card(at):
    return [m.value for m in at.markdown if 'Weights:' in m.value], [b.label for b in at.button
                                                                   if b.key == 'cat_supply_clip_vit_b_32']
at = AppTest.from_file('app.py', default_timeout=200)
at.run()
at.switch_page('app_pages/catalog.py')
at.run()
at.selectbox(key='keep_cat_card').set_value('clip_vit_b_32')
at.run()
seen = [card(at)]
for _ in range(2):  # Download, then Remove
    if seen[-1][1]:
        at.button(key='cat_supply_clip_vit_b_32').click()
        at.run()
        seen.append(card(at) + ([s.value for s in at.success] + [e.value for e in at.error],))
print(json.dumps({'seen': seen, 'exceptions': [e.value for e in at.exception]}))
"""


@pytest.mark.parametrize("allowed", [True, False])
def test_catalog_card_says_where_the_weights_are_and_offers_download_only_when_allowed(hub, layout, tmp_path,
                                                                                     allowed):
    env = _env(hub.url, tmp_path / "cache", **({"MODEL_EXPLORER_ALLOW_DOWNLOADS": "1"} if allowed else {}))
    ran = subprocess.run([sys.executable, "-c", CATALOG_CARD], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    page = json.loads(ran.stdout.strip().splitlines()[-1])
    assert not page["exceptions"], page
    total = sum(f.stat().st_size for f in layout.folder(CLIP).iterdir())
    (first, buttons), *after = page["seen"]
    assert first == [f"**:material/download: Weights:** downloads on first use ({total / 1e6:,.1f} MB)"], page
    if not allowed:
        assert buttons == [] and after == [] and hub.count("GET", "/resolve/") == 0, page
        return
    assert buttons == ["Download to this server"], page
    (lines, buttons, notes), (lines2, buttons2, notes2) = after
    assert lines == [f"**:material/download: Weights:** on this server ({total / 1e6:,.1f} MB)"], page
    assert buttons == ["Remove from this server"] and "is on this server now" in notes[0], page
    assert "downloads on first use" in lines2[0] and buttons2 == ["Download to this server"], page
    assert notes2 == [f"Removed CLIP ViT-B/32: {total / 1e6:,.1f} MB freed"], page
    assert not (tmp_path / "cache" / f"models--{CLIP_REPO.replace('/', '--')}").exists()


LESSON_LINES = """
import json
from components.models import supply
supply.lesson_models = lambda: {'demo': {'clip_vit_b_32'}, 'offline': {'efficientnet_lite0'}}
lines = [supply.lesson_line('demo'), supply.lesson_line('offline')]
supply.pull(supply.get_entry('clip_vit_b_32'))
print(json.dumps(lines + [supply.lesson_line('demo')]))
"""


def test_each_lesson_says_ready_offline_or_how_much_to_pull(hub, layout, tmp_path):
    env = _env(hub.url, tmp_path / "cache")
    ran = subprocess.run([sys.executable, "-c", LESSON_LINES], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-2000:]
    total = sum(f.stat().st_size for f in layout.folder(CLIP).iterdir())
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == [
        f"needs {total / 1e6:,.1f} MB: run `python -m components.models pull --lesson demo`", "ready offline",
        "ready offline"]


# ---------------------------------------------------------------- Compare: every chosen model fetched before any row

COMPARE_RUN = """
import json, logging, ray
from components.compare import Request, execute_run, make_executor, plan_run
from components.core.catalog import get_entry
from components.datasets import load_bundled
from components.models.supply import download_step, page_download
events, texts, rows = [], [], []
def show(plan, progress):
    events.append([plan.missing_bytes, None if progress is None else progress.done])
def step(entry, extra_dir):  # what app.py installs around every page
    page_download(entry, show, extra_dir, every_s=0.01)
ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR)
executor = make_executor("ray", "")
executor.shares_cache = SHARES  # False: as a cluster on other machines, whose workers' caches are their own
request = Request("sentiment-analysis", (get_entry("distilbert_sst2"),), ("eager",), 2, 1, None,
                  load_bundled("sentiment-analysis"), "bundled")
with download_step(step):
    done = execute_run(plan_run(request, None, []), None, executor, lambda f, text: texts.append(text),
                       on_start=lambda run_id: None, session="s", on_result=rows.append)
print(json.dumps({"events": events, "failures": done.failures, "weights": [r["weights"] for r in rows],
                  "texts": texts}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("shares, allowed", [(True, True), (True, False), (False, False), (False, True)])
def test_compare_on_ray_fetches_through_the_page_step_or_the_worker_refuses(hub, layout, tmp_path, shares, allowed):
    """A local Ray (shares this server's cache): the page's step downloads (size, progress, gate) before any row
    is handed to a worker, which then finds the files. A cluster elsewhere: its worker refuses a model missing
    from its cache unless downloads are allowed there, and says where; allowed, it downloads with progress."""
    hub.rate = 100_000.0  # ~1 s for the weights: the worker's progress line is seen
    env = _env(hub.url, tmp_path / "cache", **({"MODEL_EXPLORER_ALLOW_DOWNLOADS": "1"} if allowed else {}))
    ran = subprocess.run([sys.executable, "-c", f"SHARES = {shares}\n" + COMPARE_RUN], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert ran.returncode == 0, ran.stderr[-3000:]
    page = json.loads(ran.stdout.strip().splitlines()[-1])
    weights = f"/{SST2_REPO}/model.safetensors"
    if allowed:
        assert not page["failures"] and page["weights"] == ["real"], page
        assert hub.file_gets()[weights] == 1 and hub.sent[weights] == (layout.folder(SST2) / "model.safetensors"
                                                                      ).stat().st_size
        if shares:  # the page showed the size, then the bytes, before any row ran
            total = sum(f.stat().st_size for f in layout.folder(SST2).iterdir())
            assert page["events"][0] == [total, None] and page["events"][-1] == [total, total], page
        else:
            assert page["events"] == [] and any("downloading on Ray worker" in t for t in page["texts"]), page
        return
    (reason,) = page["failures"].values()
    assert page["weights"] == [] and hub.count("GET", "/resolve/") == 0, page
    assert "\n" not in reason and "python -m components.models pull distilbert_sst2" in reason, reason
    if shares:
        assert "page downloads are off" in reason and page["events"] == [], reason
    else:
        assert "not in the Hugging Face cache of Ray worker" in reason and "downloads are off there" in reason
