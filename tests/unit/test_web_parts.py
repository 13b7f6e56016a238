"""The web's pure parts: the language chosen, the session cookie, where a
sign-in may send the visitor, the sign-in limit, the score chart, and the
Chinese catalogue, which must translate every message the pages use."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from conftest import at, record, scheme
from conftest import history as history_of
from socialcredit.entrypoints.web import i18n
from socialcredit.entrypoints.web.chart import score_chart
from socialcredit.entrypoints.web.security import Sessions, SignInLimit, csrf_ok
from socialcredit.entrypoints.web.signin import safe_next

WEB = Path(__file__).parents[2] / "src" / "socialcredit" / "entrypoints" / "web"


@pytest.mark.parametrize(
    ("header", "chosen", "locale"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh_Hans"),
        ("zh-TW", None, "zh_Hans"),
        ("en-GB,en;q=0.9", None, "en"),
        ("fr-FR,fr;q=0.9,zh;q=0.5", None, "zh_Hans"),
        ("fr-FR", None, "en"),
        (None, None, "en"),
        ("zh-CN", "en", "en"),  # the switch wins over the browser
        ("en;q=0.2,zh;q=0.8", None, "zh_Hans"),
        ("zh;q=0", None, "en"),
    ],
)
def test_the_language_follows_the_switch_then_accept_language(
    header: str | None, chosen: str | None, locale: str
) -> None:
    assert i18n.negotiate(header, chosen) == locale


def test_a_session_cookie_is_signed_and_a_tampered_one_is_a_fresh_session() -> None:
    sessions = Sessions(b"k" * 32, secure=True)
    signed = sessions.signed_in("key1")
    read = sessions.read(sessions.cookie(signed))
    assert (read.key_id, read.csrf, read.fresh) == ("key1", signed.csrf, False)
    tampered = sessions.cookie(signed)[:-2] + "xx"
    assert sessions.read(tampered).key_id is None and sessions.read(tampered).fresh
    other = Sessions(b"j" * 32, secure=True)
    assert other.read(sessions.cookie(signed)).key_id is None  # another server's key
    assert csrf_ok(read, signed.csrf) and not csrf_ok(read, "") and not csrf_ok(read, "x")
    assert sessions.signed_in("key1").csrf != signed.csrf  # a new token at each sign-in


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/me", "/me"),
        ("/console/cases/c1", "/console/cases/c1"),
        ("//evil.example/", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("", None),
        (None, None),
    ],
)
def test_a_sign_in_sends_the_visitor_only_to_this_site(
    target: str | None, kept: str | None
) -> None:
    assert safe_next(target) == kept


def test_sign_in_attempts_are_limited_per_client() -> None:
    limit = SignInLimit(attempts=3, window_s=60)
    for _ in range(3):
        assert limit.allowed("10.0.0.1")
        limit.failed("10.0.0.1")
    assert not limit.allowed("10.0.0.1")
    assert limit.allowed("10.0.0.2")  # another client is not held up


def test_the_chart_steps_through_the_history_with_bands_and_causes() -> None:
    city = scheme(
        """\
score: {base: 100}
grades: [{name: A, min: 90}, {name: B, min: 50}, {name: C}]
categories:
  - {code: fine, title: Fine, points: -20, severity: general, validity: P1Y}
"""
    )
    fine = record(history_of(city), "fine", at(2025, 3, 1), id="f1")
    history = [(at(2025, 1, 1), 100, "A"), (at(2025, 3, 1), 80, "B")]
    chart = score_chart(history, city.grades, [fine], at(2025, 6, 1))
    assert chart is not None
    assert [b.grade for b in chart.bands] == ["A", "B", "C"]
    assert [(m.score, m.causes) for m in chart.marks] == [(100, ()), (80, ("f1",))]
    # Starts at the first change, steps down at the fine, runs on to now.
    assert re.fullmatch(r"M48\.0,[\d.]+H[\d.]+V[\d.]+H624\.0", chart.path), chart.path
    first, second = chart.marks
    assert first.y < second.y  # a lower score is lower on the chart
    assert score_chart([(at(2025, 1, 1), None, None)], city.grades, [], at(2025, 2, 1)) is None
    assert chart.end - chart.start == timedelta(days=151)


def test_every_message_of_the_pages_has_a_chinese_translation() -> None:
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    used = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(WEB), method_map, options_map=options, keywords={"_": None, "gettext": None}
        )
    }
    catalogue = read_po(
        io.BytesIO((WEB / "locale" / "zh_Hans" / "LC_MESSAGES" / "messages.po").read_bytes())
    )
    translated = {m.id: m.string for m in catalogue if m.id}
    assert len(used) > 100
    missing = sorted(m for m in used if not translated.get(m))
    assert missing == [], "untranslated: run pybabel extract -F babel.cfg and translate"
    for message, translation in translated.items():
        names = re.findall(r"%\((\w+)\)s", message)
        assert sorted(names) == sorted(re.findall(r"%\((\w+)\)s", translation)), message
    assert sorted(set(translated) - used) == [], "translations of messages no page uses"
