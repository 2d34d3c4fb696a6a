"""Make the Adapt page's bundled labelled sets in data/adapt/ (run by hand; the output is committed).

    pip install elpv-dataset==1.0.0.post1      # 91 MB wheel: real electroluminescence images
    apt-get install fortunes                     # Debian's fortune cookie files
    python scripts/make_adapt_data.py [--per-class 40] [--seed 0]

solar_cells/<class>/*.jpg: ELPV solar-cell images (CC BY-NC-SA 4.0), 160 px grayscale JPEG, four classes
(cell type x defect label, only the certain labels 0.0 and 1.0). fortunes.csv: text,label; quotations
from four fortune files (BSD licence), attribution lines ("-- Name") removed.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import random
import re
import shutil
from pathlib import Path

from PIL import Image

OUT = Path(__file__).resolve().parents[1] / "data" / "adapt"
FORTUNES_DIR = Path("/usr/share/games/fortunes")
TEXT_CLASSES = ("food", "pets", "medicine", "computers")
IMAGE_SIZE = 160


def elpv_dir() -> Path:
    spec = importlib.util.find_spec("elpv_dataset")
    if spec is None or spec.origin is None:
        raise SystemExit("elpv-dataset is not installed: pip install elpv-dataset==1.0.0.post1")
    return Path(spec.origin).parent / "data"


def make_images(per_class: int, rng: random.Random) -> None:
    source = elpv_dir()
    groups: dict[str, list[str]] = {}
    for line in (source / "labels.csv").read_text().splitlines():
        path, probability, kind = line.split()
        if float(probability) in (0.0, 1.0):
            state = "defective" if float(probability) == 1.0 else "functional"
            groups.setdefault(f"{kind} {state}", []).append(path)
    target = OUT / "solar_cells"
    shutil.rmtree(target, ignore_errors=True)
    for label, paths in sorted(groups.items()):
        (target / label).mkdir(parents=True)
        for path in sorted(rng.sample(sorted(paths), per_class)):
            with Image.open(source / path) as image:
                small = image.convert("L").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
                small.save(target / label / (Path(path).stem + ".jpg"), quality=88)


def fortunes(name: str) -> list[str]:
    text = (FORTUNES_DIR / name).read_text(encoding="utf-8", errors="replace")
    quotes = []
    for item in text.split("\n%\n"):
        quote = " ".join(re.split(r"\n\s+--\s", item)[0].split())  # drop the attribution line
        if 30 <= len(quote) <= 200 and "\t" not in quote:
            quotes.append(quote)
    return quotes


def make_text(per_class: int, rng: random.Random) -> None:
    if not FORTUNES_DIR.is_dir():
        raise SystemExit(f"{FORTUNES_DIR} not found: apt-get install fortunes")
    rows = [(quote, label) for label in TEXT_CLASSES for quote in rng.sample(fortunes(label), per_class)]
    with open(OUT / "fortunes.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    make_images(args.per_class, random.Random(args.seed))
    make_text(args.per_class, random.Random(args.seed))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
