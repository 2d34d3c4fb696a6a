"""Text playground: similarity and search, zero-shot labels, language, sentiment, tokens."""
import html

import streamlit as st

from components.core import (
    LANGUAGE_IDENTIFICATION,
    SENTENCE_SIMILARITY,
    SENTIMENT_ANALYSIS,
    ZERO_SHOT_CLASSIFICATION,
    capped_lines,
    text_lines,
)
from components.models import TOKENIZERS, split_tokens, vocabulary_size
from components.ui import (
    NO_MODE_BAR,
    TEXT_DATA,
    CardData,
    attention_section,
    language_name,
    literal,
    pick_models,
    pick_runtime,
    playground_report_button,
    run_models,
    setting,
    show_cards,
    show_chart,
    stress_section,
    text_explanation,
    text_given,
    text_input,
    top_k_chart,
)
from components.viz import similarity_heatmap

st.title(":material/notes: Text playground")
st.caption("Type or paste sentences (one per line), pick a tool and models, press Run.")

checked = text_input()
lines, capped = capped_lines(text_lines(checked.data) if checked else [])
if capped:
    st.caption(f":material/content_cut: {capped}")

TOOL = setting("text", "tool")
TOOLS = TOOL.options()
st.session_state.setdefault(TOOL.key, TOOLS[0])
tool = TOOL.name_of(TOOL.draw(st.segmented_control, TOOLS) or TOOLS[0])


def run_section(task: str, defaults: tuple[str, ...], render, with_runtime: bool = False, **options) -> None:
    """Model picker, Run button and the cards of the last run for this task."""
    models = pick_models(task, setting("text", "models").session_key(task=task), defaults)
    runtime_key = setting("text", "runtime").session_key(task=task)
    runtime = pick_runtime(runtime_key, models, task) if with_runtime else "eager"  # starts on the measured one
    results_key = f"text_results_{task}"
    if st.button("Run", icon=":material/play_arrow:", type="primary", disabled=not (models and lines),
                 key=f"run_{task}"):
        st.session_state[results_key] = (lines, options, run_models(models, task, lines, runtime=runtime, **options))
    stored = st.session_state.get(results_key)
    if stored is not None and lines:
        changed_note((stored[0], stored[1]), (lines, options))
        show_cards(stored[2], render)
        playground_report_button("Text playground", text_given(stored[0]), [(task, stored[2])],
                                 key=f"report_{task}")
    if lines:
        stress_section(models, task, lines, runtime=runtime, **options)


def changed_note(ran: tuple[list[str], dict], now: tuple[list[str], dict]) -> None:
    """The caption over stale cards: what changed since their run (the text, the query, the labels), if anything."""
    changed = (["text"] if ran[0] != now[0] else []) + [name for name in now[1] if ran[1].get(name) != now[1][name]]
    if changed:
        st.caption(f"The {' and '.join(changed)} changed since this run: press Run to refresh.")


def render_similarity(card: CardData) -> None:
    out = card.result.output
    if "ranking" in out:
        st.markdown(f"**Closest to** “{literal(out['query'])}”")
        top_k_chart([{"label": r["text"][:60], "score": r["score"]} for r in out["ranking"][:5]], percent=False)
        st.caption("Cosine similarity to the query (1 = same meaning).")
    show_chart(similarity_heatmap(out["sentences"], out["matrix"]), config=NO_MODE_BAR)
    st.caption("Cosine similarity of sentence embeddings: 1 = same meaning, 0 = unrelated.")
    if len(lines) >= 2:
        text_explanation(card, lines[:2], "Each word's score: how much the similarity of lines 1 and 2 drops "
                                          "when that word is removed (blue: it carries the similarity; vermillion: "
                                          "the lines are closer without it).")


def render_zero_shot(card: CardData) -> None:
    for row in card.result.output:
        best = row["labels"][0]
        st.markdown(f"**{literal(best['label'])}** (cosine {best['cosine']:.2f}, share {best['score']:.0%}) — "
                    f"{literal(row['text'])}")
    st.caption("Each line goes to the label whose description “This text is about …” embeds closest; the share "
               "is a softmax of the cosines ÷ 0.05, a relative score, not a calibrated probability.")


def render_language(card: CardData) -> None:
    st.dataframe([{"text": r["text"], "language": language_name(r["lang"]), "score": round(r["score"], 3),
                   "2nd": f"{r['top'][1]['lang']} {r['top'][1]['score']:.2f}" if len(r["top"]) > 1 else ""}
                  for r in card.result.output], hide_index=True, width="stretch",
                 column_config={"text": st.column_config.TextColumn(width=130),
                                "language": st.column_config.TextColumn(width=110),
                                "score": st.column_config.NumberColumn(width=54, help="fastText probability"),
                                "2nd": st.column_config.TextColumn(width=60, help="Runner-up language and score")})


def render_sentiment(card: CardData) -> None:
    st.dataframe([{"text": r["text"], "sentiment": r["label"], "score": round(r["score"], 3)}
                  for r in card.result.output], hide_index=True, width="stretch",
                 column_config={"text": st.column_config.TextColumn(width=200),
                                "sentiment": st.column_config.TextColumn(width=80),
                                "score": st.column_config.NumberColumn(width=60)})
    if card.entry.id == "vader":
        st.caption("VADER is an English word list with rules, not a neural network: it misreads other "
                   "languages (German “Die” reads as the English verb).")
    text_explanation(card, lines[:1], "VADER explains by design: each word's valence from its hand-made lexicon "
                     "after its rules (negation, boosters, “but”); hover for the raw lexicon value."
                     if card.entry.id == "vader" else "Integrated gradients (32 steps) on the word embeddings: "
                     "each token's share of the explained class's logit over an all-[PAD] baseline.")


if tool == "similarity":
    query = setting("text", "query").draw(st.text_input)
    run_section(SENTENCE_SIMILARITY, ("all_minilm_l6_v2",), render_similarity, with_runtime=True, query=query)
elif tool == "zero-shot":
    labels_setting = setting("text", "labels")
    st.session_state.setdefault(labels_setting.key, ", ".join(
        line.strip() for line in (TEXT_DATA / "zero_shot_labels.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()))
    labels = [l.strip() for l in labels_setting.draw(st.text_input).split(",")]
    run_section(ZERO_SHOT_CLASSIFICATION, ("all_minilm_l6_v2",), render_zero_shot, with_runtime=True, labels=labels)
elif tool == "language":
    run_section(LANGUAGE_IDENTIFICATION, ("fasttext_lid176",), render_language)
elif tool == "sentiment":
    run_section(SENTIMENT_ANALYSIS, ("vader",), render_sentiment)
elif tool == "attention":
    st.caption("Self-attention of a transformer text model: for each token, how much it looks at every other "
               "token, in each layer and head.")
    attention_section(lines)
else:
    name = setting("text", "tokenizer").draw(st.selectbox, list(TOKENIZERS))
    kind = TOKENIZERS[name]
    if lines:
        tokens = split_tokens(kind, lines[0])
        st.markdown(f"First line → **{len(tokens)} tokens** (vocabulary of {vocabulary_size(kind):,}). "
                    "Models never see letters — only these ids.")
        palette = ["#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3", "#ede9fe"]
        chips = "".join(
            f"<span style='background:{palette[i % len(palette)]};padding:2px 4px;margin:2px;"
            f"border-radius:4px;display:inline-block;font-family:monospace'>{html.escape(t['token'])}"
            f"<sub style='color:#555'> {t['id']}</sub></span>" for i, t in enumerate(tokens[:400]))
        st.html(f"<div style='line-height:2'>{chips}</div>")
        st.caption("WordPiece marks a word's continuation with ##; byte-level BPE marks a leading space with Ġ "
                   "and splits unknown characters (emoji, CJK) into bytes instead of [UNK].")
