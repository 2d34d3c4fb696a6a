"""No emoji in the app's sources: Linux machines without an emoji font draw them as empty boxes.

Icons are Streamlit's bundled Material icons (``:material/name:``). Ordinary typography (— × ρ … · → “ ”)
is fine; pictographs, dingbats, arrows-as-icons and the emoji variation selector are not.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Code point ranges that are emoji or pictographs (drawn from an emoji font, or as tofu without one).
EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),  # mahjong .. symbols and pictographs extended-A (faces, objects, flags, circles)
    (0x2600, 0x27BF),    # miscellaneous symbols, dingbats
    (0x2B00, 0x2BFF),    # miscellaneous symbols and arrows (⬇ ⭐ ⬛)
    (0x2300, 0x23FF),    # miscellaneous technical (⌚ ⏹ ⏩)
    (0x25A0, 0x25FF),    # geometric shapes (▶ ◀ ◻)
    (0x2190, 0x21FF),    # arrows: emoji-capable ones (↕ ↖ ↩); the prose arrows in ALLOWED stay
    (0xFE00, 0xFE0F),    # variation selectors (️ makes the preceding character an emoji)
    (0x200D, 0x200D),    # zero-width joiner (emoji sequences)
    (0x20E3, 0x20E3),    # combining enclosing keycap
    (0xE0020, 0xE007F),  # tag characters (subdivision flags)
    (0x2139, 0x2139),    # information source ℹ
    (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
)
ALLOWED = {"→", "←", "↑", "↓", "↔"}  # typographic arrows in prose (U+2190..2194)


def is_emoji(char: str) -> bool:
    code = ord(char)
    return char not in ALLOWED and any(lo <= code <= hi for lo, hi in EMOJI_RANGES)


def _sources() -> list[Path]:
    files = [ROOT / "app.py", ROOT / "catalog.yaml"]
    for folder in ("app_pages", "components"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if f.is_file()]


def emoji_lines(path: Path) -> list[str]:
    """'file:line: U+XXXX' for every emoji code point in ``path``."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        codes = sorted({f"U+{ord(c):04X}" for c in line if is_emoji(c)})
        if codes:
            found.append(f"{path.relative_to(ROOT)}:{number}: {' '.join(codes)}")
    return found


def test_scanner_tells_emoji_from_typography():
    assert all(is_emoji(c) for c in "🟢🎲✅⚠▶⏹⬇📊🧭ℹ\ufe0f")
    assert not any(is_emoji(c) for c in "—×ρ…·→“”≈÷éĠ今")


def test_sources_have_no_emoji():
    sources = _sources()
    assert len(sources) > 20
    found = [hit for path in sources for hit in emoji_lines(path)]
    if found:
        pytest.fail("emoji draw as empty boxes without an emoji font; use :material/...: icons:\n"
                    + "\n".join(found))
