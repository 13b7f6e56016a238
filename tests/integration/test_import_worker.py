"""The forked import worker is a faster path to the same ledger: it must give
exactly what the in-process path gives, row for row and hash for hash.

The worker also chains each batch against a copy of the chain heads; the store
writes such a batch only while the ledger is still what the copy says. The
tests below take it off that path (ids already held, another writer between
batches) and hold the result equal to the in-process import all the same."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from ledger_support import NOW, at, line, numbered, open_system, people, shipped_system, sql

from socialcredit.adapters.files import records as intake
from socialcredit.bootstrap import Services
from socialcredit.domain.intake import RecordIntake
from socialcredit.domain.ledger import batching
from socialcredit.domain.ledger.batching import plan_batch
from socialcredit.native import native


def _record_file(path: Path, count: int) -> Path:
    rng = random.Random(7)
    residents = people(300)
    categories = ["traffic-violation", "volunteering-8h", "drunk-driving", "no-such-category"]
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            occurred = at(2025, 1, 1 + n % 28, n % 24)
            fields = {
                "id": f"w{n % (count - 40)}",  # the last 40 lines repeat earlier ids
                "scheme": "rongcheng-personal",
                "category": rng.choice(categories),
                "subject": rng.choice(residents),
                "occurred_at": occurred.isoformat(),
                "reporter": "police",
            }
            if n % 3:
                fields["reported_at"] = occurred.replace(hour=23).isoformat()
            out.write(json.dumps(fields) + "\n")
        out.write("{not json\n")
    return path


def test_the_worker_and_the_in_process_path_write_the_same_ledger(tmp_path: Path) -> None:
    source = _record_file(tmp_path / "records.jsonl", 3_000)
    forked, plain = shipped_system(tmp_path / "forked.db"), shipped_system(tmp_path / "plain.db")

    by_worker = forked.imports.import_file(source, batch_size=700, worker=True)
    in_process = plain.imports.import_file(source, batch_size=700, worker=False)

    assert by_worker.accepted == in_process.accepted > 0
    assert by_worker.duplicates == in_process.duplicates
    assert by_worker.rejected == in_process.rejected
    assert len(by_worker.rejected) > 40  # unknown categories, repeats that conflict, bad JSON
    query = "SELECT subject, seq, id, points, reported_at, hash FROM records ORDER BY subject, seq"
    rows = sql(tmp_path / "forked.db", query)
    assert rows == sql(tmp_path / "plain.db", query)
    assert len(rows) == by_worker.accepted
    assert forked.integrity.verify() == [] and plain.integrity.verify() == []


LEDGER = "SELECT subject, seq, id, points, reported_at, hash FROM records ORDER BY subject, seq"


def _same_imports(first: Any, second: Any) -> None:
    assert (first.accepted, first.duplicates) == (second.accepted, second.duplicates)
    assert first.rejected == second.rejected
    assert first.duplicate_lines == second.duplicate_lines


def test_a_repeated_import_by_the_worker_stores_nothing_twice(tmp_path: Path) -> None:
    source = _record_file(tmp_path / "records.jsonl", 2_000)
    forked, plain = shipped_system(tmp_path / "forked.db"), shipped_system(tmp_path / "plain.db")
    forked.imports.import_file(source, batch_size=500, worker=True)
    plain.imports.import_file(source, batch_size=500, worker=False)
    before = sql(tmp_path / "forked.db", LEDGER)

    again = forked.imports.import_file(source, batch_size=500, worker=True)

    _same_imports(again, plain.imports.import_file(source, batch_size=500, worker=False))
    assert again.accepted == 0 and again.duplicates > 1_000
    assert sql(tmp_path / "forked.db", LEDGER) == before == sql(tmp_path / "plain.db", LEDGER)


def _write_between_batches(system: Services, path: Path, method: str) -> list[Any]:
    """After the first batch, another connection reports a record about a
    subject of the file. Returns what each later call of ``method`` returned."""
    store = system.uow.ledger
    write = getattr(store, method)
    later: list[Any] = []

    def then(*args: Any) -> Any:
        later.append(write(*args))
        return later[-1]

    def first_then_foreign(*args: Any) -> Any:
        result = write(*args)
        setattr(store, method, then)
        other = open_system(path)
        subject = people(300)[0]  # a subject the file reports on too
        other.imports.import_records(
            numbered([line("foreign-1", subject, "volunteering-8h", at(2025, 2, 1))])
        )
        other.close()
        return result

    setattr(store, method, first_then_foreign)
    return later


def test_another_writer_between_batches_sends_the_worker_import_in_process(tmp_path: Path) -> None:
    source = _record_file(tmp_path / "records.jsonl", 2_000)
    forked, plain = shipped_system(tmp_path / "forked.db"), shipped_system(tmp_path / "plain.db")
    planned = _write_between_batches(forked, tmp_path / "forked.db", "append_planned")
    _write_between_batches(plain, tmp_path / "plain.db", "append_records")

    by_worker = forked.imports.import_file(source, batch_size=500, worker=True)
    in_process = plain.imports.import_file(source, batch_size=500, worker=False)

    assert planned == [False]  # the second batch was refused, and the rest read in-process
    _same_imports(by_worker, in_process)
    rows = sql(tmp_path / "forked.db", LEDGER)
    assert rows == sql(tmp_path / "plain.db", LEDGER)
    assert "foreign-1" in {row[2] for row in rows}
    assert len(rows) == by_worker.accepted + 1
    assert forked.integrity.verify() == [] and plain.integrity.verify() == []


def test_the_store_writes_a_planned_batch_only_while_nobody_else_has_written(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    base = system.uow.ledger.plan_base(100)
    assert base is not None
    other = open_system(tmp_path / "ledger.db")
    other.imports.import_records(
        numbered([line("other-1", people(1)[0], "volunteering-8h", at(2025, 2, 1))])
    )
    other.close()
    intake = RecordIntake(system.definitions.registry, system.uow.pseudonymiser, at(2025, 6, 1))
    record = intake.parse(line("mine-1", people(1)[0], "volunteering-8h", at(2025, 3, 1)))
    stale = plan_batch([record], base.heads, base.kinds, {})
    assert not system.uow.ledger.append_planned(stale, base.epoch)  # its chain would fork
    fresh = system.uow.ledger.plan_base(100)
    assert fresh is not None and fresh.epoch != base.epoch
    assert system.uow.ledger.append_planned(
        plan_batch([record], fresh.heads, fresh.kinds, {}), fresh.epoch
    )
    assert system.integrity.verify() == []
    assert len(sql(tmp_path / "ledger.db", LEDGER)) == 2


def test_with_too_many_heads_to_copy_the_worker_only_validates(tmp_path: Path) -> None:
    source = _record_file(tmp_path / "records.jsonl", 2_000)
    forked, plain = shipped_system(tmp_path / "forked.db"), shipped_system(tmp_path / "plain.db")
    forked.uow.ledger.plan_base = lambda batch_size: None  # type: ignore[method-assign]
    forked.uow.ledger.append_planned = None  # type: ignore[assignment]  # must not be reached

    _same_imports(
        forked.imports.import_file(source, batch_size=500, worker=True),
        plain.imports.import_file(source, batch_size=500, worker=False),
    )
    assert sql(tmp_path / "forked.db", LEDGER) == sql(tmp_path / "plain.db", LEDGER)


def test_a_repeat_of_a_refused_line_is_judged_as_in_process(tmp_path: Path) -> None:
    """Line 1 reuses a held id but is refused (its subject is held as another
    kind), so nothing of it is written and no unique index speaks up; its repeat
    on line 2 is judged by the worker's plan exactly as the store's own plan
    judges it."""
    held = line("x-1", "ext:town:7", "volunteering-8h", at(2025, 2, 1))
    refused = {
        **line(
            "x-1", "ext:town:7", "charity-donation", at(2025, 2, 2), scheme="rongcheng-business"
        ),
        "subject_kind": "business",
    }
    others = [
        line(f"o-{n}", person, "volunteering-8h", at(2025, 3, 1))
        for n, person in enumerate(people(20))
    ]
    source = tmp_path / "records.jsonl"
    source.write_text("".join(json.dumps(x) + "\n" for x in [refused, refused, *others]))
    reports = []
    for name, worker in (("forked", True), ("plain", False)):
        system = shipped_system(tmp_path / f"{name}.db")
        system.imports.import_records(numbered([held]))
        reports.append(system.imports.import_file(source, batch_size=500, worker=worker))
    _same_imports(*reports)
    assert reports[0].rejected[0].line == 1 and reports[0].accepted == 20
    assert sql(tmp_path / "forked.db", LEDGER) == sql(tmp_path / "plain.db", LEDGER)


def test_the_worker_path_still_refuses_records_without_consent(tmp_path: Path) -> None:
    """The worker cannot see consents, so a batch with a consent scheme's record is
    judged in process, where the consent rule applies."""
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [member, stranger] = people(2, seed=77)
    clock = system.clock.read
    system.clock.read = lambda: at(2024, 1, 1)
    system.consents.set(member, "sesame-credit", "scoring", True, actor="cli")
    system.clock.read = clock
    source = tmp_path / "mixed.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for n in range(1_200):
            who = member if n % 2 else stranger
            scheme, category = (
                ("sesame-credit", "online-purchase")
                if n % 3 == 0
                else ("rongcheng-personal", "volunteering-8h")
            )
            out.write(
                json.dumps(
                    line(
                        f"m{n}",
                        who,
                        category,
                        at(2025, 5, 1 + n % 28),
                        scheme=scheme,
                        reporter="ant-group",
                    )
                )
                + "\n"
            )
    report = system.imports.import_file(source, batch_size=300, worker=True)
    refused = {r.record for r in report.rejected}
    expected = {f"m{n}" for n in range(1_200) if n % 3 == 0 and n % 2 == 0}
    assert refused == expected and report.accepted == 1_200 - len(expected)
    assert all("no active consent" in r.reason for r in report.rejected)
    assert system.integrity.verify() == []


@pytest.mark.skipif(native is None, reason="the C accelerator is not built here")
@pytest.mark.parametrize("worker", [True, False])
def test_the_c_accelerator_writes_the_ledger_pure_python_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: bool
) -> None:
    """The accelerated import and the pure-Python one store the same rows and hashes
    and report the same lines, through the worker and in-process (a forked worker
    inherits what this process has switched off)."""
    source = _record_file(tmp_path / "records.jsonl", 3_000)
    with source.open("a", encoding="utf-8") as out:
        out.write("\n[1, 2]\n")
        out.write(
            json.dumps(
                {
                    "id": "odd",
                    "scheme": "rongcheng-personal",
                    "category": "traffic-violation",
                    "subject": people(1)[0],
                    "occurred_at": "2025-01-02T03:04:05.678900+08:00",
                    "reporter": " police ",
                    "evidence": "case\u00e9",
                }
            )
            + "\n"
        )
    accelerated = shipped_system(tmp_path / "c.db").imports.import_file(
        source, batch_size=700, worker=worker
    )
    for module in (intake, batching):
        monkeypatch.setattr(module, "native", None)
    pure = shipped_system(tmp_path / "pure.db").imports.import_file(
        source, batch_size=700, worker=worker
    )

    _same_imports(accelerated, pure)
    assert accelerated.accepted > 2_000
    query = LEDGER.replace("hash FROM", "hash, expires_at, fingerprint, evidence FROM")
    assert sql(tmp_path / "c.db", query) == sql(tmp_path / "pure.db", query)


class _Messages:
    """A stand-in for the worker's pipe end that keeps what is sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send_bytes(self, payload: bytes) -> None:
        self.sent.append(bytes(payload))


@pytest.mark.skipif(native is None, reason="the C accelerator is not built here")
@pytest.mark.parametrize("batch_size", [1, 97, 700, 5_000])
def test_the_one_pass_planner_sends_the_batches_the_python_planner_sends(
    tmp_path: Path, batch_size: int
) -> None:
    """Batch by batch: the same lines, rows, heads, subjects, duplicates and
    refusals (kind changes, conflicting repeats, lines that do not read)."""
    import marshal

    from socialcredit.adapters.files import worker as intake_worker

    source = _record_file(tmp_path / "records.jsonl", 2_000)
    with source.open("a", encoding="utf-8") as out:  # one ext: id filed as two kinds
        for n, (scheme, category, kind) in enumerate(
            [
                ("rongcheng-personal", "traffic-violation", "person"),
                ("rongcheng-business", "tax-grade-a", "business"),
                ("rongcheng-personal", "traffic-violation", "person"),  # k2, then its repeats:
                ("rongcheng-personal", "traffic-violation", "person"),  # the same (a duplicate),
                ("rongcheng-personal", "volunteering-8h", "person"),  # and another (a conflict)
            ]
        ):
            out.write(
                json.dumps(
                    {
                        "id": f"k{min(n, 2)}",
                        "scheme": scheme,
                        "category": category,
                        "subject": "ext:city:77",
                        "subject_kind": kind,
                        "occurred_at": "2025-01-01T00:00:00+00:00",
                        "reporter": "police",
                    }
                )
                + "\n"
            )
        # k1 was refused for its kind, so it holds no id: its next line is a first
        # line (accepted), and the one after that a duplicate of it.
        for _ in range(2):
            again = {"id": "k1", "scheme": "rongcheng-personal", "category": "volunteering-8h"}
            again |= {"subject": "ext:city:77", "subject_kind": "person", "reporter": "police"}
            out.write(json.dumps({**again, "occurred_at": "2025-01-02T00:00:00+00:00"}) + "\n")
        out.write("\n   \n[1]\n")
    system = shipped_system(tmp_path / "ledger.db")
    sent = {}
    for name, planner in [("c", intake_worker._plan_natively), ("python", None)]:
        base = system.uow.ledger.plan_base(batch_size)
        assert base is not None
        messages = _Messages()
        if planner is None:
            items = intake.parse_file(
                source, system.definitions.registry, system.uow.pseudonymiser, NOW
            )
            intake_worker._plan_in_python(items, batch_size, base, messages)
        else:
            reader = intake.native_lines(
                source, system.definitions.registry, system.uow.pseudonymiser, NOW
            )
            assert reader is not None
            planner(reader, batch_size, base, messages)
        sent[name] = [marshal.loads(payload) for payload in messages.sent]
    assert len(sent["c"]) == len(sent["python"]) > 1 or batch_size == 5_000
    reasons = " ".join(why for message in sent["c"] for _, _, why in message[2])
    assert "already held as a person" in reasons and "JSON" in reasons
    assert "conflict" in reasons or batch_size < 3  # k2's repeats share a batch with it
    for by_c, by_python in zip(sent["c"], sent["python"], strict=True):
        start, seen, rejected, *rest = by_c
        assert (start, seen, sorted(rejected), *rest) == (
            by_python[0],
            by_python[1],
            sorted(by_python[2]),
            *by_python[3:],
        )
    # And written: k1's first line was refused, its next one is the record.
    report = system.imports.import_file(source, batch_size=batch_size, worker=True)
    held = system.uow.ledger.record("k1")
    assert held is not None and held.category == "volunteering-8h"
    assert [r.line for r in report.rejected if r.record == "k1"] == [2003]  # its kind only


def test_both_paths_judge_a_refused_ids_next_line_in_line_order(tmp_path: Path) -> None:
    """A reviewer's case: line 1 is refused (its subject is held as a person),
    line 2 repeats its id for a new subject as a business (so it is that id's
    first line, and the new subject a business), and line 3 names that new
    subject as a person (so it is refused). In process and in the worker alike."""
    held = line("e1", "ext:city:J", "traffic-violation", at(2025, 5, 1))
    refused = {
        **line("B", "ext:city:J", "able-but-refusing", at(2025, 5, 1), scheme="spc-defaulters"),
        "subject_kind": "business",
    }
    again = {**refused, "subject": "ext:city:K"}
    person = {
        **line("C", "ext:city:K", "traffic-violation", at(2025, 5, 1)),
        "subject_kind": "person",
    }
    source = tmp_path / "batch.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in (refused, again, person)))
    found = {}
    for path in ("in-process", "worker"):
        system = shipped_system(tmp_path / f"{path}.db")
        assert system.imports.import_records(numbered([held])).accepted == 1
        if path == "in-process":
            report = system.imports.import_records(numbered([refused, again, person]))
        else:
            report = system.imports.import_file(source, worker=True)
        found[path] = (
            report.accepted,
            sorted((r.line, r.record) for r in report.rejected),
            system.uow.ledger.record("B") is not None,
            system.uow.ledger.record("C") is not None,
        )
        system.close()
    assert found["in-process"] == found["worker"] == (1, [(1, "B"), (3, "C")], True, False)
