"""UI formatting: latencies below 1 ms keep two significant digits; language codes get their names."""
from __future__ import annotations

import re

import pytest

from components.ui.widgets.format import format_latency_ms, language_name, literal


@pytest.mark.parametrize("ms, shown", [
    (0.42, "0.42 ms"), (0.0071, "0.0071 ms"), (0.007149, "0.0071 ms"), (0.5, "0.5 ms"), (0.123, "0.12 ms"),
    (1.0, "1 ms"), (18.4, "18 ms"), (1234.4, "1,234 ms"), (0.0, "0 ms"),
])
def test_format_latency_ms(ms, shown):
    assert format_latency_ms(ms) == shown


@pytest.mark.parametrize("code, shown", [
    ("fr", "French (fr)"), ("ja", "Japanese (ja)"), ("de", "German (de)"),
    ("als", "Alemannic (als)"),  # fastText uses Wikipedia's code, not ISO 639-3 Tosk Albanian
    ("wuu", "Wu Chinese (wuu)"),
    ("zz", "zz"), ("qqx", "qqx"), ("not a code", "not a code"), ("", ""),
])
def test_language_name(code, shown):
    assert language_name(code) == shown


def test_every_lid176_code_reads_well():
    """Names for the codes fastText lid.176 emits are either real names or the code alone."""
    for code in ("arz", "ckb", "sh", "nah", "eml", "bpy", "yue", "ceb", "war", "pms"):
        shown = language_name(code)
        assert shown == code or (shown.endswith(f" ({code})") and "Unknown" not in shown), shown


@pytest.mark.parametrize("text", ["![t](https://example.invalid/pixel.png)", "[sign in](https://example.invalid)",
                                  "<img src=x> <https://example.invalid> www.example.invalid me@example.invalid",
                                  "\\[a](b) :red[big] $x^2$ ~~gone~~ **bold**", "# heading", "plain: 127.0.0.1:1"])
def test_literal_text_renders_as_itself_without_links_or_images(text):
    from markdown_it import MarkdownIt

    (block,) = [t for t in MarkdownIt("commonmark").parse(literal(text)) if t.type == "inline"]
    assert [child.type for child in block.children] == ["text"]  # no link, image, html, emphasis
    assert block.children[0].content == text
    for autolink in (r"(?<!\\):(?=//)", r"(?i)www\.", r"(?<!\\)@"):  # what GitHub-style autolinks start from
        assert not re.search(autolink, literal(text)), literal(text)
