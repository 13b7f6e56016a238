"""Turning reported lines (CSV rows, JSON objects, API bodies) into validated records.

Every refusal names the field and the rule broken. Nothing here reads a file
or writes: the readers hand over lines (``adapters/files``), and the import
use case batches what passes and hands it to the store.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from socialcredit.domain.fairness.attributes import AuditAttributes, audit_attributes
from socialcredit.domain.identity import (
    SUBJECT_KINDS,
    Identifier,
    IdentifierError,
    Pseudonymiser,
    parse_identifier,
)
from socialcredit.domain.ledger.chain import canonical
from socialcredit.domain.ledger.values import NewRecord, SubjectRow
from socialcredit.domain.registry import Registry
from socialcredit.domain.schemes.durations import Duration
from socialcredit.domain.text import LINE_CONTROL, MAX_ID_LENGTH, MAX_TEXT_LENGTH
from socialcredit.domain.times import parse_time
from socialcredit.errors import InvalidInput
from socialcredit.native import native

RECORD_FIELDS = (
    "id",
    "scheme",
    "category",
    "subject",
    "occurred_at",
    "reported_at",
    "reporter",
    "evidence",
)
OPTIONAL_FIELDS = frozenset({"reported_at", "evidence", "subject_kind"})
CLOCK_SKEW = timedelta(minutes=5)  # a reporter's clock may run a little ahead of ours


# A reported record that breaks a rule: invalid input like any other, whose
# ``field`` names where (a time it gives is refused by ``parse_time`` the same way).
RecordError = InvalidInput


class RecordIntake:
    """Validates record lines against the registry, hashing each subject once."""

    def __init__(
        self,
        registry: Registry,
        pseudonymiser: Pseudonymiser,
        now: datetime,
        attributes: dict[str, AuditAttributes] | None = None,
    ) -> None:
        self.registry = registry
        # Where the fairness audit's attributes of each new person go, while the
        # audit is on (None: not derived at all).
        self.attributes = attributes
        self.pseudonymiser = pseudonymiser
        self.now = now
        self._latest = now + CLOCK_SKEW
        self._subjects: dict[tuple[str, str | None], SubjectRow] = {}
        self._expiry_dates: dict[tuple[str, str], str] = {}
        self._native_table: tuple[Any, ...] | None = None  # built on the first parse

    def subject_row(self, text: str, kind: str | None) -> SubjectRow:
        cache_key = (text, kind)
        row = self._subjects.get(cache_key)
        if row is None:
            identifier = _identifier(text, kind)
            row = SubjectRow(
                self.pseudonymiser.subject_key(identifier), identifier.kind, identifier.masked()
            )
            if self.attributes is not None:
                derived = audit_attributes(identifier, row.key)
                if derived is not None:
                    self.attributes[row.key] = derived
            if len(self._subjects) > 200_000:
                self._subjects.clear()
            self._subjects[cache_key] = row
        return row

    def parse(self, line: Mapping[str, Any]) -> NewRecord:
        """The record a line reports, or a :class:`RecordError` naming field and rule."""
        if native is not None and type(line) is dict:
            table = self.native_table()
            if table:
                found: NewRecord | None = native.parse_common(line, table)
                if found is not None:
                    return found
        return self._parse_common(line) or self._parse_checked(line)

    def native_table(self) -> tuple[Any, ...]:
        """What the C spelling of :meth:`_parse_common` reads: the schemes as
        plain tuples and dicts, and this intake's caches (shared, so that either
        path fills them for both). Empty, and the C path unused, where "now" is
        not a UTC time: the C path compares canonical UTC texts."""
        if self._native_table is not None:
            return self._native_table
        if self.now.tzinfo is not UTC:
            self._native_table = ()
            return ()
        schemes = {}
        for scheme_id, history in self.registry.schemes.items():
            current = history.current
            categories = {
                code: None
                if category.validity.span.seconds or category.validity.span.microseconds
                else (category.points, category.validity.text, code)
                for code, category in current.categories.items()
            }
            schemes[scheme_id] = (
                current.version,
                tuple(current.definition.subjects),
                categories,
                scheme_id,
            )
        # The last three are the C path's own caches, keyed by plain text: the first
        # two it fills from the caches shared with the Python paths.
        self._native_table = (
            # Through a weak proxy: the intake holds this table, and a bound method
            # would make a cycle, which an import (the collector off) never frees.
            schemes,
            self._subjects,
            partial(RecordIntake._first_sight, weakref.proxy(self)),
            self.now.isoformat(),
            self._latest.isoformat(),
            self._expiry_dates,
            NewRecord,
            {},
            {},
            {},
        )
        return self._native_table

    def _parse_common(self, line: Mapping[str, Any]) -> NewRecord | None:
        """The import hot path, for the common shape of line: every field
        already trimmed, times in canonical UTC form, a subject seen before.
        It gives up (returns None) at the first doubt, and the checked path
        then answers, so the two cannot disagree (a property test holds them
        equal on lines of every shape)."""
        get = line.get
        record_id, scheme_id, code = get("id"), get("scheme"), get("category")
        subject_text, occurred_text, reporter = get("subject"), get("occurred_at"), get("reporter")
        reported_text, evidence = get("reported_at"), get("evidence")
        if not (
            type(record_id) is str
            and type(scheme_id) is str
            and type(code) is str
            and type(subject_text) is str
            and type(occurred_text) is str
            and type(reporter) is str
            and reporter
            and not reporter[0].isspace()
            and not reporter[-1].isspace()
            and "subject_kind" not in line
            and (reported_text is None or type(reported_text) is str)
            and (evidence is None or type(evidence) is str)
            and line.keys() <= _ALLOWED
            and 0 < len(record_id) <= MAX_ID_LENGTH
            and not _SPACE.search(record_id)
        ):
            return None
        history = self.registry.schemes.get(scheme_id)
        if history is None:
            return None
        subject = self._subjects.get((subject_text, None)) or self._first_sight(subject_text)
        if subject is None:
            return None
        scheme = history.current
        category = scheme.categories.get(code)
        if category is None or subject.kind not in scheme.definition.subjects:
            return None
        occurred_at = _canonical_time(occurred_text)
        if reported_text:
            reported_at = _canonical_time(reported_text)
            if reported_at is None:
                return None
        else:
            reported_text, reported_at = "", self.now
        if occurred_at is None or not occurred_at <= reported_at <= self._latest:
            return None
        if evidence is not None and (
            not evidence or evidence[0].isspace() or evidence[-1].isspace()
        ):
            return None
        if _CONTROL.search(reporter) or (evidence and _CONTROL.search(evidence)):
            return None
        if len(reporter) > MAX_TEXT_LENGTH or (evidence and len(evidence) > MAX_TEXT_LENGTH):
            return None
        expires_text = self._expiry(category.validity, occurred_text, occurred_at)
        sent = "\x1f".join(
            (
                scheme_id,
                code,
                subject.key,
                occurred_text,
                reported_text,
                reporter,
                evidence or "\x00",
            )
        )
        return _new_record(
            NewRecord,
            (  # tuple.__new__: _make is a Python-level call
                record_id,
                subject,
                scheme_id,
                scheme.version,
                code,
                occurred_text,
                reported_text or reported_at.isoformat(),
                expires_text,
                category.points,
                reporter,
                evidence,
                hashlib.sha256(sent.encode()).hexdigest()[:32],
            ),
        )

    def _first_sight(self, text: str) -> SubjectRow | None:
        """A subject not seen before, as the checked path would read it, when the
        text needs nothing but parsing (one subject in ten is new in a large
        import, and giving up on each sent it through both paths)."""
        if not text or text[0].isspace() or text[-1].isspace() or text.startswith("ext:"):
            return None  # trimming, or a kind taken from the scheme: the checked path's work
        try:
            return self.subject_row(text, None)
        except IdentifierError:
            return None  # the checked path says what is wrong with it

    def _expiry(self, validity: Duration, occurred_text: str, occurred_at: datetime) -> str:
        """``validity.after(occurred_at).isoformat()``. A whole number of days or
        months moves only the date, so the new date is cached per start date and
        the time of day is carried over as text."""
        if validity.span.seconds or validity.span.microseconds:
            return validity.after(occurred_at).isoformat()
        key = (validity.text, occurred_text[:10])
        date = self._expiry_dates.get(key)
        if date is None:
            date = self._expiry_dates[key] = validity.after(occurred_at).isoformat()[:10]
        return date + occurred_text[10:]

    def _parse_checked(self, line: Mapping[str, Any]) -> NewRecord:
        # Every rule, in order, each refusal naming its field.
        if not line.keys() <= _ALLOWED:
            unknown = sorted(set(line) - _ALLOWED)[0]
            shown = unknown if len(unknown) <= 40 and unknown.isprintable() else repr(unknown[:40])
            raise RecordError(shown, "is not a record field")
        record_id = _required(line.get("id"), "id")
        if len(record_id) > MAX_ID_LENGTH or _SPACE.search(record_id):
            raise RecordError("id", f"must be at most {MAX_ID_LENGTH} characters with no spaces")
        scheme_id = _required(line.get("scheme"), "scheme")
        code = _required(line.get("category"), "category")
        subject_text = _required(line.get("subject"), "subject")
        occurred_raw = _required(line.get("occurred_at"), "occurred_at")
        reporter = _required(line.get("reporter"), "reporter")
        history = self.registry.schemes.get(scheme_id)
        if history is None:
            raise RecordError("scheme", f"unknown scheme {scheme_id!r}")
        scheme = history.current
        category = scheme.categories.get(code)
        if category is None:
            raise RecordError("category", f"scheme {scheme.id!r} has no category {code!r}")
        rated = scheme.definition.subjects
        subject = self._subject(subject_text, _optional(line.get("subject_kind")), rated)
        if subject.kind not in rated:
            raise RecordError(
                "subject",
                f"a {subject.kind} is not rated by {scheme.id!r} (it rates: {', '.join(rated)})",
            )
        occurred_at = parse_time(occurred_raw, "occurred_at")
        reported_text = _optional(line.get("reported_at"))
        reported_at = parse_time(reported_text, "reported_at") if reported_text else self.now
        if not reported_text and occurred_at > self._latest:
            raise RecordError("occurred_at", "is in the future")
        if reported_at < occurred_at:
            raise RecordError(
                "reported_at", "is before occurred_at: a record is reported after it occurs"
            )
        if reported_at > self._latest:
            raise RecordError("reported_at", "is in the future")
        evidence = _optional(line.get("evidence"))
        if _CONTROL.search(reporter) or (evidence and _CONTROL.search(evidence)):
            field = "reporter" if _CONTROL.search(reporter) else "evidence"
            raise RecordError(field, "must not contain control characters")
        if len(reporter) > MAX_TEXT_LENGTH or (evidence and len(evidence) > MAX_TEXT_LENGTH):
            field = "reporter" if len(reporter) > MAX_TEXT_LENGTH else "evidence"
            raise RecordError(field, f"must be at most {MAX_TEXT_LENGTH} characters")
        occurred_text = _canonical(occurred_raw, occurred_at)
        sent_reported = _canonical(reported_text, reported_at) if reported_text else ""
        # What the reporter sent (times canonical), so a repeat can be told from
        # a conflicting reuse of the id; a reported_at we filled in is not part of it.
        sent = canonical(
            (scheme.id, code, subject.key, occurred_text, sent_reported, reporter, evidence)
        )
        return NewRecord._make(
            (
                record_id,
                subject,
                scheme.id,
                scheme.version,
                code,
                occurred_text,
                sent_reported or reported_at.isoformat(),
                category.validity.after(occurred_at).isoformat(),
                category.points,
                reporter,
                evidence,
                hashlib.sha256(sent.encode()).hexdigest()[:32],
            )
        )

    def _subject(self, value: Any, kind: str | None, rated: tuple[str, ...]) -> SubjectRow:
        text = _text(value, "subject")
        if kind is not None and kind not in SUBJECT_KINDS:
            raise RecordError("subject_kind", f"{kind!r} is not one of {', '.join(SUBJECT_KINDS)}")
        if kind is None and text.startswith("ext:") and len(rated) == 1:
            kind = rated[0]  # an ext: identifier in a scheme that rates one kind
        try:
            return self.subject_row(text, kind)
        except IdentifierError as error:
            raise RecordError("subject", str(error)) from None


def _identifier(text: str, kind: str | None) -> Identifier:
    return parse_identifier(text, kind)  # type: ignore[arg-type]


_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00")


def _canonical_time(text: str) -> datetime | None:
    """The UTC time ``text`` spells, if it is already in the exact form
    ``datetime.isoformat()`` gives, so the text itself can be stored and hashed."""
    shape = _CANONICAL_TIME.fullmatch(text)
    if shape is None or shape.group(1) == ".000000":  # isoformat drops a zero fraction
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # e.g. month 13
        return None


def _canonical(text: str, moment: datetime) -> str:
    """``moment.isoformat()``, reusing the sender's text when it is already in
    that exact form (a fixed-width UTC time), which saves a formatting call
    per time on the import path."""
    if len(text) == 25 and text[10] == "T" and text.endswith("+00:00"):
        return text
    if (
        len(text) == 32
        and text[10] == "T"
        and text[19] == "."
        and text.endswith("+00:00")
        and moment.microsecond
    ):
        return text
    return moment.isoformat()


_ALLOWED = frozenset(RECORD_FIELDS) | OPTIONAL_FIELDS
_new_record = tuple.__new__
_SPACE = re.compile(r"\s")
_CONTROL = LINE_CONTROL  # the chain hash separates fields with \x1f


def _required(value: Any, field: str) -> str:
    if type(value) is str:
        if value and not value[0].isspace() and not value[-1].isspace():
            return value
        value = value.strip()
        if value:
            return value
        raise RecordError(field, "is required")
    if value is None:
        raise RecordError(field, "is required")
    if type(value) is int:
        return str(value)
    raise RecordError(field, "must be text")


def _text(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordError(field, "must be text")
    return str(value).strip()


def _optional(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# One read line: (line number, its fields) or (line number, why it could not be read).
Line = tuple[int, Mapping[str, Any] | str]
# One validated line: (line, record fields) or (line, None, record id, reason).
Parsed = tuple[int, NewRecord] | tuple[int, None, str | None, str]


def validate_lines(lines: Iterable[Line], intake: RecordIntake) -> Iterator[Parsed]:
    """Each read line as a record ready to append, or as a refusal with its reason."""
    for number, fields in lines:
        yield judged(intake, number, fields)


def judged(intake: RecordIntake, number: int, fields: Mapping[str, Any] | str) -> Parsed:
    if isinstance(fields, str):
        return number, None, None, fields
    try:
        return number, intake.parse(fields)
    except RecordError as error:
        value = fields.get("id")
        return number, None, str(value) if value not in (None, "") else None, str(error)
