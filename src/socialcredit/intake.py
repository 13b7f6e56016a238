"""Turning reported lines (CSV rows, JSON objects, API bodies) into validated records.

Every refusal names the field and the rule broken. Nothing here writes: the
caller batches what passes and hands it to the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from socialcredit.identity import (
    SUBJECT_KINDS,
    Identifier,
    IdentifierError,
    Pseudonymiser,
    parse_identifier,
)
from socialcredit.ledger.chain import canonical
from socialcredit.ledger.model import Record
from socialcredit.ledger.store import NewRecord, SubjectRow
from socialcredit.registry import Registry

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
MAX_ID_LENGTH = 200
CLOCK_SKEW = timedelta(minutes=5)  # a reporter's clock may run a little ahead of ours


class RecordError(ValueError):
    """A reported record that breaks a rule; ``field`` names where."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


def parse_time(value: Any, field: str) -> datetime:
    """ISO-8601 date or date-time; a time without an offset is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise RecordError(field, f"{value!r} is not an ISO-8601 date or time") from None
    else:
        raise RecordError(field, "must be an ISO-8601 date or time")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(slots=True)
class RecordIntake:
    """Validates record lines against the registry, hashing each subject once."""

    registry: Registry
    pseudonymiser: Pseudonymiser
    now: datetime
    _subjects: dict[tuple[str, str | None], SubjectRow] | None = None

    def subject_row(self, text: str, kind: str | None) -> SubjectRow:
        if self._subjects is None:
            self._subjects = {}
        cache_key = (text, kind)
        row = self._subjects.get(cache_key)
        if row is None:
            identifier = _identifier(text, kind)
            row = SubjectRow(
                self.pseudonymiser.subject_key(identifier), identifier.kind, identifier.masked()
            )
            if len(self._subjects) > 200_000:
                self._subjects.clear()
            self._subjects[cache_key] = row
        return row

    def parse(self, line: Mapping[str, Any]) -> NewRecord:
        for name in RECORD_FIELDS:
            if name not in OPTIONAL_FIELDS and _blank(line.get(name)):
                raise RecordError(name, "is required")
        unknown = set(line) - set(RECORD_FIELDS) - OPTIONAL_FIELDS
        if unknown:
            raise RecordError(sorted(unknown)[0], "is not a record field")
        record_id = _text(line["id"], "id")
        if len(record_id) > MAX_ID_LENGTH or any(c.isspace() for c in record_id):
            raise RecordError("id", f"must be at most {MAX_ID_LENGTH} characters with no spaces")
        history = self.registry.schemes.get(_text(line["scheme"], "scheme"))
        if history is None:
            raise RecordError("scheme", f"unknown scheme {line['scheme']!r}")
        scheme = history.current
        code = _text(line["category"], "category")
        category = scheme.categories.get(code)
        if category is None:
            raise RecordError("category", f"scheme {scheme.id!r} has no category {code!r}")
        kind = _optional(line.get("subject_kind"))
        subject = self._subject(line["subject"], kind, scheme.definition.subjects)
        if subject.kind not in scheme.definition.subjects:
            rated = ", ".join(scheme.definition.subjects)
            raise RecordError(
                "subject", f"a {subject.kind} is not rated by {scheme.id!r} (it rates: {rated})"
            )
        occurred_at = parse_time(line["occurred_at"], "occurred_at")
        reported_text = _optional(line.get("reported_at"))
        reported_at = parse_time(reported_text, "reported_at") if reported_text else self.now
        if reported_at < occurred_at:
            raise RecordError(
                "reported_at", "is before occurred_at: a record is reported after it occurs"
            )
        if reported_at > self.now + CLOCK_SKEW:
            raise RecordError("reported_at", "is in the future")
        reporter = _text(line["reporter"], "reporter")
        evidence = _optional(line.get("evidence"))
        record = Record(
            id=record_id,
            subject=subject.key,
            scheme=scheme.id,
            scheme_version=scheme.version,
            category=code,
            occurred_at=occurred_at,
            reported_at=reported_at,
            expires_at=category.validity.after(occurred_at),
            points=category.points,
            reporter=reporter,
            evidence=evidence,
        )
        fingerprint = hashlib.sha256(
            canonical((scheme.id, code, subject.key, occurred_at.isoformat(),
                       reported_text or "", reporter, evidence))
            .encode()
        ).hexdigest()  # fmt: skip
        return NewRecord(record, subject, fingerprint)

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


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordError(field, "must be text")
    return str(value).strip()


def _optional(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
