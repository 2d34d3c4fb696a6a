"""How figures, codes and outside text read in the UI: latencies, language codes, user / link text."""
from __future__ import annotations

import re
from functools import lru_cache

# fastText lid.176 uses Wikipedia's codes: a few mean another language than in ISO 639 (or are retired).
_WIKIPEDIA_CODES = {"als": "Alemannic", "eml": "Emilian-Romagnol", "sh": "Serbo-Croatian", "diq": "Zazaki",
                    "bh": "Bihari"}


# What can make Markdown text into a link, an image, HTML, a directive, maths or struck-through text: brackets,
# angle brackets, the escape character itself, $, ~, *, an e-mail's @, and the "://" / "www." of GFM autolinks.
_MARKDOWN_ACTIVE = re.compile(r"[\\*~\[\]<>$@]|:(?=//)|(?<=www)\.|^#", re.IGNORECASE)


def literal(text: object) -> str:
    """``text`` from outside the app (a link's value, a file name, a query, an error that quotes either) for
    st.markdown / st.error / st.caption / …: one line, with every character that could make a link, image,
    HTML, emphasis, maths or Streamlit directive of it backslash-escaped (shown as itself). Short link values
    in notes use ``share_codecs.quoted`` (a code span) instead."""
    return _MARKDOWN_ACTIVE.sub(lambda found: "\\" + found.group(0), " ".join(str(text).split()))


def format_latency_ms(ms: float) -> str:
    """'1,234 ms' / '18 ms' from 1 ms up; below, two significant digits ('0.42 ms', '0.0071 ms')."""
    if ms >= 1 or ms <= 0:
        return f"{ms:,.0f} ms"
    return f"{float(f'{ms:.2g}'):f}".rstrip("0").rstrip(".") + " ms"


@lru_cache(maxsize=512)
def language_name(code: str) -> str:
    """'French (fr)' for a language code; the code alone when no name is known."""
    name = _WIKIPEDIA_CODES.get(code)
    if name is None and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", code):
        try:
            import langcodes

            language = langcodes.Language.get(code)
            name = language.display_name() if language.is_valid() else None
        except (ImportError, ValueError, LookupError):
            name = None
    if not name or name.startswith("Unknown language"):
        return code
    return f"{name} ({code})"
