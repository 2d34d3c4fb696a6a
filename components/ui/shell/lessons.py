"""The lesson in progress: a panel above its step's page (what to look at, a predict-then-reveal question,
Back / Next), and starting a lesson from the Lessons page.

A step opens its page through ``st.switch_page`` with the step's query params, so ``components.ui.shell.share``
presets the page exactly as a shared link would. The lesson and step travel in the URL too.
"""
from __future__ import annotations

from functools import lru_cache

import streamlit as st

from components.core import LESSONS_DIR, Lesson, load_lessons
from components.ui.shell.share import follow_next_url, problems
from components.ui.shell.share_codecs import quoted

LESSON, STEP = "lesson_id", "lesson_step"  # the step is 1-based, as in the URL
REVEALED = "lesson_revealed"  # {(lesson id, step number)}: questions whose answer is shown


def available() -> tuple[tuple[Lesson, ...], tuple[str, ...]]:
    """Every usable lesson (in order) and one message per lesson file that is not; read again when a file
    in lessons/ changes, so a teacher's edit shows on the next click."""
    return _load(tuple((path.name, path.stat().st_mtime_ns) for path in sorted(LESSONS_DIR.glob("*.yaml"))))


@lru_cache(maxsize=1)
def _load(files: tuple[tuple[str, int], ...]) -> tuple[tuple[Lesson, ...], tuple[str, ...]]:
    lessons, errors = load_lessons(problems)
    return tuple(lessons), tuple(errors)


def _page_path(page: str) -> str:
    return f"app_pages/{page}.py"


def go(lesson: Lesson, number: int) -> None:
    """Open step ``number`` (1-based) of ``lesson`` on its page, preset by the step's params."""
    step = lesson.steps[number - 1]
    st.session_state[LESSON], st.session_state[STEP] = lesson.id, number
    follow_next_url()  # the next step may be on the page this one is on
    st.switch_page(_page_path(step.page),
                   query_params={**step.params, "lesson": lesson.id, "step": str(number)})


def end() -> None:
    st.session_state.pop(LESSON, None)
    st.session_state.pop(STEP, None)


def _reveal(lesson_id: str, number: int) -> None:
    st.session_state.setdefault(REVEALED, set()).add((lesson_id, number))


def _active() -> tuple[Lesson | None, int]:
    """The lesson in progress (None when there is none or it no longer exists) and its step number, kept in range."""
    lesson_id = st.session_state.get(LESSON)
    lesson = next((l for l in available()[0] if l.id == lesson_id), None) if lesson_id else None
    number = min(max(int(st.session_state.get(STEP) or 1), 1), len(lesson.steps)) if lesson else 0
    return lesson, number


def current_params(page: str) -> dict[str, str]:
    """The query params of the lesson step in progress when it is on ``page`` (else empty)."""
    lesson, number = _active()
    step = lesson.steps[number - 1] if lesson else None
    return dict(step.params) if step and step.page == page else {}


def panel(page: str) -> None:
    """The active lesson's step, above whatever page is open (nothing when no lesson is active)."""
    lesson_id = st.session_state.get(LESSON)
    if not lesson_id:
        return
    lesson, number = _active()
    if lesson is None:
        st.warning(f"There is no lesson {quoted(lesson_id)} here: the lesson was closed.", icon=":material/school:")
        end()
        return
    step = lesson.steps[number - 1]
    with st.container(border=True, key="lesson_panel"):
        st.markdown(f"**:material/school: {lesson.title}** · step {number} of {len(lesson.steps)}: {step.title}")
        if page != step.page:
            st.info(f"This step is on the {step.page.title()} page.", icon=":material/info:")
            if st.button("Open this step", key="lesson_open", icon=":material/open_in_new:"):
                go(lesson, number)
        st.markdown(step.text)
        _question(lesson, number)
        with st.container(horizontal=True, key="lesson_nav"):
            if st.button("Back", icon=":material/arrow_back:", key="lesson_back", disabled=number == 1):
                go(lesson, number - 1)
            last = number == len(lesson.steps)
            if st.button("Finish" if last else "Next", icon=":material/check:" if last else ":material/arrow_forward:",
                         key="lesson_next", type="primary"):
                if last:
                    end()
                    st.switch_page(_page_path("lessons"))
                go(lesson, number + 1)
            st.button("End lesson", icon=":material/close:", key="lesson_end", type="tertiary", on_click=end)


def _question(lesson: Lesson, number: int) -> None:
    """Predict, then reveal: the answer shows only once the student has locked in a guess."""
    step = lesson.steps[number - 1]
    revealed = (lesson.id, number) in st.session_state.get(REVEALED, set())
    st.markdown(f"**:material/psychology_alt: Predict:** {step.question}")  # stays readable once answered
    guess = st.radio(step.question, step.choices, index=None, disabled=revealed, label_visibility="collapsed",
                     key=f"keep_lesson_guess_{lesson.id}_{number}")
    if not revealed:
        st.button("Lock in my guess", icon=":material/lock:", key="lesson_lock", disabled=guess is None,
                  on_click=_reveal, args=(lesson.id, number),
                  help="The answer shows once you commit to a guess.")
    elif guess == step.answer:
        st.success(f"**Right: {step.answer}.** {step.reveal}", icon=":material/check_circle:")
    else:
        st.info(f"**The answer: {step.answer}.** {step.reveal}", icon=":material/lightbulb:")
