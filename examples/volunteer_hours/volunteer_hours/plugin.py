"""A volunteer centre logs the hours residents give; every full eight hours
become one ``volunteering-8h`` record of the city's scheme (Rongcheng's
village practice: +2 points for eight hours). The records go into the ledger
through the ledger's own import, so every rule of the core applies to them:
validation, idempotency, consent, the hash chain.

Everything here comes from the plugin API: ``socialcredit`` (the services),
``socialcredit.plugins`` (the hook marker, tables and migrations),
``socialcredit.plugins.cli`` (the command line's plumbing),
``socialcredit.domain`` (values) and ``socialcredit.errors``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from socialcredit.domain.ledger.values import SubjectRow
from socialcredit.errors import UsageError
from socialcredit.plugins import (
    ExportSection,
    ExportTable,
    Migration,
    Table,
    Track,
    guard,
    hookimpl,
)
from socialcredit.plugins.cli import CLI_ACTOR, DEFAULT_DB, Db, handled, opened, out

if TYPE_CHECKING:
    from socialcredit import Services

NAME = "volunteer-hours"
SCHEME, CATEGORY, HOURS_PER_RECORD = "rongcheng-personal", "volunteering-8h", 8

_HOURS = Table(
    "volunteer_hours",
    "subject text, n int, hours int, at text, centre text, actor text",
    key=("subject", "n"),
)
TRACK = Track(
    NAME,
    (
        Migration(
            1,
            "hours given, by subject",
            lambda dialect: [_HOURS.create(dialect), *guard("volunteer_hours", dialect)],
        ),
    ),
)


class VolunteerHours:
    """The centre's use cases, over the ledger's services and the plugin's table."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._db = services.uow.database

    def give(self, identifier: str, hours: int, *, centre: str, actor: str) -> int:
        """Log hours; returns how many records the total has earned so far."""
        if not 1 <= hours <= 24:
            raise UsageError(f"hours: {hours} is not 1 to 24 hours in one go")
        services = self._services
        subject = services.subjects.identify(identifier, "person")
        now = services.clock()
        with self._db.transaction():
            services.subjects.hold(subject)
            (n,) = self._db.connection.execute(
                "SELECT COUNT(*) FROM volunteer_hours WHERE subject = ?", (subject.key,)
            ).fetchone()
            self._db.connection.execute(
                "INSERT INTO volunteer_hours VALUES (?, ?, ?, ?, ?, ?)",
                (subject.key, n + 1, hours, now.isoformat(), centre, actor),
            )
            earned = self._total(subject) // HOURS_PER_RECORD
            records = [self._record(identifier, subject, k, now, centre) for k in range(earned)]
            # The ledger's own import: a record it already holds is a duplicate, not a second one.
            report = services.imports.import_records(enumerate(records, 1))
            if report.rejected:  # refused by a rule of the core: nothing of this lands
                raise UsageError(report.rejected[0].reason)
        return earned

    def _total(self, subject: SubjectRow) -> int:
        (total,) = self._db.connection.execute(
            "SELECT COALESCE(SUM(hours), 0) FROM volunteer_hours WHERE subject = ?", (subject.key,)
        ).fetchone()
        return int(total)

    def _record(
        self, identifier: str, subject: SubjectRow, k: int, now: datetime, centre: str
    ) -> dict[str, str]:
        # The id makes the k-th record of a subject the same record however often it is sent.
        return {
            "id": f"volunteer:{subject.key[:16]}:{k + 1}",
            "scheme": SCHEME,
            "category": CATEGORY,
            "subject": identifier,
            "occurred_at": now.isoformat(),
            "reporter": centre,
        }

    def held(self, subject: SubjectRow) -> list[dict[str, object]]:
        rows = self._db.connection.execute(
            "SELECT hours, at, centre FROM volunteer_hours WHERE subject = ? ORDER BY n",
            (subject.key,),
        )
        return [{"hours": hours, "at": at, "centre": centre} for hours, at, centre in rows]


def _service(services: Services) -> VolunteerHours:
    found = services.plugin(NAME)
    assert isinstance(found, VolunteerHours)
    return found


@hookimpl
def register_migrations() -> Track:
    return TRACK


@hookimpl
def register_services(services: Services) -> Mapping[str, Callable[[], object]]:
    return {NAME: lambda: VolunteerHours(services)}


@hookimpl
def export_section(services: Services, subject: SubjectRow) -> ExportSection:
    """What the centre holds about a subject, for their access export (GDPR art. 15)."""
    held = _service(services).held(subject)
    table = ExportTable("Volunteer hours", held, ["at", "hours", "centre"])
    return ExportSection("volunteer_hours", {"hours": held}, [table])


volunteer_app = typer.Typer(help="A volunteer centre's log of hours given.", no_args_is_help=True)


@volunteer_app.command("give")
@handled
def give(
    subject: Annotated[str, typer.Argument(help="The resident's identifier.")],
    hours: Annotated[int, typer.Option(help="Hours given.")],
    centre: Annotated[str, typer.Option(help="The centre that saw them given.")],
    db: Db = DEFAULT_DB,
) -> None:
    """Log hours given; every full eight become a volunteering record."""
    with opened(db) as services:
        earned = _service(services).give(subject, hours, centre=centre, actor=CLI_ACTOR)
    out.print(f"logged {hours} h; {earned} volunteering records earned in all")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(volunteer_app, name="volunteer")
