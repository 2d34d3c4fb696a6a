"""In a real browser: a crafted link's text shows literally in the notes about it: no link to click, no image
the browser fetches (the offline promise holds against a link, too)."""
from __future__ import annotations

from urllib.parse import quote, urlencode, urlparse

import pytest

from . import ALERT, assert_no_exception, open_page, wait_idle
from .network import CutNetwork

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMAGE, LINK = "![x](http://example.com/a.png)", "[click](http://evil)"
CRAFTED = {"models": IMAGE, "sample": LINK, LINK: "1", "lesson": LINK}


def test_a_crafted_links_text_is_shown_as_text_not_as_a_link_or_an_image(page, app_url):
    network = CutNetwork(page.context, allowed_host=urlparse(app_url).hostname)
    open_page(page, f"{app_url}/vision?{urlencode(CRAFTED, quote_via=quote)}")
    wait_idle(page)
    assert_no_exception(page, "vision opened from a crafted link")
    alerts = page.locator(f'[data-testid="stApp"] {ALERT}')
    texts = alerts.all_inner_texts()
    assert sum(IMAGE in t for t in texts) == 1 and sum(LINK in t for t in texts) == 3, texts  # shown literally
    assert alerts.locator("a").count() == 0 and alerts.locator("img").count() == 0
    page.wait_for_timeout(1000)
    assert not [u for u in network.foreign if "example.com" in u or "evil" in u], network.foreign
