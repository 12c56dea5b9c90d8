"""The Arabic catalogue is complete, up to date with the code, compiled, and used by the pages.

Regenerate with `make messages` (GNU gettext needed: apt-get install gettext), translate what is new
following docs/TRANSLATION.md, and commit both django.po and django.mo.
"""

from __future__ import annotations

import gettext as gnu_gettext
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from crm_core.accounts.models import Role
from crm_core.common.templatetags.crm import money
from crm_core.orders.models import OrderStatus

BASE_DIR = Path(settings.BASE_DIR)
PO_PATH = BASE_DIR / "locale" / "ar" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
FIX = "Run `make messages`, translate the new entries (docs/TRANSLATION.md) and commit django.po and django.mo."

# The Arabic plural rule. Django's own catalogue (and so ours, which makemessages copies it from)
# spells the 4th branch "n%100>=11 && n%100<=99", the same function: test_plural_forms_header checks.
ARABIC_PLURAL = "n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5"
# One number for each of the six Arabic plural forms, in msgstr[] order.
PLURAL_SAMPLES = (0, 1, 2, 3, 11, 100)

# Entries whose Arabic text may equal the English one: nothing but placeholders and symbols.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|\{\w*\}|<[^>]+>")

# One Arabic term per concept (docs/TRANSLATION.md): an English word in the msgid asks for its term.
GLOSSARY = {
    r"\binspectors?\b": r"معاين",
    r"\bdispatchers?\b": r"منسق",
    r"\bwarehouses?\b": r"مخزن|مخازن",
    r"\bstorekeepers?\b": r"أمين المخزن",
    r"\bsales(person|people)\b": r"مندوب",
    r"\breorder level\b": r"حد إعادة الطلب",
    r"\bno-show\b|\bno show\b|\bnot present\b": r"لم يحضر|عدم حضور",
    r"\bbranch(es|'s)?\b": r"فرع|فروع",
    r"\bnotifications?\b": r"إشعار",
}


def _require_gettext_tools() -> None:
    """GNU gettext is a build dependency of the catalogue: fail, never skip, without it."""
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq", "msgfmt") if shutil.which(tool) is None]
    assert not missing, (
        f"GNU gettext tools missing: {', '.join(missing)}. Install them (apt-get install gettext); "
        ".ci/run does this in CI."
    )


def _key(entry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _describe(keys) -> str:
    return "\n".join(f"  {msgid!r}" + (f" [context {ctx!r}]" if ctx else "") for ctx, msgid, _ in sorted(keys))


def _format_flags(entry) -> frozenset[str]:
    return frozenset(flag for flag in entry.flags if flag.endswith("-format"))


def _makefile_ignore_patterns() -> list[str]:
    """The --ignore patterns of `make messages`, so this test extracts exactly what the target does."""
    makefile = (BASE_DIR / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^MESSAGES_IGNORE\s*:=(.*)$", makefile, re.MULTILINE)
    assert match, "The Makefile has no MESSAGES_IGNORE for the `messages` target."
    patterns = re.findall(r"--ignore=(\S+)", match.group(1))
    assert patterns, "MESSAGES_IGNORE lists no --ignore patterns."
    return patterns


@pytest.fixture(scope="module")
def po() -> polib.POFile:
    assert PO_PATH.is_file(), f"{PO_PATH} is missing. {FIX}"
    return polib.pofile(str(PO_PATH))


# --- (a) complete ---------------------------------------------------------------------------------


def test_plural_forms_header(po):
    assert po.metadata.get("Language") == "ar"
    header = po.metadata.get("Plural-Forms", "")
    match = re.fullmatch(r"\s*nplurals=(\d+);\s*plural=(.+?);?\s*", header)
    assert match, f"Malformed Plural-Forms header: {header!r}"
    assert match.group(1) == "6"
    committed = gnu_gettext.c2py(match.group(2))
    expected = gnu_gettext.c2py(ARABIC_PLURAL)
    wrong = [n for n in range(1000) if committed(n) != expected(n)]
    assert not wrong, f"The plural rule differs from Arabic's for n = {wrong[:10]}"
    assert [expected(n) for n in PLURAL_SAMPLES] == [0, 1, 2, 3, 4, 5]


def test_every_entry_is_translated_and_none_is_fuzzy(po):
    assert len(po) > 500, "The catalogue is suspiciously small."
    assert not po.metadata_is_fuzzy, "The header is still marked fuzzy."
    fuzzy = [_key(entry) for entry in po.fuzzy_entries()]
    obsolete = [_key(entry) for entry in po.obsolete_entries()]
    untranslated = [_key(e) for e in po if not e.obsolete and "fuzzy" not in e.flags and not e.translated()]
    short_plurals = [
        _key(entry)
        for entry in po
        if entry.msgid_plural and sorted(k for k, v in entry.msgstr_plural.items() if v.strip()) != list(range(6))
    ]
    problems = {
        "Fuzzy entries (gettext's guesses: check each, then remove the fuzzy flag)": fuzzy,
        "Untranslated entries": untranslated,
        "Plural entries without all six Arabic forms": short_plurals,
        "Obsolete entries (drop them with --no-obsolete)": obsolete,
    }
    report = "\n".join(f"{title}:\n{_describe(keys)}" for title, keys in problems.items() if keys)
    assert not report, f"{report}\n{FIX}"


def test_no_entry_is_left_in_english(po):
    english = []
    for entry in po:
        texts = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for text in texts:
            if re.search(r"[A-Za-z]{3,}", PLACEHOLDER.sub("", entry.msgid)) and text.strip() == entry.msgid.strip():
                english.append(_key(entry))
    assert not english, f"Entries whose 'translation' is the English text:\n{_describe(english)}"


def test_terms_follow_the_glossary(po):
    off = []
    for entry in po:
        source = PLACEHOLDER.sub("", f"{entry.msgid} {entry.msgid_plural}").lower()
        texts = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for english, arabic in GLOSSARY.items():
            if re.search(english, source) and not all(re.search(arabic, text) for text in texts):
                off.append((entry.msgid, arabic))
    assert not off, "Translations that do not use the glossary term:\n" + "\n".join(
        f"  {msgid!r} should use {arabic!r}" for msgid, arabic in off
    )


# --- (b) up to date with the code -----------------------------------------------------------------


def _copy_sources(destination: Path) -> None:
    """The files makemessages reads (.py, .html, .txt), without the committed catalogue."""

    skipped_dirs = {"__pycache__", "locale", "node_modules", "staticfiles", "media"}

    def ignore(directory: str, names: list[str]) -> set[str]:
        def skip(name: str) -> bool:
            if name.startswith(".") or name in skipped_dirs:
                return True
            path = Path(directory) / name
            return path.is_file() and path.suffix not in {".py", ".html", ".txt"}

        return {name for name in names if skip(name)}

    shutil.copytree(BASE_DIR, destination, ignore=ignore, symlinks=True)


def test_catalogue_has_every_string_of_the_code(po, tmp_path, monkeypatch):
    _require_gettext_tools()
    source = tmp_path / "src"
    _copy_sources(source)
    locale_dir = source / "locale"
    monkeypatch.chdir(source)
    with override_settings(LOCALE_PATHS=[locale_dir]):
        call_command(
            "makemessages",
            locale=["ar"],
            no_location=True,
            no_obsolete=True,
            ignore_patterns=_makefile_ignore_patterns(),
            verbosity=0,
        )
    fresh = polib.pofile(str(locale_dir / "ar" / "LC_MESSAGES" / "django.po"))
    in_code = {_key(entry): _format_flags(entry) for entry in fresh}
    committed = {_key(entry): _format_flags(entry) for entry in po if not entry.obsolete}

    missing = in_code.keys() - committed.keys()
    stale = committed.keys() - in_code.keys()
    flags_changed = [key for key in in_code.keys() & committed.keys() if in_code[key] != committed[key]]
    problems = {
        "Strings in the code that django.po does not have": missing,
        "Entries of django.po no longer in the code": stale,
        "Entries whose format flags changed": flags_changed,
    }
    report = "\n".join(f"{title}:\n{_describe(keys)}" for title, keys in problems.items() if keys)
    assert not report, f"{report}\n{FIX}"


def test_no_javascript_catalogue_is_needed():
    """Pages hand their texts to the scripts in data- attributes; a gettext() call would need djangojs."""
    calls = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path in sorted((BASE_DIR / "static" / "js").glob("*.js"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\b(gettext|ngettext|pgettext|npgettext|interpolate)\s*\(", line)
    ]
    assert not calls, "JavaScript translation calls need a djangojs catalogue (makemessages -d djangojs): " + ", ".join(
        calls
    )


# --- (c) compiled from the current .po ------------------------------------------------------------


def _catalogue(mo: polib.MOFile) -> dict:
    entries = {}
    for entry in mo:
        if entry.msgid_plural:
            entries[_key(entry)] = tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural))
        else:
            entries[_key(entry)] = entry.msgstr
    return {"metadata": dict(mo.metadata), "entries": entries}


def test_mo_is_compiled_from_the_current_po(tmp_path):
    _require_gettext_tools()
    assert MO_PATH.is_file(), f"{MO_PATH} is missing. {FIX}"
    compiled = tmp_path / "django.mo"
    result = subprocess.run(  # the same msgfmt checks compilemessages runs, plus the header and domain
        ["msgfmt", "--check", "-o", str(compiled), str(PO_PATH)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"msgfmt --check refuses django.po:\n{result.stderr}"
    expected = _catalogue(polib.mofile(str(compiled)))
    committed = _catalogue(polib.mofile(str(MO_PATH)))
    assert committed["metadata"] == expected["metadata"], f"django.mo was compiled from another django.po. {FIX}"
    changed = {
        key
        for key in expected["entries"].keys() | committed["entries"].keys()
        if expected["entries"].get(key) != committed["entries"].get(key)
    }
    assert not changed, f"django.mo differs from django.po for:\n{_describe(changed)}\n{FIX}"


def test_django_serves_every_translation_of_the_po(po):
    """What Django loads at run time is the committed catalogue, not shadowed by another one."""
    wrong = []
    with translation.override("ar"):
        for entry in po:
            if entry.msgid_plural:
                for n, index in zip(PLURAL_SAMPLES, range(6), strict=True):
                    if entry.msgctxt:
                        got = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    else:
                        got = translation.ngettext(entry.msgid, entry.msgid_plural, n)
                    if got != entry.msgstr_plural[index]:
                        wrong.append(_key(entry))
            else:
                got = (
                    translation.pgettext(entry.msgctxt, entry.msgid)
                    if entry.msgctxt
                    else translation.gettext(entry.msgid)
                )
                if got != entry.msgstr:
                    wrong.append(_key(entry))
    assert not wrong, f"Django does not serve the .po's translation for:\n{_describe(set(wrong))}\n{FIX}"


# --- the pages speak Arabic -----------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_page_is_arabic_by_default_and_english_on_request(client):
    arabic = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="ar" dir="rtl"' in arabic
    assert "تسجيل الدخول" in arabic and "كلمة المرور" in arabic
    assert "Sign in" not in arabic

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("accounts:login")).content.decode()
    assert "Sign in" in english and "تسجيل الدخول" not in english


@pytest.mark.django_db
def test_navigation_and_dashboard_are_arabic(client, personas):
    client.force_login(personas.owner)
    pages = {}
    for language in ("ar", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        pages[language] = client.get(reverse("dashboard")).content.decode()
    for arabic, english in (("لوحة التحكم", "Dashboard"), ("العملاء", "Customers"), ("تسجيل الخروج", "Sign out")):
        assert english in pages["en"] and arabic not in pages["en"], english
        assert arabic in pages["ar"] and english not in pages["ar"], arabic


@pytest.mark.django_db
def test_form_errors_are_arabic(client, personas):
    client.force_login(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    response = client.post(reverse("customers:create"), {"name": "سارة", "kind": "individual", "phone": "abc"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "استخدم الأرقام والمسافات والرموز + - ( ) فقط في رقم الهاتف." in content
    assert "Use digits, spaces" not in content


ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
# Internal fields with no verbose_name of their own (so their label is the English field name); they
# are not in any form. Giving them one needs a model change and a migration in the owning app.
UNLABELLED_FIELDS = {
    ("Counter", "key"),  # the Counter admin labels its columns itself
    ("Counter", "value"),
    ("Notification", "target_type"),
    ("Notification", "target_id"),
}


def test_every_model_label_and_choice_is_arabic():
    """Catches labels that were never marked for translation, which makemessages cannot see."""
    english = []
    with translation.override("ar"):
        for config in apps.get_app_configs():
            if not config.name.startswith(("crm_core.", "realtime", "consumers")):
                continue
            labels = [(config.name, "app", config.verbose_name)]
            for model in config.get_models():
                name = model.__name__
                labels += [(name, "meta", model._meta.verbose_name), (name, "meta", model._meta.verbose_name_plural)]
                for field in model._meta.get_fields():
                    if field.auto_created or not getattr(field, "editable", False):
                        continue
                    if (name, field.name) not in UNLABELLED_FIELDS:
                        labels.append((name, field.name, field.verbose_name))
                    labels += [(name, field.name, label) for _, label in field.flatchoices]
            english += [
                (where, what, str(label)) for where, what, label in labels if not ARABIC_LETTER.search(str(label))
            ]
    assert not english, "Labels shown in English on Arabic pages:\n" + "\n".join(f"  {item}" for item in english)


def test_roles_statuses_and_money_are_arabic():
    with translation.override("ar"):
        assert [str(role.label) for role in (Role.ADMIN, Role.MANAGER, Role.INSPECTOR)] == [
            "مسؤول النظام",
            "المدير",
            "المعاين",
        ]
        assert str(OrderStatus.SHIPPED.label) == "تم الشحن"
        assert money(Decimal("1500")).endswith("ج.م")
    with translation.override("en"):
        assert money(Decimal("1500")).endswith("EGP")
