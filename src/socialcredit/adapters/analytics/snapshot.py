"""The ledger as Parquet: what an analytics engine reads to evaluate the whole
population at once.

A snapshot is a directory with a ``manifest.json`` and one folder per part
(``parts/00001/``), each holding the tables below. A second snapshot into the
same directory writes a new part with only what is new: records not held,
records whose events changed (all their events again), subjects whose consents
changed, enrolments, links, definitions and rescorings not held. Readers take,
for each record's events and each subject's consents, the newest part that has
them (``engine.SqlEngine``). A record erased since an earlier part is rewritten
in that part without its contents.

Subjects appear only as their pseudonymous keys. An erased record carries no
content (its category is empty, as in the ledger), and no record carries its
evidence or reporter: the engines do not need them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from socialcredit.domain.consent import ConsentChange
from socialcredit.domain.consent import periods as consent_periods
from socialcredit.domain.ledger.records import ERASED, Record, RecordEvent
from socialcredit.domain.ledger.values import Link, SubjectLedger
from socialcredit.domain.rights.overrides import Override

FORMAT = 1
MANIFEST = "manifest.json"
TIME = pa.timestamp("us")  # naive UTC: every time in the ledger is UTC

SCHEMAS: dict[str, pa.Schema] = {
    "rec": pa.schema(
        [
            ("record", pa.string()),
            ("subject", pa.string()),
            ("scheme", pa.string()),
            ("version", pa.int64()),
            ("category", pa.string()),
            ("occurred_at", TIME),
            ("reported_at", TIME),
            ("expires_at", TIME),
            ("points", pa.int64()),
        ]
    ),
    # One row per event: the event's status holds from its time until the
    # earliest time of any event appended after it (empty if that is earlier),
    # so that the status at t is the row whose interval holds t.
    "st": pa.schema(
        [
            ("record", pa.string()),
            ("status", pa.string()),
            ("since", TIME),
            ("until", TIME),
            ("events", pa.int64()),
            ("part", pa.int64()),
        ]
    ),
    "enr": pa.schema([("subject", pa.string()), ("scheme", pa.string()), ("enrolled_at", TIME)]),
    # Periods of consent to a scheme's scoring.
    "con": pa.schema(
        [
            ("subject", pa.string()),
            ("scheme", pa.string()),
            ("start_at", TIME),
            ("end_at", TIME),
            ("changes", pa.int64()),
            ("part", pa.int64()),
        ]
    ),
    "defs": pa.schema(
        [
            ("id", pa.string()),
            ("version", pa.int64()),
            ("type", pa.string()),
            ("added_at", TIME),
            ("digest", pa.string()),
            ("body", pa.string()),
        ]
    ),
    "rescorings": pa.schema([("scheme", pa.string()), ("version", pa.int64()), ("at", TIME)]),
    # Businesses' links to the people their list entries reach.
    "links": pa.schema(
        [
            ("business", pa.string()),
            ("person", pa.string()),
            ("role", pa.string()),
            ("since", TIME),
            ("until", TIME),
            ("reported_at", TIME),
        ]
    ),
    # Reviewers' overrides of adverse decisions (without the written reason).
    "ovr": pa.schema(
        [
            ("subject", pa.string()),
            ("action", pa.string()),
            ("effect", pa.string()),
            ("factor", pa.float64()),
            ("since", TIME),
            ("until", TIME),
            ("case_id", pa.string()),
            ("made_at", TIME),
        ]
    ),
}
LEDGER_TABLES = ("rec", "st", "enr", "con")


def naive(moment: datetime | None) -> datetime | None:
    """A time as Parquet keeps it here: UTC, without an offset."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.utcoffset() is not None else moment


def aware(moment: datetime | None) -> datetime | None:
    """A time read back from Parquet, as the domain holds it: UTC, with the offset."""
    return None if moment is None else moment.replace(tzinfo=UTC)


@dataclass
class Columns:
    """Rows of one table gathered as columns, for Arrow."""

    schema: pa.Schema
    values: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = {name: [] for name in self.schema.names}

    def add(self, row: Sequence[Any]) -> None:
        for name, value in zip(self.schema.names, row, strict=True):
            self.values[name].append(value)

    def __len__(self) -> int:
        return len(self.values[self.schema.names[0]])

    def table(self) -> pa.Table:
        return pa.table(self.values, schema=self.schema)


def record_row(record: Record) -> tuple[Any, ...]:
    return (
        record.id,
        record.subject,
        record.scheme,
        record.scheme_version,
        record.category,
        naive(record.occurred_at),
        naive(record.reported_at),
        naive(record.expires_at),
        record.points,
    )


def status_rows(events: Sequence[RecordEvent], part: int) -> Iterator[tuple[Any, ...]]:
    """One row per event, in ledger order (see ``SCHEMAS["st"]``)."""
    later: datetime | None = None
    rows = []
    for event in reversed(events):  # the earliest time appended after each event
        rows.append((event.record, event.kind, naive(event.at), naive(later), len(events), part))
        later = event.at if later is None else min(later, event.at)
    return reversed(rows)


def consent_rows(
    subject: str, scheme: str, changes: Sequence[ConsentChange], purpose: str, part: int
) -> Iterator[tuple[Any, ...]]:
    mine = [c for c in changes if c.scheme == scheme and c.purpose == purpose]
    for start, end in consent_periods(mine, scheme, purpose):
        yield subject, scheme, naive(start), naive(end), len(mine), part


@dataclass
class Held:
    """What the parts already written hold, to write only what is new."""

    records: dict[str, tuple[int, str]] = field(default_factory=dict)  # id -> (part, category)
    events: dict[str, int] = field(default_factory=dict)  # record -> events folded
    consents: dict[tuple[str, str], int] = field(default_factory=dict)
    enrolments: set[tuple[str, str]] = field(default_factory=set)
    definitions: set[tuple[str, int]] = field(default_factory=set)
    rescorings: set[tuple[str, int, datetime]] = field(default_factory=set)
    links: set[tuple[Any, ...]] = field(default_factory=set)
    overrides: set[tuple[str, datetime]] = field(default_factory=set)  # (case, made_at)


class SnapshotWriter:
    """Gathers one new part of a snapshot; ``write`` adds it to the directory."""

    def __init__(self, folder: Path, purpose: str, known_at: datetime | None = None) -> None:
        self.folder = folder
        self.purpose = purpose
        self.manifest = read_manifest(folder)
        _refuse_going_back(self.manifest, known_at)
        self.part = max((p["part"] for p in self.manifest["parts"]), default=0) + 1
        self.held = _held(folder, self.manifest)
        self.tables = {name: Columns(schema) for name, schema in SCHEMAS.items()}
        self.erased: dict[int, dict[str, tuple[Any, ...]]] = {}  # part -> id -> its erased row

    def add_ledger(
        self,
        ledger: SubjectLedger,
        consents: Sequence[ConsentChange],
        scheme: str,
        known_at: datetime | None,
    ) -> None:
        """One subject's records, events, enrolment and consents in ``scheme``,
        as known at ``known_at`` (everything, if None)."""
        held, key = self.held, ledger.subject.key
        for record in ledger.records:
            if known_at is not None and record.reported_at > known_at:
                continue
            earlier = held.records.get(record.id)
            if earlier is None:
                self.tables["rec"].add(record_row(record))
            elif record.category == ERASED and earlier[1] != ERASED:
                # Erased since it was written: its contents go from the part that
                # holds them (GDPR art. 17), not only from what comes after.
                self.erased.setdefault(earlier[0], {})[record.id] = record_row(record)
            events = [
                e for e in ledger.events.get(record.id, ()) if known_at is None or e.at <= known_at
            ]
            if events and held.events.get(record.id) != len(events):
                for row in status_rows(events, self.part):
                    self.tables["st"].add(row)
        enrolled = ledger.enrolments.get(scheme)
        known_enrolment = enrolled is not None and (known_at is None or enrolled <= known_at)
        if known_enrolment and (key, scheme) not in held.enrolments:
            self.tables["enr"].add((key, scheme, naive(enrolled)))
        known = [c for c in consents if known_at is None or c.at <= known_at]
        mine = [c for c in known if c.scheme == scheme and c.purpose == self.purpose]
        if mine and held.consents.get((key, scheme)) != len(mine):
            for row in consent_rows(key, scheme, mine, self.purpose, self.part):
                self.tables["con"].add(row)

    def add_definitions(
        self,
        stored: Iterable[tuple[str, int, str, datetime, str, str]],
        rescorings: Iterable[tuple[str, int, datetime]],
    ) -> None:
        for id_, version, kind, added_at, digest, body in stored:
            if (id_, version) not in self.held.definitions:
                self.tables["defs"].add((id_, version, kind, naive(added_at), digest, body))
        for scheme, version, at in rescorings:
            if (scheme, version, naive(at)) not in self.held.rescorings:
                self.tables["rescorings"].add((scheme, version, naive(at)))

    def add_links(self, links: Sequence[Link], known_at: datetime | None) -> None:
        for link in links:
            if (
                known_at is not None
                and link.reported_at is not None
                and link.reported_at > known_at
            ):
                continue
            row = (
                link.business,
                link.person,
                link.role,
                naive(link.since),
                naive(link.until),
                naive(link.reported_at),
            )
            if row not in self.held.links:
                self.tables["links"].add(row)

    def add_overrides(self, overrides: Sequence[Override], known_at: datetime | None) -> None:
        for found in overrides:
            if known_at is not None and found.made_at > known_at:
                continue
            if (found.case, naive(found.made_at)) not in self.held.overrides:
                since, until, made = naive(found.since), naive(found.until), naive(found.made_at)
                row = (found.subject, found.action, found.effect, found.factor, since, until)
                self.tables["ovr"].add((*row, found.case, made))

    def write(self, root: str, at: datetime | None, now: datetime) -> dict[str, Any]:
        """The new part and the manifest that names it; the counts written."""
        self._purge_erased()
        where = self.folder / "parts" / f"{self.part:05d}"
        where.mkdir(parents=True, exist_ok=True)
        counts = {}
        for name, columns in self.tables.items():
            pq.write_table(columns.table(), where / f"{name}.parquet")
            counts[name] = len(columns)
        self.manifest["parts"].append(
            {
                "part": self.part,
                "written_at": now.isoformat(),
                "known_at": at.isoformat() if at else None,
                "ledger_root": root,
                "rows": counts,
            }
        )
        self.manifest["ledger_root"] = root
        manifest = self.folder / MANIFEST
        temporary = manifest.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.manifest, indent=2) + "\n", encoding="utf-8")
        temporary.replace(manifest)  # the part is visible only once it is whole
        return counts

    def _purge_erased(self) -> None:
        """Rewrite each earlier part's records with those erased since as the
        ledger now holds them (no category, no points), each file replaced whole."""
        for part, rows in sorted(self.erased.items()):
            path = self.folder / "parts" / f"{part:05d}" / "rec.parquet"
            table = pq.read_table(path)
            found = Columns(SCHEMAS["rec"])
            for row in table.to_pylist():
                found.add(rows.get(row["record"]) or tuple(row.values()))
            temporary = path.with_suffix(".tmp")
            pq.write_table(found.table(), temporary)
            temporary.replace(path)


def _refuse_going_back(manifest: Mapping[str, Any], known_at: datetime | None) -> None:
    """A part holds a record's events and a subject's consents whole, and readers
    take the newest: a part known at an earlier time than the one before it
    would take back what that one knew."""
    if not manifest["parts"]:
        return
    last = manifest["parts"][-1].get("known_at")
    before = datetime.fromisoformat(last) if last else None
    if known_at is not None and (before is None or known_at < before):
        held = before.isoformat() if before else "everything up to when it was written"
        raise ValueError(
            f"the snapshot already holds {held}; a part known at {known_at.isoformat()} would "
            "take it back (write it into another directory)"
        )


def read_manifest(folder: Path) -> dict[str, Any]:
    manifest = folder / MANIFEST
    if not manifest.exists():
        if folder.exists() and any(folder.iterdir()):
            raise ValueError(f"{folder} is not empty and holds no {MANIFEST}: not a snapshot")
        return {"format": FORMAT, "ledger_root": None, "parts": []}
    found: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    if found.get("format") != FORMAT:
        raise ValueError(f"{manifest}: snapshot format {found.get('format')}, not {FORMAT}")
    return found


def _held(folder: Path, manifest: Mapping[str, Any]) -> Held:
    held = Held()
    for part in manifest["parts"]:
        where = folder / "parts" / f"{part['part']:05d}"
        ids, categories = _column(where, "rec", ["record", "category"])
        held.records.update((i, (part["part"], c)) for i, c in zip(ids, categories, strict=True))
        for record, events in zip(*_column(where, "st", ["record", "events"]), strict=True):
            held.events[record] = events
        subjects, schemes, changes = _column(where, "con", ["subject", "scheme", "changes"])
        held.consents.update(zip(zip(subjects, schemes, strict=True), changes, strict=True))
        held.enrolments.update(zip(*_column(where, "enr", ["subject", "scheme"]), strict=True))
        held.definitions.update(zip(*_column(where, "defs", ["id", "version"]), strict=True))
        held.rescorings.update(
            zip(*_column(where, "rescorings", ["scheme", "version", "at"]), strict=True)
        )
        names = SCHEMAS["links"].names
        held.links.update(zip(*_column(where, "links", list(names)), strict=True))
        held.overrides.update(zip(*_column(where, "ovr", ["case_id", "made_at"]), strict=True))
    return held


def _column(where: Path, table: str, names: list[str]) -> list[list[Any]]:
    path = where / f"{table}.parquet"
    if not path.exists():  # a part written before this table was snapshotted
        return [[] for _ in names]
    found = pq.read_table(path, columns=names)
    return [found.column(name).to_pylist() for name in names]


def part_paths(folder: Path, table: str) -> list[str]:
    manifest = read_manifest(folder)
    if not manifest["parts"]:
        raise ValueError(f"{folder} holds no snapshot (no {MANIFEST})")
    return [
        str(folder / "parts" / f"{p['part']:05d}" / f"{table}.parquet") for p in manifest["parts"]
    ]


__all__ = [
    "LEDGER_TABLES",
    "SCHEMAS",
    "Columns",
    "SnapshotWriter",
    "aware",
    "consent_rows",
    "naive",
    "part_paths",
    "read_manifest",
    "record_row",
    "status_rows",
]
