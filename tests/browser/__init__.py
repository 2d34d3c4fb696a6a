"""Browser (Playwright) test helpers: start the app on a free port, launch Debian's chromium, wait, assert.

Shared by tests/browser/conftest.py (fixtures) and tests/test_concurrency.py (its own server with a stats file).
Playwright drives ``/usr/bin/chromium`` (never ``playwright install``); the app runs with
``MODEL_EXPLORER_OFFLINE=1`` and a throw-away history file.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"  # git-ignored (/tests/screenshots/)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HEALTH_TIMEOUT_S = 90
MODEL_TIMEOUT_MS = 120_000  # first model loads (torch import + weights) on a 2-core CPU
UI_TIMEOUT_MS = 30_000
MAIN = '[data-testid="stMain"]'

EXCEPTION = '[data-testid="stException"]'
ALERT = '[data-testid="stAlert"]'
ERROR_ALERT = '[data-testid="stAlertContentError"]'
TRACEBACK_WORDS = ("Traceback (most recent call last)", 'File "/')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    """A ``streamlit run app.py`` child process (its own process group) and where to reach it."""

    proc: subprocess.Popen
    base_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


def start_app(workdir: Path, extra_env: dict[str, str] | None = None) -> AppServer:
    """Start the app on a free loopback port and wait for ``/_stcore/health`` (up to 90 s)."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({"MODEL_EXPLORER_OFFLINE": "1",
                "MODEL_EXPLORER_HISTORY": str(workdir / "history.sqlite"),
                "PYTHONUNBUFFERED": "1"})
    env.update(extra_env or {})
    log_path = workdir / f"streamlit-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    server = AppServer(proc, f"http://127.0.0.1:{port}", log_path, env)
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{server.log()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    stop_app(server)
    raise RuntimeError(f"streamlit was not healthy within {HEALTH_TIMEOUT_S} s:\n{server.log()[-3000:]}")


def stop_app(server: AppServer) -> None:
    """Terminate the app's process group (SIGTERM, then SIGKILL after 10 s)."""
    if server.proc.poll() is not None:
        return
    try:
        os.killpg(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def launch_chromium(playwright):
    """Debian's chromium, headless, with the flags that keep it off the network."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


# ---------------------------------------------------------------- waiting and asserting in a page

class ScriptRuns:
    """Counts the finished script runs of a page's Streamlit session, read from its websocket frames.

    Create it before ``page.goto``. ``wait_after(n)`` waits for a run that finished after ``n`` were counted:
    the exact way to wait for the rerun an upload or a click caused, even when the page text would not change.
    """

    DONE = ("FINISHED_SUCCESSFULLY", "FINISHED_WITH_COMPILE_ERROR")

    def __init__(self, page) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._parse = ForwardMsg.FromString
        self._done = {ForwardMsg.ScriptFinishedStatus.Value(name) for name in self.DONE}
        self.page = page
        self.finished = 0
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, websocket) -> None:
        if "/_stcore/stream" in websocket.url:
            websocket.on("framereceived", self._on_frame)

    def _on_frame(self, payload) -> None:
        if isinstance(payload, str):
            return
        try:
            message = self._parse(payload)
        except Exception:  # noqa: BLE001 - not a ForwardMsg: not ours to count
            return
        if message.WhichOneof("type") == "script_finished" and message.script_finished in self._done:
            self.finished += 1

    def wait_after(self, since: int, timeout: float = MODEL_TIMEOUT_MS) -> None:
        deadline = time.monotonic() + timeout / 1000
        while self.finished <= since:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no script run finished within {timeout / 1000:.0f} s")
            self.page.wait_for_timeout(50)
        wait_idle(self.page, timeout=max(1000.0, (deadline - time.monotonic()) * 1000))

    def do(self, action, timeout: float = MODEL_TIMEOUT_MS) -> None:
        """Run ``action()`` (a click, an upload, a key press) and wait for the script run it causes."""
        wait_idle(self.page)  # also lets Playwright deliver the frames of runs that already finished
        since = self.finished
        action()
        self.wait_after(since, timeout)


def wait_connected(page, timeout: float = UI_TIMEOUT_MS) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout)


def wait_idle(page, timeout: float = MODEL_TIMEOUT_MS, settle_ms: int = 300) -> None:
    """Wait until the script run is over (the "Running…" state is gone) and stays over for ``settle_ms``.

    The frontend sets ``data-test-script-state`` to ``rerunRequested`` as soon as a widget asks for a rerun,
    so waiting for ``notRunning`` right after a click does not pass early.
    """
    deadline = time.monotonic() + timeout / 1000
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    while True:
        remaining = max(1.0, (deadline - time.monotonic()) * 1000)
        page.wait_for_selector(idle, timeout=remaining)
        page.wait_for_timeout(settle_ms)
        if page.locator(idle).count() == 1:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not become idle")


def open_page(page, url: str, timeout: float = MODEL_TIMEOUT_MS) -> ScriptRuns:
    """Go to ``url`` (a new Streamlit session) and wait until its first script run has finished and is drawn.

    Returns the session's :class:`ScriptRuns`, to wait for the runs that later clicks and uploads cause.
    (Waiting on the DOM alone is not enough: the app reads "notRunning" right after connecting, before the
    first run has started.)
    """
    runs = ScriptRuns(page)
    page.goto(url, wait_until="domcontentloaded")
    wait_connected(page)
    runs.wait_after(0, timeout)
    return runs


def main_text(page) -> str:
    return page.locator('[data-testid="stApp"]').inner_text()


def assert_no_exception(page, where: str = "") -> None:
    """No Streamlit exception element and no Python traceback text anywhere in the page."""
    exceptions = page.locator(EXCEPTION)
    if exceptions.count():
        raise AssertionError(f"{where}: Streamlit exception shown: {exceptions.first.inner_text()[:2000]}")
    text = main_text(page)
    for word in TRACEBACK_WORDS:
        assert word not in text, f"{where}: traceback text in the page: {text[:2000]}"


def wait_for_text(page, pattern: str | re.Pattern, timeout: float = MODEL_TIMEOUT_MS,
                  scope: str = MAIN) -> None:
    """Wait until ``pattern`` (a string or a regex) is visible inside ``scope``."""
    regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
    page.locator(scope).get_by_text(regex).first.wait_for(state="visible", timeout=timeout)


def error_alerts(page) -> list[str]:
    """Texts of the st.error alerts now in the page."""
    return [t.strip() for t in page.locator(ERROR_ALERT).all_inner_texts()]


def screenshot(page, name: str) -> Path:
    """Save the whole page as ``tests/screenshots/<name>.png``.

    Streamlit scrolls inside its main container, not the document, so ``full_page`` alone stops at the window:
    the viewport is made as tall as the content for the shot (at most 8000 px), then restored.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("""() => Math.max(...['[data-testid="stMain"]', '[data-testid="stAppViewContainer"]',
        '[data-testid="stSidebarContent"]'].map(s => document.querySelector(s)).filter(Boolean)
        .map(e => e.scrollHeight))""")
    if size and height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 8000)})
        page.wait_for_timeout(400)
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if size and height > size["height"]:
            page.set_viewport_size(size)
    return path


def click_button(page, label: str | re.Pattern, scope: str = MAIN) -> None:
    """Click the first button whose accessible name matches ``label``."""
    page.locator(scope).get_by_role("button", name=label).first.click()


def upload(page, path: Path, index: int = 0) -> None:
    """Give ``path`` to the ``index``-th file input of the page."""
    page.locator("input[type=file]").nth(index).set_input_files(str(path))


def multiselect(page, label: str, scope: str = MAIN):
    """The multiselect labelled ``label`` inside ``scope``."""
    return page.locator(scope).locator('[data-testid="stMultiSelect"]').filter(
        has=page.get_by_text(label, exact=True)).first


def selected(page, label: str, scope: str = MAIN) -> list[str]:
    """The chips (selected options) of a multiselect."""
    tags = multiselect(page, label, scope).locator("[data-tag]")
    return [tags.nth(i).get_attribute("aria-label") or "" for i in range(tags.count())]


def select_only(page, label: str, option: str, scope: str = MAIN) -> None:
    """Make the multiselect ``label`` hold exactly ``option`` (remove the other chips, add it if missing)."""
    box = multiselect(page, label, scope)
    box.wait_for(state="visible")
    wait_idle(page)
    for name in selected(page, label, scope):
        if name != option:
            box.get_by_role("button", name=f"Remove {name}", exact=True).click()
            wait_idle(page)
    if option not in selected(page, label, scope):
        box.get_by_role("combobox").first.click()
        page.get_by_role("option", name=option, exact=True).first.click()
        page.keyboard.press("Escape")
        wait_idle(page)
    assert selected(page, label, scope) == [option], selected(page, label, scope)


def set_slider_to_min(page, label: str, scope: str = MAIN) -> str:
    """Move a slider to its minimum with the keyboard (Home); returns the new value."""
    handle = page.locator(scope).locator(f'input[type=range][aria-label="{label}"]').first
    handle.focus()
    handle.press("Home")
    wait_idle(page)
    return handle.get_attribute("value") or ""


def grid_cells(page, scope: str = MAIN) -> list[str]:
    """Texts of the cells of every st.dataframe in ``scope``.

    The grid is drawn on a canvas; its accessible fallback table holds the cell texts (not "visible").
    """
    return [t.strip() for t in page.locator(scope).locator(
        '[data-testid="stDataFrame"] td[role="gridcell"]').all_text_contents()]


def plot_text(page, scope: str = MAIN) -> str:
    """The text drawn in every plotly chart of ``scope`` (axis labels, bar labels, annotations)."""
    return "\n".join(page.locator(scope).locator(".js-plotly-plot").evaluate_all(
        "plots => plots.map(p => p.textContent)"))


def wait_until(page, condition, what: str, timeout: float = MODEL_TIMEOUT_MS):
    """Poll ``condition()`` (while the page keeps processing events) until it returns something truthy."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout / 1000:.0f} s waiting for {what}")
        page.wait_for_timeout(100)


def sidebar_nav(page) -> str:
    nav = page.locator('[data-testid="stSidebarNav"]')
    return nav.inner_text() if nav.count() else ""


def tab(page, name: str, scope: str = MAIN) -> None:
    """Open the tab whose label contains ``name`` (tabs switch in the browser, no script run)."""
    page.locator(scope).get_by_role("tab", name=re.compile(re.escape(name))).first.click()


def selectbox(page, label: str, scope: str = MAIN):
    return page.locator(scope).locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_role("combobox", name=label)).first


def selectbox_value(page, label: str, scope: str = MAIN) -> str:
    return selectbox(page, label, scope).get_by_role("combobox").input_value()


def choose(page, runs: ScriptRuns, label: str, option: str, scope: str = MAIN) -> None:
    """Pick ``option`` in the selectbox ``label`` and wait for the rerun."""
    selectbox(page, label, scope).get_by_role("combobox").click()
    runs.do(lambda: page.get_by_role("option", name=option, exact=True).first.click(), timeout=60_000)
    assert selectbox_value(page, label, scope) == option


def run_lite0_on_chelsea(page, url: str, runtime: str = "eager") -> ScriptRuns:
    """Open Vision at ``url`` on ``runtime`` (a link's setting: Vision's own default is ONNX Runtime where it agrees
    with eager, and gradient explanations need eager), keep only EfficientNet-Lite0, pick chelsea and press Run."""
    runs = open_page(page, f"{url}/vision?runtime={runtime}")
    select_only(page, "Models", "EfficientNet-Lite0")
    tab(page, "Samples")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="chelsea", exact=True).click())
    page.locator(MAIN).get_by_text("451×300").wait_for()
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click())
    return runs


def compare_lite0_fast(page, url: str, runtime: str) -> ScriptRuns:
    """Open Compare at ``url`` with EfficientNet-Lite0 on eager and ``runtime`` (its label), the fewest timed
    and warm-up runs; Run comparison is left to the caller."""
    runs = open_page(page, url + "/compare")
    select_only(page, "Models", "EfficientNet-Lite0")
    box = multiselect(page, "Runtimes")
    box.get_by_role("combobox").first.click()
    page.get_by_role("option", name=runtime, exact=True).first.click()
    page.keyboard.press("Escape")
    wait_idle(page)
    page.locator(MAIN).get_by_text("Measurement settings").click()
    set_slider_to_min(page, "Timed runs per model")
    set_slider_to_min(page, "Warm-up runs")
    return runs
