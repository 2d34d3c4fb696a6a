"""The server side of a class pressing Run: K Streamlit sessions in one process, no browsers (load_test.py's default).

Each session is a ``streamlit.testing.v1.AppTest`` of app.py on its own thread: it runs the real page scripts,
widgets, session state, the model manager, the model-work queue and the shared result cache of this one process,
as a server does, and only skips the WebSocket and the drawing. Per K: K sessions open Vision and choose the sample
answered before ("same"), or all upload one photo nobody ran before ("first"), or each its own photo ("distinct");
then all press Run at the same moment; time-to-result is from that moment until the session's run is over with its
cards. CPU-seconds per run: this process's CPU time over the round, divided by K.
Peak RSS: this process, sampled every 50 ms. The first round (warm-up, not counted) imports torch and loads the
default models.
"""
from __future__ import annotations

import io
import os
import re
import statistics
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PHOTO = ROOT / "data" / "images" / "chelsea.jpg"
TIMEOUT_S = 900
BATCH = re.compile(r"ran in a batch of (\d+)")


def _photo(number: int) -> bytes:
    """A distinct photo per session: the chelsea sample shifted by ``number`` pixels and re-encoded."""
    from PIL import Image, ImageChops

    image = ImageChops.offset(Image.open(PHOTO).convert("RGB"), number, number // 3)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _ready(number: int | None):
    """A session on Vision with its photo chosen (``number``: an uploaded photo, None: the sample), ready to Run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("app_pages/vision.py")
    at.run()
    if number is not None:
        at.file_uploader(key="vision_input_upload").set_value((f"photo{number}.jpg", _photo(number), "image/jpeg"))
    else:
        next(b for b in at.button if b.key == "vision_input_sample_chelsea.jpg").click()
    at.run()
    return at


def _press_run(at, start: threading.Event, times: list[float], failures: list[str], batches: list[int]) -> None:
    start.wait()
    began = time.perf_counter()
    next(b for b in at.button if b.key == "vision_run").click()
    at.run()
    cards = sum(m.label == "Latency" for m in at.metric)
    if at.exception or at.error or cards == 0:
        failures.append("; ".join([e.value for e in at.exception] + [e.value for e in at.error]) or "no cards")
    times.append(time.perf_counter() - began)
    batched = [int(found.group(1)) for c in at.caption if (found := BATCH.search(c.value))]
    batches.extend(batched + [1] * (cards - len(batched)))  # a card without the note ran alone


def _round(users: int, mode: str, offset: int) -> tuple[list[float], list[str], float, list[int]]:
    """(time-to-result per session, failures, this process's CPU-seconds from the press to the last result, the
    batch size of every card)."""
    process = psutil.Process(os.getpid())
    numbers = {"same": lambda i: None, "first": lambda i: offset, "distinct": lambda i: offset + i}[mode]
    sessions = [_ready(numbers(i)) for i in range(users)]
    start = threading.Event()
    times: list[float] = []
    failures: list[str] = []
    batches: list[int] = []
    threads = [threading.Thread(target=_press_run, args=(at, start, times, failures, batches)) for at in sessions]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    cpu = sum(process.cpu_times()[:2])
    start.set()
    for thread in threads:
        thread.join()
    return times, failures, sum(process.cpu_times()[:2]) - cpu, batches


class _PeakRss:
    def __init__(self) -> None:
        self.process = psutil.Process(os.getpid())
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.process.memory_info().rss / 2**20)
            self._stop.wait(0.05)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(user_counts: list[int], modes: list[str], rounds: int = 1) -> list[dict]:
    """One row per (mode, K): p50 / p95 / max time-to-result, CPU-seconds per run, peak RSS, failures."""
    _round(1, "same", 0)  # warm-up: imports torch, loads the default models, measures their runtime
    rows, offset = [], 1
    for mode in modes:
        for users in user_counts:
            times: list[float] = []
            failures: list[str] = []
            batches: list[int] = []
            cpu = 0.0
            with _PeakRss() as peak:
                for _ in range(rounds):
                    found, failed, spent, sizes = _round(users, mode, offset)
                    offset += users
                    times += found
                    failures += failed
                    cpu += spent
                    batches += sizes
            rows.append({"mode": mode, "users": users, "runs": len(times), "p50_s": statistics.median(times),
                         "p95_s": p95(times), "max_s": max(times), "cpu_s_per_run": cpu / len(times),
                         "server_peak_rss_mb": peak.peak_mb, "failures": failures[:3],
                         "mean_batch": statistics.fmean(batches) if batches else 0.0})
            row = rows[-1]
            print(f"{mode:>8s} {users:5d} {row['p50_s']:8.2f} {row['p95_s']:8.2f} {row['max_s']:8.2f} "
                  f"{row['cpu_s_per_run']:8.3f} {peak.peak_mb:10.0f} {len(failures):4d} {row['mean_batch']:6.2f}",
                  flush=True)
    return rows
