"""Arabic-aware normalisation for search.

Stored ``search_text`` and every query go through :func:`normalize_search`, so "احمد"
finds "أحمد", "٠١٠" finds "010" and capitals do not matter.
"""

from __future__ import annotations

import re
import unicodedata

# Harakat, Quranic marks, superscript alef and tatweel carry no meaning for search.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        # Arabic-Indic and Eastern Arabic-Indic (Persian) digits.
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)
_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D")


def normalize_search(text: str | None) -> str:
    """Return the canonical search form of ``text`` (see DESIGN.md, "Search")."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _DIACRITICS.sub("", text)
    text = text.translate(_LETTERS).lower()
    return _SPACES.sub(" ", text).strip()


def phone_digits(phone: str | None) -> str:
    """Digits of a phone number, Arabic-Indic digits converted, everything else dropped."""
    if not phone:
        return ""
    return _NON_DIGITS.sub("", normalize_search(phone))


def build_search_text(*parts: str | None) -> str:
    """Join the normalised parts a record is found by into one stored string."""
    return " ".join(p for p in (normalize_search(part) for part in parts) if p)
