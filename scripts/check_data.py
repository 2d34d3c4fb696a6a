"""Check the formats of everything under data/ (no models needed).

Run from anywhere:  python3 scripts/check_data.py     (exit status 1 and a list of problems if any)
"""

from __future__ import annotations

import csv
import sys
import wave
from collections import Counter
from pathlib import Path

from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data"
LID_CODES = {"en", "fr", "de", "es", "it", "pt", "nl", "ru", "ja", "zh", "ar", "hi", "tr"}
problems: list[str] = []


def check(cond: bool, msg: str) -> None:
    if not cond:
        problems.append(msg)


def read_csv(path: Path, header: list[str]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        check(reader.fieldnames == header, f"{path.name}: header {reader.fieldnames} != {header}")
        rows = list(reader)
    for i, row in enumerate(rows, start=2):
        check(all((row.get(k) or "").strip() for k in header), f"{path.name}:{i}: empty field")
    return rows


def check_images() -> None:
    d = DATA / "images"
    for jpg in sorted(d.glob("*.jpg")):
        check(jpg.stat().st_size < 150_000, f"{jpg.name}: over 150 KB")
        with Image.open(jpg) as im:
            check(im.format == "JPEG" and im.mode == "RGB", f"{jpg.name}: {im.format} {im.mode}")
            check(max(im.size) <= 512, f"{jpg.name}: {im.size} larger than 512 px")
    rows = read_csv(d / "labels.csv", ["file", "accepted", "description"])
    check(len(rows) >= 8, f"labels.csv: {len(rows)} rows < 8")
    for row in rows:
        check((d / row["file"]).is_file(), f"labels.csv: missing {row['file']}")
        idx = [int(x) for x in row["accepted"].split(";")]
        check(all(0 <= i < 1000 for i in idx), f"labels.csv: bad index in {row['accepted']}")
    for name in ("page.png", "ocr_sample.png", "ocr_sample.txt"):
        check((d / name).is_file(), f"images/{name} missing")


def check_speech() -> None:
    d = DATA / "speech"
    rows = read_csv(d / "transcripts.csv", ["file", "transcript"])
    check(len(rows) >= 22, f"transcripts.csv: {len(rows)} clips < 22")
    for row in rows + [{"file": "sample_padded.wav"}]:
        with wave.open(str(d / row["file"])) as w:
            fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth())
            check(fmt == (16000, 1, 2), f"{row['file']}: {fmt} is not 16 kHz mono 16-bit")
            dur = w.getnframes() / w.getframerate()
        if "transcript" in row:
            check(2.0 <= dur <= 5.0, f"{row['file']}: {dur:.2f} s")
            check(row["transcript"] == row["transcript"].lower(), f"{row['file']}: transcript not lower case")
    total = sum(p.stat().st_size for p in d.iterdir())
    check(total < 3_200_000, f"speech/ is {total} bytes")


def check_text() -> None:
    d = DATA / "text"
    rows = read_csv(d / "languages.csv", ["text", "label"])
    counts = Counter(r["label"] for r in rows)
    check(len(rows) >= 64, f"languages.csv: {len(rows)} rows")
    check(set(counts) >= LID_CODES, f"languages.csv: missing {LID_CODES - set(counts)}")
    check(min(counts.values()) >= 5, f"languages.csv: fewer than 5 for some language {counts}")
    rows = read_csv(d / "sentence_pairs.csv", ["sentence1", "sentence2", "score"])
    check(len(rows) >= 30, f"sentence_pairs.csv: {len(rows)} rows")
    check(all(0.0 <= float(r["score"]) <= 5.0 for r in rows), "sentence_pairs.csv: score outside 0-5")
    rows = read_csv(d / "sentiment.csv", ["text", "label"])
    counts = Counter(r["label"] for r in rows)
    check(set(counts) == {"positive", "negative"} and counts["positive"] == counts["negative"],
          f"sentiment.csv: labels {counts}")
    check(len(rows) >= 40, f"sentiment.csv: {len(rows)} rows")
    for name in ("samples.txt", "zero_shot_labels.txt"):
        lines = [x for x in (d / name).read_text(encoding="utf-8").splitlines() if x.strip()]
        check(len(lines) >= 5, f"{name}: {len(lines)} lines")


if __name__ == "__main__":
    for step in (check_images, check_speech, check_text):
        try:
            step()
        except (OSError, ValueError, KeyError) as exc:
            problems.append(f"{step.__name__}: {exc!r}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("data/ OK")
