"""Capacity of one app server: K concurrent sessions each doing a Vision run, for K = 1, 2, 4, 8, 16, 32.

Run: python scripts/load_test.py [--client sessions|browsers] [--users 1,2,4,8,16,32] [--modes same,distinct]
     [--rounds 1] [--json OUT.json]
``--client sessions`` (the default) measures the server itself: K Streamlit sessions in this one process, no
browsers (:mod:`load_sessions`), each on the same sample ("same") or its own photo ("distinct"); p50 / p95
time-to-result, server CPU-seconds per run and peak RSS.

``--client browsers``: one fresh ``streamlit run app.py`` server (offline) and one headless Chromium
(Playwright, Debian's ``/usr/bin/chromium``) on this machine. A warm-up session loads the default Vision
models first (not counted). Then, for each K, K browser contexts (K Streamlit sessions) open /vision, pick the bundled
"chelsea" photo and, all at the same moment, press Run; time-to-result is from that click until the
session's result cards are drawn and its script run is over. Server memory is the peak resident set of the
server process, sampled every 50 ms during the round. Prints p50 / p95 time-to-result and peak memory per K,
and the largest K whose p95 is within the target (3 s).

The browsers run on the same machine as the server (they take CPU from it): the figures are a lower bound
on what a server with remote clients serves.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app  # noqa: E402

TARGET_S = 3.0
APP = '[data-testid="stApp"]'
IDLE = f'{APP}[data-test-script-state="notRunning"]'
MAIN = '[data-testid="stMain"]'
RESULT = f'{MAIN} [data-testid="stMetric"]:has-text("Latency")'
TIMEOUT_MS = 600_000


class PeakRss:
    """Peak resident memory (MiB) of a process and its children, sampled on a thread."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _rss_mb(self) -> float:
        processes = [self.process, *self.process.children(recursive=True)]
        total = 0
        for proc in processes:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._rss_mb())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _wait_idle(page) -> None:
    """The session's script run is over and stays over for 300 ms."""
    while True:
        await page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        await page.wait_for_timeout(300)
        if await page.locator(IDLE).count() == 1:
            return


async def _ready_session(browser, url: str):
    """A new session on /vision with the chelsea sample chosen, idle, its Run button ready."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(url + "/vision", wait_until="domcontentloaded")
    await page.wait_for_selector(f'{APP}[data-test-connection-state="CONNECTED"]', timeout=TIMEOUT_MS)
    await page.locator(MAIN).get_by_role("heading", name="Vision playground").first.wait_for(timeout=TIMEOUT_MS)
    await _wait_idle(page)
    await page.locator(MAIN).get_by_role("tab", name="Samples").first.click()
    await page.locator(MAIN).get_by_role("button", name="chelsea", exact=True).click()
    await page.locator(MAIN).get_by_text("451×300").wait_for(timeout=TIMEOUT_MS)
    await _wait_idle(page)
    return context, page


async def _run_and_time(page, start: asyncio.Event) -> float:
    await start.wait()
    began = time.perf_counter()
    await page.locator(MAIN).get_by_role("button", name="Run", exact=True).click()
    await page.wait_for_selector(RESULT, timeout=TIMEOUT_MS)
    await _wait_idle(page)
    return time.perf_counter() - began - 0.3  # less the idle-settle wait


async def _round(browser, url: str, users: int) -> list[float]:
    sessions = await asyncio.gather(*[_ready_session(browser, url) for _ in range(users)])
    start = asyncio.Event()
    runs = [asyncio.create_task(_run_and_time(page, start)) for _, page in sessions]
    await asyncio.sleep(0.5)
    start.set()
    times = await asyncio.gather(*runs)
    await asyncio.gather(*[context.close() for context, _ in sessions])
    return list(times)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _measure(url: str, pid: int, user_counts: list[int], rounds: int) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        await _round(browser, url, 1)  # warm-up: imports torch and loads the default models
        rows = []
        for users in user_counts:
            times: list[float] = []
            with PeakRss(pid) as peak:
                for _ in range(rounds):
                    times += await _round(browser, url, users)
            rows.append({"users": users, "runs": len(times), "p50_s": statistics.median(times),
                         "p95_s": _p95(times), "max_s": max(times), "server_peak_rss_mb": peak.peak_mb})
            print(f"{users:5d} {rows[-1]['p50_s']:8.2f} {rows[-1]['p95_s']:8.2f} {rows[-1]['max_s']:8.2f} "
                  f"{peak.peak_mb:10.0f}", flush=True)
        await browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--client", choices=("sessions", "browsers"), default="sessions",
                        help="sessions: K Streamlit sessions in this process (the server's own cost); browsers: "
                             "K Chromium contexts against a served app")
    parser.add_argument("--users", default="1,2,4,8,16,32", help="comma-separated concurrent session counts")
    parser.add_argument("--modes", default="same,first,distinct",
                        help="sessions: same (the sample, answered before), first (one new photo for all), "
                             "distinct (a photo each)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per K (time-to-result samples: K x rounds)")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    user_counts = [int(part) for part in args.users.split(",") if part.strip()]
    if args.client == "sessions":
        _sessions(user_counts, args.modes.split(","), args.rounds, args.json)
        return
    with tempfile.TemporaryDirectory() as workdir:
        server = start_app(Path(workdir))
        try:
            print(f"{'users':>5s} {'p50 s':>8s} {'p95 s':>8s} {'max s':>8s} {'server MB':>10s}", flush=True)
            rows = asyncio.run(_measure(server.base_url, server.pid, user_counts, args.rounds))
        finally:
            stop_app(server)
    within = [row["users"] for row in rows if row["p95_s"] <= TARGET_S]
    print(f"largest K with p95 <= {TARGET_S:.0f} s: {max(within) if within else 'none'} "
          f"({psutil.cpu_count()} CPUs, browsers on the same machine)")
    if args.json:
        args.json.write_text(json.dumps({"target_s": TARGET_S, "cpus": psutil.cpu_count(), "rows": rows}, indent=2))


def _sessions(user_counts: list[int], modes: list[str], rounds: int, out: Path | None) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from load_sessions import measure

    print(f"{'mode':>8s} {'users':>5s} {'p50 s':>8s} {'p95 s':>8s} {'max s':>8s} {'cpu s':>8s} {'server MB':>10s} "
          f"{'fail':>4s} {'batch':>6s}", flush=True)
    rows = measure(user_counts, modes, rounds)
    if out:
        out.write_text(json.dumps({"client": "sessions", "cpus": psutil.cpu_count(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
