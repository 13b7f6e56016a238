"""The web in English and Simplified Chinese: Babel's message catalogues,
chosen from ``Accept-Language`` unless the visitor picked a language (a
cookie set by the switch on every page).

The catalogues are ``locale/<locale>/LC_MESSAGES/messages.po``, compiled in
memory when the server starts, so that a translator edits one text file and
no build step stands between it and the page. English is the source
language: a message without a translation shows in English.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("en", "zh_Hans")
DEFAULT_LOCALE = "en"
LANGUAGE_COOKIE = "lang"
_CATALOGUES = Path(__file__).parent / "locale"


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of one locale (English needs none)."""
    path = _CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def negotiate(accept_language: str | None, chosen: str | None) -> str:
    """The visitor's choice if it is one we have, else the best match for
    ``Accept-Language`` (any Chinese reads Simplified), else English."""
    if chosen in LOCALES:
        return chosen
    for tag in _preferred(accept_language or ""):
        language = tag.split("-")[0].lower()
        if language == "zh":
            return "zh_Hans"
        if language == "en":
            return "en"
    return DEFAULT_LOCALE


def _preferred(header: str) -> list[str]:
    """Language tags of an ``Accept-Language`` header, most wanted first."""
    weighted = []
    for index, part in enumerate(header.split(",")):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            weight = 0.0
        if tag and weight > 0:
            weighted.append((-weight, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def html_lang(locale: str) -> str:
    """The page's ``lang`` attribute: a BCP 47 tag."""
    return "zh-Hans" if locale == "zh_Hans" else "en"


def language_name(locale: str) -> str:
    """A language named in itself, for the switch."""
    return str(Locale.parse(locale).get_display_name(locale))


def when(moment: datetime | None, locale: str) -> str:
    """A date and time as the visitor reads them (UTC, said so)."""
    if moment is None:
        return ""
    return format_datetime(moment, "medium", tzinfo=moment.tzinfo, locale=locale) + " UTC"


def number(value: float | int | None, locale: str) -> str:
    return "" if value is None else format_decimal(value, locale=locale)


__all__ = [
    "DEFAULT_LOCALE",
    "LANGUAGE_COOKIE",
    "LOCALES",
    "html_lang",
    "language_name",
    "negotiate",
    "number",
    "translations",
    "when",
]
