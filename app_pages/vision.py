"""Vision playground: classify an image or read its text with several models side by side."""
import streamlit as st

from components.core import IMAGE_CLASSIFICATION
from components.ui import (
    CardData,
    current_raw,
    image_given,
    image_input,
    literal,
    pick_models,
    pick_runtime,
    playground_report_button,
    run_models,
    setting,
    show_card_explanation,
    show_cards,
    show_model_input,
    stress_section,
    top_k_chart,
    vision_controls,
)
from components.viz import draw_ocr_boxes

KEY = setting("vision", "sample").key
TASK = setting("vision", "task")

st.title(":material/image: Vision playground")
st.caption("Bring a photo, pick models, press Run. Each card shows the answer and what it cost.")

checked = image_input(KEY)
task = TASK.name_of(TASK.draw(st.radio, TASK.options(), horizontal=True))
models = pick_models(task, setting("vision", "models").session_key(task=task),
                     ("efficientnet_lite0", "efficientnet_lite2") if task == IMAGE_CLASSIFICATION
                     else ("rapidocr_ppocrv4",))
runtime = pick_runtime(setting("vision", "runtime").key, models, task) if task == IMAGE_CLASSIFICATION else "eager"

if checked is not None:
    image = checked.data
    left, right = st.columns([1, 2])
    left.image(image, caption=f"{literal(current_raw(KEY).name)} · {image.width}×{image.height}", width="stretch")
    with right:
        if st.button("Run", icon=":material/play_arrow:", type="primary", disabled=not models, key="vision_run"):
            done = st.session_state.get(f"{KEY}_results", {})  # task -> its cards: each task keeps its own
            st.session_state[f"{KEY}_results"] = done | {task: run_models(models, task, image, runtime=runtime)}
        if not models:
            st.warning("Select at least one model.")


def render_classification(card: CardData) -> None:
    rows = card.result.output
    top_k_chart(rows)
    show_card_explanation(card, checked.data)
    show_model_input(card, checked.data)


def render_ocr(card: CardData) -> None:
    lines = card.result.output["lines"]
    if not lines:
        st.info("No text found in this image.")
        return
    st.image(draw_ocr_boxes(checked.data, lines), width="stretch",
             caption=f"The {len(lines)} text region(s) found, numbered as in the table below")
    st.dataframe([{"#": i, "text": l["text"], "score": round(l["score"], 3)}
                  for i, l in enumerate(lines, start=1)], hide_index=True, width="stretch",
                 column_config={"#": st.column_config.NumberColumn(width=36),
                                "text": st.column_config.TextColumn(width=250),
                                "score": st.column_config.NumberColumn(width=60, help="Recogniser confidence")})


stored = st.session_state.get(f"{KEY}_results", {}).get(task)  # another task's results wait for its tab
if checked is not None and stored is not None:
    st.subheader("Results")
    if task == IMAGE_CLASSIFICATION:
        vision_controls(stored, checked.data)
    show_cards(stored, render_classification if task == IMAGE_CLASSIFICATION else render_ocr)
    playground_report_button("Vision playground", image_given(KEY, checked.data), [(task, stored)],
                             key="vision_report")
if checked is not None and task == IMAGE_CLASSIFICATION:
    stress_section(models, task, checked.data, stored, runtime)
