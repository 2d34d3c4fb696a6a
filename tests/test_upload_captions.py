"""A file name is shown as itself under its picture: image captions render Markdown, so a name that is an image
link (or a link, emphasis) must not become one."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
NAME = "![](https://example.invalid/p.png).jpg"
MARKDOWN_IMAGE = re.compile(r"!\[|(?<!\\)\]\(")  # "![" or "](" unescaped


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 100, 50)).save(buffer, format="PNG")
    return buffer.getvalue()


def image_captions(at: AppTest) -> list[str]:
    """The captions under every st.image of the page."""
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


def assert_shown_as_text(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    shown = [c for c in image_captions(at) if "example.invalid" in c]
    assert shown, image_captions(at)
    assert not any(MARKDOWN_IMAGE.search(c) for c in shown), shown


@pytest.mark.parametrize(("page", "key"), [("app_pages/vision.py", "vision_input_upload"),
                                           ("app_pages/multimodal.py", "multimodal_input_upload")])
def test_an_uploaded_file_name_is_no_image_markdown(page, key):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page(page)
    at.run()
    at.file_uploader(key=key).set_value((NAME, _png(), "image/png"))
    at.run()
    assert_shown_as_text(at)


def _try_image_page() -> None:
    from components.ui.views.adapt import _try_image

    _try_image()


def test_adapt_try_image_name_is_no_image_markdown():
    at = AppTest.from_function(_try_image_page, default_timeout=60)
    at.run()
    at.file_uploader(key="adapt_try_image").set_value((NAME, _png(), "image/png"))
    at.run()
    assert_shown_as_text(at)
