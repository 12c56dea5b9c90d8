"""Arabic search normalisation (DESIGN.md "Search"): what staff type must find what was stored."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.common.text import build_search_text, normalize_search, phone_digits


@pytest.mark.parametrize("typed", ["أحمد", "إحمد", "آحمد", "ٱحمد", "احمد"])
def test_every_alef_form_becomes_bare_alef(typed):
    assert normalize_search(typed) == "احمد"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("مصطفى", "مصطفي"),  # alef maqsura → ya
        ("فاطمة", "فاطمه"),  # ta marbuta → ha
        ("مؤمن", "مومن"),  # waw with hamza → waw
        ("هانئ", "هاني"),  # ya with hamza → ya
        ("مُحَمَّد", "محمد"),  # harakat and shadda removed
        ("مـــحـمـد", "محمد"),  # tatweel removed
        ("الرَّحْمٰن", "الرحمن"),  # superscript alef removed
    ],
)
def test_arabic_letter_variants_and_marks(typed, stored):
    assert normalize_search(typed) == stored


def test_arabic_indic_and_persian_digits_become_ascii():
    assert normalize_search("٠١٠") == "010"
    assert normalize_search("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert normalize_search("۰۱۲۳۴۵۶۷۸۹") == "0123456789"


def test_latin_is_lower_cased_and_spaces_collapsed():
    assert normalize_search("  Ahmed   MAHMOUD\tCo. ") == "ahmed mahmoud co."


def test_empty_values():
    assert normalize_search("") == ""
    assert normalize_search(None) == ""
    assert phone_digits(None) == ""
    assert phone_digits("") == ""


def test_typed_query_finds_stored_text():
    stored = build_search_text("شركة أحمد للمقاولات", "CAI-C000001", "٠١٠١٢٣٤٥٦٧٨")
    for query in ("احمد", "أحمد", "شركه", "cai-c000001", "01012345678"):
        assert normalize_search(query) in stored


def test_build_search_text_skips_blank_parts():
    assert build_search_text("أحمد", "", None, "  ", "Cairo") == "احمد cairo"


@pytest.mark.parametrize(
    ("phone", "digits"),
    [
        ("٠١٠ ١٢٣٤ ٥٦٧٨", "01012345678"),
        ("+20 (10) 1234-5678", "201012345678"),
        ("۰۱۰۱۲۳۴۵۶۷۸", "01012345678"),
        ("010.1234.5678 ext", "01012345678"),
        ("０１０１２３", "010123"),  # full-width digits from a phone keyboard
        ("१२३४५६७", ""),  # digits of other scripts are not phone digits
    ],
)
def test_phone_digits(phone, digits):
    assert phone_digits(phone) == digits


def _non_space_length(text: str) -> int:
    return len("".join(text.split()))


# What staff type: Arabic letters, harakat, tatweel, both Arabic digit sets, Latin, punctuation.
_TYPED = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0621, max_codepoint=0x0652),
        st.sampled_from("ٰٱ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from("\t\n\u00a0"),
    ),
    max_size=40,
)
# Anything at all, with extra combining marks and tatweel around letters.
_MARKS = st.sampled_from(["\u0640", "\u064e", "\u0651", "\u0670", "\u0301", "\u0308", "\u0327", "\u0307"])
_ANYTHING = st.one_of(st.text(), st.lists(st.one_of(st.characters(), _MARKS), max_size=12).map("".join))


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(_TYPED, _ANYTHING))
def test_normalize_search_is_idempotent(text):
    once = normalize_search(text)
    assert normalize_search(once) == once


@settings(max_examples=400, deadline=None, database=None)
@given(_TYPED)
def test_normalising_typed_text_never_grows_it(text):
    # Compatibility ligatures (ﷺ, ﻻ) expand on purpose, so this holds for typed text only.
    assert _non_space_length(normalize_search(text)) <= _non_space_length(text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_phone_digits_are_ascii_digits_only(text):
    digits = phone_digits(text)
    assert all("0" <= ch <= "9" for ch in digits)
    assert phone_digits(digits) == digits
