"""Cold start of Home vs a bare Streamlit hello page, in a real browser (Playwright + Debian's chromium).

Run: python scripts/bench_home_cold_start.py [--rounds 5]
Each round starts a fresh ``streamlit run`` process for a one-line hello app (``st.title``) and one for
app.py (alternating, same flags, MODEL_EXPLORER_OFFLINE=1), waits for ``/_stcore/health``, then times
``page.goto`` until (a) hello's title is visible, (b) Home's "What runs here right now" section is fully
drawn (every status metric and the catalog caption). Prints the medians and Home / hello.
Target (issue 8): ratio <= 1.2.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HELLO = 'import streamlit as st\n\nst.title("Hello")\n'
STATUS_METRICS = 7  # components.models.availability.STATUS_ORDER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(script: Path, workdir: Path) -> tuple[subprocess.Popen, str]:
    """A fresh server for ``script`` (cwd = the repo, so both read the same .streamlit/config.toml)."""
    port = _free_port()
    env = dict(os.environ, MODEL_EXPLORER_OFFLINE="1", MODEL_EXPLORER_HISTORY=str(workdir / "history.sqlite"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"{script} did not become healthy")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _wait_hello(page) -> None:
    page.get_by_role("heading", name="Hello").first.wait_for(state="visible", timeout=60_000)


def _wait_home(page) -> None:
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("What runs here right now").first.wait_for(state="visible", timeout=60_000)
    main.get_by_text("models in the catalog").first.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(f"document.querySelectorAll('[data-testid=\"stMetric\"]').length >= {STATUS_METRICS}",
                           timeout=60_000)


def _measure(browser, script: Path, workdir: Path, wait) -> float:
    proc, url = _start(script, workdir)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        wait(page)
        elapsed = time.perf_counter() - start
        context.close()
        return elapsed
    finally:
        _stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    hello_times: list[float] = []
    home_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        workdir = Path(tmp)
        hello = workdir / "hello.py"
        hello.write_text(HELLO, encoding="utf-8")
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for i in range(args.rounds):
                hello_times.append(_measure(browser, hello, workdir, _wait_hello))
                home_times.append(_measure(browser, ROOT / "app.py", workdir, _wait_home))
                print(f"round {i + 1}: hello {hello_times[-1]:.2f} s, Home {home_times[-1]:.2f} s", flush=True)
        finally:
            browser.close()
    hello_median, home_median = statistics.median(hello_times), statistics.median(home_times)
    print(f"hello median {hello_median:.2f} s, Home median {home_median:.2f} s, "
          f"ratio {home_median / hello_median:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
