"""Fixtures for the real-browser tests: one app server and one chromium for the whole session.

* ``app_server``: ``python -m streamlit run app.py`` on a free loopback port (offline, throw-away history),
  healthy within 90 s, its process group killed at the end.
* ``browser``: Debian's ``/usr/bin/chromium`` through Playwright (never ``playwright install``); every test is
  skipped with the reason when chromium or Playwright is missing.
* ``page``: a fresh browser context per test (its own Streamlit session). When a test fails, a screenshot goes to
  ``tests/screenshots/FAILED-<test>.png`` and the end of the server log is printed.
"""
from __future__ import annotations

import os

import pytest

from . import (
    CHROMIUM,
    SCREENSHOTS,
    AppServer,
    launch_chromium,
    start_app,
    stop_app,
)

VIEWPORT = {"width": 1400, "height": 1000}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _require_browser() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                    "(apt-get install -y chromium; .ci/run installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is missing (pip install -r requirements-dev.txt)")


@pytest.fixture(scope="session")
def playwright_instance():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = launch_chromium(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory) -> AppServer:
    """The app, started once for the session (the tests open deep links such as /vision first)."""
    # the tests' temporary folders are shared, so a test may name one in "Folder with local weights"
    server = start_app(tmp_path_factory.mktemp("app-server"),
                       {"MODEL_EXPLORER_DATA_ROOTS": str(tmp_path_factory.getbasetemp())})
    try:
        yield server
    finally:
        stop_app(server)


@pytest.fixture(scope="session")
def app_url(app_server) -> str:
    return app_server.base_url


@pytest.fixture
def page(request, browser, app_server):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
        except Exception:  # noqa: BLE001, S110 - best effort; the test already failed
            pass
        print(f"--- end of the server log ({app_server.log_path}) ---\n{app_server.log()[-4000:]}")
    context.close()
