"""Lessons: short guided walks through the app, each step a page in a preset state and a question."""
import streamlit as st

from components.models import lesson_line
from components.ui import available, go

st.title(":material/school: Lessons")
st.caption("Each step opens a page already set up, says in a few sentences what to look at, and asks you to "
           "predict what will happen before it shows the answer. Back and Next walk the steps; Presenter view "
           "(in the sidebar) suits a projector.")

lessons, errors = available()
for error in errors:
    st.error(f"A lesson file cannot be used: {error}", icon=":material/warning:")
if not lessons:
    st.info("No lessons found in the lessons/ folder.")
for lesson in lessons:
    with st.container(border=True):
        st.markdown(f"#### {lesson.title}")
        st.markdown(lesson.summary)
        # "Steps:" first: a line that starts "1. " is a Markdown numbered list (a lone "1." beside the line)
        st.caption("Steps: " + " → ".join(f"{i}. {step.title} ({step.page.title()})"
                                          for i, step in enumerate(lesson.steps, 1)))
        st.caption(f"Models: {lesson_line(lesson.id)}")  # from the lesson files and the cache
        if st.button("Start", icon=":material/play_arrow:", key=f"lesson_start_{lesson.id}", type="primary"):
            go(lesson, 1)
