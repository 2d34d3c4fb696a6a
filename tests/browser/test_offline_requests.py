"""Offline, verified: with every request beyond the app's own server aborted, no page of the app's navigation
asks for anything else (fonts, CDNs, telemetry), before or after a real run on each playground."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from . import MAIN, MODEL_TIMEOUT_MS, ROOT, assert_no_exception, error_alerts, open_page, tab, wait_idle
from .network import CutNetwork

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAV = '[data-testid="stSidebarNav"]'


def pages_in_app_py() -> set[str]:
    """The page files app.py names (``something.py`` under app_pages/): the navigation must list them all."""
    text = (ROOT / "app.py").read_text(encoding="utf-8")
    return {name for name in re.findall(r"[\"']([\w-]+\.py)[\"']", text) if (ROOT / "app_pages" / name).exists()}


def navigation_links(page) -> list[str]:
    """Every page of st.navigation, as the sidebar lists it (unfolding "View more" when there are many)."""
    nav = page.locator(NAV)
    nav.wait_for()
    more = nav.get_by_role("button", name=re.compile(r"View .*more|Show more", re.I))
    if more.count():
        more.first.click()
    links = nav.locator("a").evaluate_all("links => links.map(a => a.href)")
    return list(dict.fromkeys(links))


def run_sample(page, runs, sample: str, button: str = "Run") -> None:
    """Pick a bundled sample on the Samples tab and press the page's run button."""
    tab(page, "Samples")
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name=sample, exact=True).click())
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name=button, exact=True).click(),
            timeout=2 * MODEL_TIMEOUT_MS)


def run_vision(page, runs) -> None:
    run_sample(page, runs, "chelsea")
    page.locator(MAIN).locator('[data-testid="stMetric"]').filter(has_text="Latency").first.wait_for()
    page.locator(f"{MAIN} .js-plotly-plot .main-svg").first.wait_for()


def run_text(page, runs) -> None:  # the English samples are there from the start
    runs.do(lambda: page.locator(MAIN).get_by_role("button", name="Run", exact=True).click())
    page.locator(MAIN).get_by_text("Cosine similarity of sentence embeddings").first.wait_for()


def run_speech(page, runs) -> None:
    run_sample(page, runs, "clip01", "Transcribe")
    page.locator(MAIN).get_by_text("Transcripts", exact=True).wait_for()


def run_multimodal(page, runs) -> None:
    run_sample(page, runs, "coffee")
    page.locator(MAIN).locator('[data-testid="stMetric"]').filter(has_text="Latency").first.wait_for()


PLAYGROUND_RUNS = {"vision": run_vision, "text": run_text, "speech": run_speech, "multimodal": run_multimodal}


def test_no_page_requests_anything_beyond_the_app_server(page, app_url):
    network = CutNetwork(page.context, allowed_host=urlparse(app_url).hostname)
    open_page(page, app_url + "/")
    links = navigation_links(page)
    assert len(links) >= len(pages_in_app_py()) >= 8, (links, pages_in_app_py())
    visited, ran = [], []
    for link in links:
        runs = open_page(page, link)
        assert_no_exception(page, link)
        name = urlparse(link).path.strip("/") or "home"
        if name in PLAYGROUND_RUNS:
            PLAYGROUND_RUNS[name](page, runs)
            assert_no_exception(page, link)
            assert not error_alerts(page), (link, error_alerts(page))
            ran.append(name)
        wait_idle(page)
        page.wait_for_timeout(1500)  # late fetches (fonts, telemetry) would come now
        visited.append(name)
    assert sorted(ran) == sorted(PLAYGROUND_RUNS), (visited, ran)
    app_requests = [u for u in network.seen if urlparse(u).hostname == urlparse(app_url).hostname]
    assert len(app_requests) > 50 and any("/_stcore/stream" in u for u in app_requests)  # the recorder worked
    assert network.foreign == [], f"requests beyond the app's server: {sorted(set(network.foreign))}"
    print(f"{len(visited)} pages ({', '.join(visited)}), {len(network.seen)} requests, all to {app_url}")


def test_walking_every_lesson_requests_nothing_beyond_the_app_server(page, app_url):
    network = CutNetwork(page.context, allowed_host=urlparse(app_url).hostname)
    runs = open_page(page, app_url + "/lessons")
    starts = page.locator(MAIN).get_by_role("button", name=re.compile(r"Start$"))
    starts.first.wait_for()  # the list can be drawn just after the first run is reported finished
    lessons = starts.count()
    assert lessons >= 3, "the Lessons page lists its lessons with a Start button each"
    steps = 0
    for index in range(lessons):
        runs = open_page(page, app_url + "/lessons")
        runs.do(lambda: page.locator(MAIN).get_by_role("button", name=re.compile(r"Start$")).nth(index).click())
        for _ in range(12):  # Next through the steps; Finish on the last one goes back to the Lessons page
            steps += 1
            assert_no_exception(page, f"lesson {index + 1}, step {steps}")
            forward = page.get_by_role("button", name=re.compile(r"(Next|Finish)$")).first
            last = forward.inner_text().strip().endswith("Finish")
            runs.do(forward.click)
            if last:
                break
        page.locator(MAIN).get_by_role("heading", name=re.compile("Lessons")).first.wait_for()
    page.wait_for_timeout(1500)
    assert steps >= 2 * lessons
    assert network.foreign == [], f"requests beyond the app's server: {sorted(set(network.foreign))}"
    print(f"{lessons} lessons, {steps} steps, {len(network.seen)} requests, all to {app_url}")


def test_usage_statistics_are_off_in_the_apps_config():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
