"""Make the Adapt page's bundled audio set, data/adapt/spoken_words/ (run by hand; the output is committed).

    apt-get install espeak-ng
    python scripts/make_adapt_audio.py [--speakers 20] [--seed 0]

SYNTHETIC speech: each of WORDS spoken by the same SPEAKERS settings of espeak-ng (an accent voice, a
voice variant, a speed and a pitch, drawn with a fixed seed), so every class has one clip per setting.
Each clip is trimmed to its sound plus MARGIN_S, resampled to 16 kHz mono 16-bit PCM WAV and named
``<word>/<voice>+<variant>_s<speed>_p<pitch>.wav``.
"""
from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "data" / "adapt" / "spoken_words"
WORDS = ("yes", "no", "up", "down")
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3")
SPEEDS = (110, 200)  # words per minute, drawn uniformly
PITCHES = (15, 85)  # espeak-ng's 0-99 pitch scale
RATE = 16000
MARGIN_S = 0.05
SILENCE = 0.01  # fraction of the peak below which a sample counts as silence


def speakers(count: int, rng: random.Random) -> list[tuple[str, str, int, int]]:
    """``count`` distinct (voice, variant, speed, pitch) settings."""
    chosen: set[tuple[str, str]] = set()
    while len(chosen) < count:
        chosen.add((rng.choice(VOICES), rng.choice(VARIANTS)))
    return [(voice, variant, rng.randint(*SPEEDS), rng.randint(*PITCHES)) for voice, variant in sorted(chosen)]


def speak(word: str, voice: str, variant: str, speed: int, pitch: int) -> np.ndarray:
    """espeak-ng's clip of ``word`` as 16 kHz float32, trimmed to its sound."""
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(["espeak-ng", "-v", f"{voice}+{variant}", "-s", str(speed), "-p", str(pitch),
                        "-w", str(path), word], check=True)
        with wave.open(str(path)) as clip:
            rate = clip.getframerate()
            audio = np.frombuffer(clip.readframes(clip.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    audio = resample_poly(audio, RATE, rate).astype(np.float32)
    loud = np.flatnonzero(np.abs(audio) > SILENCE * np.abs(audio).max())
    margin = int(MARGIN_S * RATE)
    return audio[max(0, loud[0] - margin): loud[-1] + margin]


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng not found: apt-get install espeak-ng")
    shutil.rmtree(OUT, ignore_errors=True)
    settings = speakers(args.speakers, random.Random(args.seed))
    for word in WORDS:
        (OUT / word).mkdir(parents=True)
        for voice, variant, speed, pitch in settings:
            clip = speak(word, voice, variant, speed, pitch)
            write_wav(OUT / word / f"{voice}+{variant}_s{speed}_p{pitch}.wav", clip)
    size = sum(p.stat().st_size for p in OUT.rglob("*.wav"))
    print(f"wrote {len(WORDS) * len(settings)} clips, {size / 2**20:.2f} MB, to {OUT}")


if __name__ == "__main__":
    main()
