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
# ASCII only: ``\D`` would keep digits of other scripts (Devanagari, Bengali…) in a phone number.
_NON_DIGITS = re.compile(r"[^0-9]")


def normalize_search(text: str | None) -> str:
    """Return the canonical search form of ``text`` (see DESIGN.md, "Search")."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _DIACRITICS.sub("", text)
    text = text.translate(_LETTERS).lower()
    # Removing a tatweel or a haraka can bring a base letter next to a combining mark
    # ("A" + "ـ" + "\u0301"): compose again, so normalising twice changes nothing.
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip()


def phone_digits(phone: str | None) -> str:
    """Digits of a phone number, Arabic-Indic digits converted, everything else dropped."""
    if not phone:
        return ""
    return _NON_DIGITS.sub("", normalize_search(phone))


def build_search_text(*parts: str | None) -> str:
    """Join the normalised parts a record is found by into one stored string."""
    return " ".join(p for p in (normalize_search(part) for part in parts) if p)
