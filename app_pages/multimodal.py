"""Multimodal playground: label a photo with your own words, caption it, or chain OCR into text models."""
import streamlit as st
from PIL import Image

from components.core import (
    IMAGE_CAPTIONING,
    LANGUAGE_IDENTIFICATION,
    OCR,
    SENTIMENT_ANALYSIS,
    ZERO_SHOT_IMAGE_CLASSIFICATION,
    get_entry,
)
from components.ui import (
    CardData,
    current_raw,
    image_given,
    image_input,
    literal,
    models_dir_input,
    pick_models,
    playground_report_button,
    run_models,
    runnable_models,
    setting,
    show_cards,
    top_k_chart,
)
from components.viz import draw_ocr_boxes

KEY = setting("multimodal", "sample").key
TOOL = setting("multimodal", "tool")
DEFAULT_LABELS = "cat, dog, cup of coffee, car, rocket, person, horse, bird"

st.title(":material/hub: Multimodal playground")
st.caption("Image + text: zero-shot labels in your own words, captions, and an image → OCR → text-model chain.")
with st.sidebar:
    models_dir_input("A folder with Hugging Face model folders, e.g. openai__clip-vit-base-patch32 or "
                     "Salesforce__blip-image-captioning-base (each with config.json). Models found there "
                     "become ready.")


def run_chain(image: Image.Image) -> list[tuple[str, list[CardData]]]:
    """OCR, then fastText and VADER on the lines it read; one progress bar for the chain, its total when done."""
    status = st.empty()
    with status.container():
        ocr = run_models([get_entry("rapidocr_ppocrv4")], OCR, image)[0]
        chain: list[tuple[str, list[CardData]]] = [(OCR, [ocr])]
        lines = [line["text"] for line in ocr.result.output["lines"]] if ocr.result else []
        if lines:
            chain.append((LANGUAGE_IDENTIFICATION,
                          run_models([get_entry("fasttext_lid176")], LANGUAGE_IDENTIFICATION, lines)))
            chain.append((SENTIMENT_ANALYSIS, run_models([get_entry("vader")], SENTIMENT_ANALYSIS, lines)))
    cards = [card for _, step in chain for card in step]
    status.progress(1.0, text=f"Done: {sum(c.result is not None for c in cards)} of {len(cards)} models answered")
    return chain


def render_text_rows(card: CardData) -> None:
    """fastText's or VADER's answer per OCR line, sized for a half-width card (the score always in view)."""
    answer = "lang" if "lang" in card.result.output[0] else "label"
    st.dataframe([{"text": row["text"], answer: row[answer], "score": row["score"]} for row in card.result.output],
                 hide_index=True, width="stretch",
                 column_config={"text": st.column_config.TextColumn(width=180, help="A line the OCR read"),
                                answer: st.column_config.TextColumn("language" if answer == "lang" else "sentiment",
                                                                    width=80),
                                "score": st.column_config.NumberColumn(width=60, format="%.3f")})


checked = image_input(KEY)
st.session_state.setdefault(TOOL.key, TOOL.options()[0])
mode = TOOL.name_of(TOOL.draw(st.segmented_control, TOOL.options()) or TOOL.options()[0])

if checked is not None:
    image = checked.data
    st.image(image, width=320, caption=f"{literal(current_raw(KEY).name)} · {image.width}×{image.height}")

    if mode == "zero-shot":
        labels_setting = setting("multimodal", "labels")
        st.session_state.setdefault(labels_setting.key, DEFAULT_LABELS)
        labels = [l.strip() for l in labels_setting.draw(st.text_input).split(",")]
        models = pick_models(ZERO_SHOT_IMAGE_CLASSIFICATION, "keep_mm_models", ("conse_effnet_minilm", "clip_vit_b_32"))
        st.caption("ConSE (Norouzi et al., 2014) is not CLIP: it classifies the photo with EfficientNet-Lite0 "
                   "into ImageNet classes, then places it among your labels by the meaning of those class names "
                   "(MiniLM embeddings). It runs offline; CLIP joins when its weights are present.")
        if st.button("Run", icon=":material/play_arrow:", type="primary", disabled=not models, key="mm_run"):
            st.session_state[f"{KEY}_results"] = ("zs", run_models(models, ZERO_SHOT_IMAGE_CLASSIFICATION,
                                                                   image, labels=labels), labels)

        def render_labels(card: CardData) -> None:
            top_k_chart(card.result.output["labels"][:8])
            evidence = card.result.output.get("evidence")
            if evidence:
                st.caption("Shares are a softmax of cosine ÷ 0.05 — relative, not calibrated. "
                           "Evidence (ImageNet classes): " + ", ".join(
                    f"{e['label'].split(',')[0]} {e['score']:.0%}" for e in evidence[:4]))

        stored = st.session_state.get(f"{KEY}_results")
        if stored and stored[0] == "zs":
            if stored[2] != labels:
                st.caption("The labels changed since this run: press Run to refresh.")
            show_cards(stored[1], render_labels)
            playground_report_button("Multimodal playground",
                                     image_given(KEY, image, f"labels: {', '.join(stored[2])}"),
                                     [(ZERO_SHOT_IMAGE_CLASSIFICATION, stored[1])], key="mm_report")

    elif mode == "caption":
        ready, blocked = runnable_models(IMAGE_CAPTIONING)
        if not ready:
            st.warning("No captioning model can run on this machine right now.")
            for entry, reason in blocked:
                st.markdown(f"- **{entry.name}** — {reason}")
            st.info("To caption offline: whoever runs the server fetches BLIP once while it has a network, "
                    "`python -m components.models pull blip_captioning_base` (it shows the size first and fills "
                    "the Hugging Face cache; BLIP then runs with the network off). Meanwhile, try **Zero-shot "
                    "labels**: it runs offline.")
        else:
            models = pick_models(IMAGE_CAPTIONING, "keep_mm_caption_models")
            if st.button("Caption", icon=":material/play_arrow:", type="primary", disabled=not models,
                         key="mm_caption"):
                st.session_state[f"{KEY}_results"] = ("cap", run_models(models, IMAGE_CAPTIONING, image))
            stored = st.session_state.get(f"{KEY}_results")
            if stored and stored[0] == "cap":
                show_cards(stored[1], lambda card: st.markdown(f"> {literal(card.result.output['text'])}"))
                playground_report_button("Multimodal playground", image_given(KEY, image),
                                         [(IMAGE_CAPTIONING, stored[1])], key="mm_report")

    else:
        st.caption("RapidOCR reads the text in the image; fastText names its language; VADER rates its tone.")
        if st.button("Run the chain", icon=":material/play_arrow:", type="primary", key="mm_chain"):
            st.session_state[f"{KEY}_results"] = ("chain", run_chain(image))
        stored = st.session_state.get(f"{KEY}_results")
        if stored and stored[0] == "chain":
            for task, cards in stored[1]:
                if task == OCR:
                    def render_ocr(card: CardData) -> None:
                        lines = card.result.output["lines"]
                        st.image(draw_ocr_boxes(image, lines), width="stretch",
                                 caption=f"The {len(lines)} text region(s) found, numbered as detected")
                        st.text(card.result.output["text"] or "(no text found)")
                    show_cards(cards, render_ocr)
                    if cards[0].result and not cards[0].result.output["lines"]:
                        st.info("No text found in this image, so the text models have nothing to read. "
                                "Try the 'page' or 'ocr sample' image.")
                else:
                    show_cards(cards, render_text_rows)
            playground_report_button("Multimodal playground", image_given(KEY, image), stored[1], key="mm_report")
