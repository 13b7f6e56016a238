"""The rules every text the system takes must keep, written once.

The limits come from ``native/text_rules.h``, which the C accelerator
compiles with; the intake, the HTTP API and the plugins take them from here.
Two kinds of text: a *line* (an id, a name, a reporter, a reference) holds no
control character at all, and a *statement* (what a subject or reviewer
writes) may also hold tabs and line breaks. Neither may hold a lone
surrogate, which neither SQLite's UTF-8 nor PostgreSQL's text can store; the
ledger's hashes separate fields with U+001F, which no text may hold either.
"""

from __future__ import annotations

import re

from socialcredit.errors import UsageError
from socialcredit.native import TEXT_LIMITS

MAX_ID_LENGTH = TEXT_LIMITS["MAX_ID_LENGTH"]
MAX_NAME_LENGTH = TEXT_LIMITS["MAX_NAME_LENGTH"]
MAX_TEXT_LENGTH = TEXT_LIMITS["MAX_TEXT_LENGTH"]
MAX_STATEMENT_LENGTH = TEXT_LIMITS["MAX_STATEMENT_LENGTH"]
MAX_TIME_LENGTH = TEXT_LIMITS["MAX_TIME_LENGTH"]

LINE_FORBIDDEN = "\x00-\x1f\x7f\ud800-\udfff"
STATEMENT_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff"
# Compiled, for the hot paths that search a text themselves (the intake).
LINE_CONTROL = re.compile(f"[{LINE_FORBIDDEN}]")
STATEMENT_CONTROL = re.compile(f"[{STATEMENT_FORBIDDEN}]")
# A path segment such as an id, as a pattern for request schemas (regex escapes,
# not the characters themselves): one or more characters, none a control character.
ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"


def line_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a line of text, or None."""
    if LINE_CONTROL.search(value):
        return "must not contain control characters"
    return None


def statement_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a written statement, or None."""
    if STATEMENT_CONTROL.search(value):
        return "must not contain control characters other than tabs and line breaks"
    return None


def checked_statement(value: str | None, field: str, limit: int = MAX_STATEMENT_LENGTH) -> str:
    """A statement as kept (trimmed), or a :class:`UsageError` naming ``field``."""
    if value is None or not value.strip():
        raise UsageError(f"{field}: is required: say in a sentence or more what and why")
    return _checked(value, field, limit, statement_problem(value))


def checked_line(value: str | None, field: str, limit: int = MAX_TEXT_LENGTH) -> str:
    """A line of text as kept (trimmed), or a :class:`UsageError` naming ``field``."""
    if value is None or not value.strip():
        raise UsageError(f"{field}: is required")
    return _checked(value, field, limit, line_problem(value))


def _checked(value: str, field: str, limit: int, problem: str | None) -> str:
    if len(value) > limit:
        raise UsageError(f"{field}: must be at most {limit:,} characters")
    if problem:
        raise UsageError(f"{field}: {problem}")
    return value.strip()


__all__ = [
    "ID_PATTERN",
    "LINE_CONTROL",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_STATEMENT_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_TIME_LENGTH",
    "STATEMENT_CONTROL",
    "checked_line",
    "checked_statement",
    "line_problem",
    "statement_problem",
]
