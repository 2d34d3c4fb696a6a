"""Classroom mode in a real browser (issue 13): a copied link opens the same view in a new browser, every lesson
walks end to end, presenter view hides the sidebar and keeps Back / Next at hand."""
from __future__ import annotations

import re

import pytest

from components.core.lessons import load_lessons
from components.ui.shell.share import problems

from . import (
    MAIN,
    MODEL_TIMEOUT_MS,
    assert_no_exception,
    open_page,
    plot_text,
    screenshot,
    select_only,
    selected,
    tab,
    wait_for_text,
    wait_idle,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSONS = load_lessons(problems)[0]
HEADINGS = {"vision": "Vision playground", "text": "Text playground", "compare": "Compare models",
            "adapt": "Adapt a model to your data", "lessons": "Lessons"}
SIDEBAR = '[data-testid="stSidebar"]'


def heading(page, text: str):
    return page.locator(MAIN).get_by_role("heading", name=re.compile(re.escape(text))).first


def run_and_read_chart(page, runs) -> str:
    """Press Run on the Vision page and return the text of the top-k chart once drawn."""
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click())
    page.locator(MAIN).locator('[data-testid="stMetric"]').filter(has_text="Latency").first.wait_for()
    return wait_until(page, lambda: "espresso" in plot_text(page) and plot_text(page), "espresso in the top-k chart")


def test_a_copied_link_opens_the_same_models_input_and_result_in_a_new_browser(browser, app_url):
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000})
    teacher.grant_permissions(["clipboard-read", "clipboard-write"])
    page = teacher.new_page()
    runs = open_page(page, app_url + "/vision")
    tab(page, "Samples")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="coffee", exact=True).click())
    wait_for_text(page, "512×341")
    select_only(page, "Models", "EfficientNet-Lite1")
    result = run_and_read_chart(page, runs)

    box = page.locator(".st-key-share_link")
    shown = box.locator("code").inner_text().strip()
    box.locator("pre").hover()
    box.get_by_role("button", name=re.compile("Copy", re.I)).click()
    copied = wait_until(page, lambda: page.evaluate("navigator.clipboard.readText()"), "the copied link")
    assert copied == shown == page.url, (copied, shown, page.url)
    assert "sample=coffee" in copied and "models=efficientnet_lite1" in copied
    teacher.close()

    student = browser.new_context(viewport={"width": 1400, "height": 1000})  # no shared cookies or session
    page = student.new_page()
    runs = open_page(page, copied)
    heading(page, "Vision playground").wait_for()
    wait_for_text(page, "512×341")  # the same photo
    assert selected(page, "Models") == ["EfficientNet-Lite1"]
    assert run_and_read_chart(page, runs) == result  # and on Run, the same answer
    assert_no_exception(page, copied)
    screenshot(page, "classroom-link-opened")
    student.close()


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_each_lesson_walks_end_to_end(page, app_url, lesson):
    runs = open_page(page, app_url + "/lessons")
    runs.do(lambda: page.locator(f".st-key-lesson_start_{lesson.id} button").click())
    panel = page.locator(".st-key-lesson_panel")
    for number, step in enumerate(lesson.steps, 1):
        panel.get_by_text(f"step {number} of {len(lesson.steps)}: {step.title}").wait_for()
        heading(page, HEADINGS[step.page]).wait_for()
        assert f"step={number}" in page.url and f"lesson={lesson.id}" in page.url
        assert_no_exception(page, f"{lesson.id} step {number}")
        assert not panel.get_by_text(step.reveal[:40]).count(), "the answer shows before a guess"
        guess = panel.locator(f".st-key-keep_lesson_guess_{lesson.id}_{number}")
        runs.do(lambda: guess.get_by_text(step.answer, exact=True).click())
        runs.do(lambda: panel.get_by_role("button", name="Lock in my guess").click())
        panel.get_by_text(f"Right: {step.answer}.").wait_for()
        if number == 1:
            screenshot(page, f"lesson-{lesson.id}")
        last = number == len(lesson.steps)
        runs.do(lambda: panel.get_by_role("button", name="Finish" if last else "Next").click())
    heading(page, "Lessons").wait_for()
    assert not page.locator(".st-key-lesson_panel").count()
    assert_no_exception(page, f"{lesson.id} finished")


def test_presenter_view_hides_the_sidebar_and_pins_back_and_next(page, app_url):
    lesson = LESSONS[0]
    runs = open_page(page, app_url + "/vision?sample=chelsea")
    assert page.locator(SIDEBAR).is_visible()
    runs.do(lambda: page.locator(SIDEBAR).get_by_text("Presenter view").click())
    wait_until(page, lambda: page.locator(SIDEBAR).is_hidden(), "the sidebar to hide")
    assert "present=1" in page.url
    assert page.locator(".st-key-keep_vision_runtime").is_hidden()  # a setting, hidden
    assert page.locator(MAIN).get_by_role("button", name="Run", exact=True).is_visible()
    screenshot(page, "presenter-view")
    runs.do(lambda: page.get_by_role("button", name="Leave presenter view").click())
    wait_until(page, lambda: page.locator(SIDEBAR).is_visible(), "the sidebar to come back")
    assert "present=1" not in page.url

    runs = open_page(page, f"{app_url}/vision?present=1&lesson={lesson.id}&step=1")  # a presenter's link
    page.locator(".st-key-lesson_panel").wait_for()
    assert page.locator(SIDEBAR).is_hidden()
    nav = page.locator(".st-key-lesson_nav")
    assert nav.evaluate("e => getComputedStyle(e).position") == "fixed"
    page.locator(MAIN).evaluate("e => e.scrollTo(0, e.scrollHeight)")
    page.mouse.wheel(0, 5000)
    wait_idle(page)
    assert nav.get_by_role("button", name="Next").is_visible()
    assert nav.get_by_role("button", name="Next").bounding_box()["y"] < page.viewport_size["height"]
    runs.do(lambda: nav.get_by_role("button", name="Next").click(), timeout=MODEL_TIMEOUT_MS)
    page.locator(".st-key-lesson_panel").get_by_text("step 2 of").wait_for()
    assert "present=1" in page.url and page.locator(SIDEBAR).is_hidden()
    assert_no_exception(page, "presenter lesson")
