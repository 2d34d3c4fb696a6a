"""Build data/images/: sample photos from scikit-image, a labelled ImageNet-1k set, and OCR samples.

Run from the repository root:  python3 scripts/make_image_samples.py

Writes
  data/images/*.jpg          photos from skimage.data (JPEG quality 90, longest side <= 512 px)
  data/images/labels.csv     file,accepted,description  (accepted = ';'-joined ImageNet-1k indices)
  data/images/page.png       skimage.data.page(): a scanned page of printed text
  data/images/ocr_sample.png text drawn with Pillow, its text in ocr_sample.txt

Every accepted index is checked against timm.data.ImageNetInfo() (the names the app shows).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps
from skimage import data

OUT = Path(__file__).resolve().parents[1] / "data" / "images"
MAX_SIDE = 512
MAX_BYTES = 150_000

# name -> (loader, accepted ImageNet-1k indices or None for "sample only", description)
PHOTOS = {
    "chelsea": (data.chelsea, [281, 282, 285], "Chelsea the cat (tabby)"),
    "coffee": (data.coffee, [967, 968, 504], "cup of espresso on a saucer"),
    "rocket": (data.rocket, [657, 744, 812], "Falcon 9 rocket launch (SpaceX)"),
    "motorcycle": (lambda: data.stereo_motorcycle()[0], [665, 670],
                   "motorcycle in a workshop (Middlebury stereo left image)"),
    "camera": (data.camera, [872, 759], "photographer with a camera on a tripod (grayscale)"),
    "clock": (data.clock, [409, 892], "wall clock, motion blurred (grayscale)"),
    # No ImageNet-1k class describes a person; kept as a sample input (e.g. for zero-shot), not labelled.
    "astronaut": (data.astronaut, None, "astronaut Eileen Collins (no ImageNet-1k class for a person)"),
}

# Augmented copies of labelled photos (not independent samples: same object, same labels).
VARIANTS = {
    "chelsea_flip": ("chelsea", "flip", "Chelsea the cat, mirrored"),
    "coffee_crop": ("coffee", "crop", "cup of espresso, centre crop"),
    "rocket_flip": ("rocket", "flip", "Falcon 9 launch, mirrored"),
}

OCR_LINES = ["MODEL EXPLORER 2026", "Pre-trained models save time"]
FONT_CANDIDATES = [
    # Debian: fonts-dejavu-core / fonts-liberation. Regular weight at 48 px read back word for word
    # with RapidOCR (PP-OCRv4) here; bold and larger sizes merged or clipped words.
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
]


def to_rgb_image(arr: np.ndarray) -> Image.Image:
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    return Image.fromarray(arr).convert("RGB")


def fit(img: Image.Image) -> Image.Image:
    if max(img.size) > MAX_SIDE:
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return img


def save_jpeg(img: Image.Image, path: Path) -> None:
    img.save(path, "JPEG", quality=90)
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size} bytes"


def centre_crop(img: Image.Image, frac: float = 0.7) -> Image.Image:
    w, h = img.size
    cw, ch = int(w * frac), int(h * frac)
    left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch))


def load_font(size: int) -> ImageFont.ImageFont:
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)  # Pillow >= 10.1


def make_ocr_sample(path: Path) -> None:
    font = load_font(48)
    pad, gap = 40, 28
    boxes = [font.getbbox(line) for line in OCR_LINES]
    width = max(b[2] - b[0] for b in boxes) + 2 * pad
    height = sum(b[3] - b[1] for b in boxes) + gap * (len(OCR_LINES) - 1) + 2 * pad
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    y = pad
    for line, box in zip(OCR_LINES, boxes):
        draw.text((pad - box[0], y - box[1]), line, fill="black", font=font)
        y += box[3] - box[1] + gap
    img.save(path)
    path.with_suffix(".txt").write_text("\n".join(OCR_LINES) + "\n", encoding="utf-8")


def main() -> None:
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    OUT.mkdir(parents=True, exist_ok=True)
    images: dict[str, Image.Image] = {}
    rows = []
    for name, (loader, accepted, desc) in PHOTOS.items():
        img = fit(to_rgb_image(loader()))
        images[name] = img
        save_jpeg(img, OUT / f"{name}.jpg")
        if accepted:
            rows.append((f"{name}.jpg", accepted, desc))
    for name, (base, how, desc) in VARIANTS.items():
        src = images[base]
        img = ImageOps.mirror(src) if how == "flip" else centre_crop(src)
        save_jpeg(img, OUT / f"{name}.jpg")
        rows.append((f"{name}.jpg", PHOTOS[base][1], desc))

    with open(OUT / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "accepted", "description"])
        for file, accepted, desc in rows:
            for idx in accepted:
                assert 0 <= idx < 1000
            writer.writerow([file, ";".join(map(str, accepted)), desc])
            names = " / ".join(info.index_to_description(i) for i in accepted)
            print(f"{file:18s} {';'.join(map(str, accepted)):12s} {names}")

    Image.fromarray(data.page()).save(OUT / "page.png")
    make_ocr_sample(OUT / "ocr_sample.png")


if __name__ == "__main__":
    main()
