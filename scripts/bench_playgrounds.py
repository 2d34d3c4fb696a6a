"""Time from input to first result on each playground page, models already loaded (AppTest, no browser).

Run: python scripts/bench_playgrounds.py [--repeats 3]
Each page gets one warm-up run (loads the models), then the input is replaced and the page re-run;
the time printed is that second interaction, end to end through Streamlit's script run.
Target (issue 3): <= 3 s per page on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MODEL_EXPLORER_OFFLINE", "1")

from streamlit.testing.v1 import AppTest  # noqa: E402

CASES = [  # page, sample button pair (warm-up, measured), run button, label
    ("app_pages/vision.py", ("vision_input_sample_coffee.jpg", "vision_input_sample_chelsea.jpg"), "vision_run",
     "Vision: EfficientNet-Lite0 + Lite2"),
    ("app_pages/speech.py", ("speech_input_sample_clip02.wav", "speech_input_sample_clip01.wav"), "speech_run",
     "Speech: VAD + Whisper tiny.en + PocketSphinx"),
    ("app_pages/multimodal.py", ("multimodal_input_sample_coffee.jpg", "multimodal_input_sample_chelsea.jpg"), "mm_run",
     "Multimodal: ConSE"),
]


def _time_page(page: str, samples: tuple[str, str], run_key: str, repeats: int) -> list[float]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(page).run()
    at.button(key=samples[0]).click().run()
    at.button(key=run_key).click().run()  # warm-up: loads the models
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        at.button(key=samples[(i + 1) % 2]).click().run()
        at.button(key=run_key).click().run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return times


def _time_text(repeats: int) -> list[float]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("app_pages/text.py").run()
    at.button(key="run_sentence-similarity").click().run()
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        at.text_area(key="keep_text_input").set_value(f"Round {i}: a man plays guitar.\nA cat sleeps.").run()
        at.button(key="run_sentence-similarity").click().run()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'page':48s} {'median s':>9s} {'max s':>7s}")
    results = [(label, _time_page(page, samples, run, args.repeats)) for page, samples, run, label in CASES]
    results.append(("Text: MiniLM similarity", _time_text(args.repeats)))
    for label, times in results:
        print(f"{label:48s} {statistics.median(times):9.2f} {max(times):7.2f}")


if __name__ == "__main__":
    main()
