"""Speech playground: waveform, mel spectrogram, voice activity, and transcription side by side."""
import csv

import streamlit as st

from components.core import (
    SAMPLE_RATE,
    SPEECH_RECOGNITION,
    VOICE_ACTIVITY_DETECTION,
    get_entry,
    wav_bytes,
    word_error_rate,
)
from components.ui import (
    DATA,
    NO_MODE_BAR,
    CardData,
    audio_given,
    audio_input,
    current_raw,
    format_latency_ms,
    literal,
    pick_models,
    playground_report_button,
    run_models,
    setting,
    show_cards,
    show_chart,
    speech_words,
    stress_section,
)
from components.viz import mel_spectrogram, waveform

KEY = setting("speech", "sample").key

st.title(":material/mic: Speech playground")
st.caption("Record or upload a clip (or click a sample), then compare speech recognisers on it.")

checked = audio_input(KEY)


def known_transcript(name: str) -> str | None:
    """The reference transcript of a bundled sample clip, if this is one."""
    with open(DATA / "speech" / "transcripts.csv", encoding="utf-8") as handle:
        return next((row["transcript"] for row in csv.DictReader(handle) if row["file"] == name), None)


if checked is not None:
    audio = checked.data
    raw = current_raw(KEY)
    duration = len(audio) / SAMPLE_RATE
    st.audio(wav_bytes(audio), format="audio/wav")
    vad_key = f"{KEY}_vad"
    if st.session_state.get(vad_key, (None,))[0] != raw:
        vad_cards = run_models([get_entry("silero_vad")], VOICE_ACTIVITY_DETECTION, audio)
        st.session_state[vad_key] = (raw, vad_cards[0])
    vad: CardData = st.session_state[vad_key][1]
    segments = vad.result.output["segments"] if vad.result else []
    st.markdown(f"**{duration:.1f} s** of audio · Silero VAD found **{len(segments)}** speech segment(s)"
                + (f" ({format_latency_ms(vad.result.latency_ms)})" if vad.result else f" — {vad.error}"))
    if vad.result and not segments:
        st.warning("No speech detected in this clip (silence or noise): transcripts may be empty or invented.")
    spans = ", ".join(f"{s['start']:.1f}–{s['end']:.1f} s" for s in segments) or "none"
    show_chart(waveform(audio, segments), config=NO_MODE_BAR,
               summary=f"Waveform of {duration:.1f} s of audio, amplitude -1 to 1; speech segments (shaded): {spans}.")
    with st.expander("Mel spectrogram — what speech models look at"):
        show_chart(mel_spectrogram(audio), config=NO_MODE_BAR,
                   summary=f"Mel spectrogram: 64 mel bands (low to high pitch) over {duration:.1f} s in 10 ms "
                           "steps, loudness in dB (bright = loud).")

    models = pick_models(SPEECH_RECOGNITION, setting("speech", "models").key,
                         ("whisper_tiny_en_ct2", "pocketsphinx_en_us"))
    if st.button("Transcribe", icon=":material/play_arrow:", type="primary", disabled=not models, key="speech_run"):
        st.session_state[f"{KEY}_results"] = run_models(models, SPEECH_RECOGNITION, audio)
    reference = known_transcript(raw.name) if raw.origin == "sample" else None
    if reference:
        st.caption(f"Reference transcript: “{literal(reference)}”")

    def render_transcript(card: CardData) -> None:
        out = card.result.output
        st.markdown(f"> {literal(out['text']) or '*(nothing recognised)*'}")
        rtf = card.result.latency_ms / 1000 / max(out["audio_s"], 1e-9)
        line = f"Real-time factor **{rtf:.2f}** (compute time ÷ audio length; < 1 is faster than real time)"
        if reference:
            line += f" · WER **{word_error_rate([reference], [out['text']]):.2f}**"
        st.caption(line)
        speech_words(card, audio)

    if st.session_state.get(f"{KEY}_results"):
        st.subheader("Transcripts")
        show_cards(st.session_state[f"{KEY}_results"], render_transcript)
        playground_report_button("Speech playground", audio_given(KEY, audio),
                                 [(VOICE_ACTIVITY_DETECTION, [vad]),
                                  (SPEECH_RECOGNITION, st.session_state[f"{KEY}_results"])], key="speech_report")
    stress_section(models, SPEECH_RECOGNITION, audio)
