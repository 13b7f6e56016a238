"""The shipped scheme files (schemes/*.yaml) and their reference (docs/schemes.md).

The files are public-facing facts: these tests pin the figures DESIGN.md §6
fixes, check that every file loads, and check that the reference documents
every field of the scheme language.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from socialcredit.adapters.files.definitions import load_definition
from socialcredit.domain.ledger.records import Record
from socialcredit.domain.sanctions.check import Representation, decide
from socialcredit.domain.schemes import models
from socialcredit.domain.schemes.compiled import SchemeHistory, build_measure_index, compile_scheme
from socialcredit.domain.schemes.models import Memorandum, Scheme
from socialcredit.domain.scoring.engine import evaluate

ROOT = Path(__file__).resolve().parents[2]
SCHEME_DIR = ROOT / "schemes"
DOC = ROOT / "docs" / "schemes.md"

FILES = sorted(SCHEME_DIR.glob("*.yaml"))


def _kind(path: Path) -> str:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["type"]


SCHEME_FILES = [p for p in FILES if _kind(p) == "scheme"]
MEMORANDUM_FILES = [p for p in FILES if _kind(p) == "memorandum"]


@pytest.fixture(scope="module")
def schemes() -> dict[str, Scheme]:
    found: dict[str, Scheme] = {}
    for path in SCHEME_FILES:
        definition = load_definition(path).definition
        assert isinstance(definition, Scheme)
        assert definition.id not in found, f"scheme id {definition.id} shipped twice"
        found[definition.id] = definition
    return found


@pytest.fixture(scope="module")
def memoranda(schemes: dict[str, Scheme]) -> dict[str, Memorandum]:
    found: dict[str, Memorandum] = {}
    for path in MEMORANDUM_FILES:
        definition = load_definition(path, schemes).definition
        assert isinstance(definition, Memorandum)
        found[definition.id] = definition
    return found


def _at(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _record(scheme: Scheme, code: str, subject: str, occurred_at: datetime) -> Record:
    category = next(c for c in scheme.categories if c.code == code)
    return Record(
        id=f"{scheme.id}-{code}-{subject}",
        subject=subject,
        scheme=scheme.id,
        scheme_version=1,
        category=code,
        occurred_at=occurred_at,
        reported_at=occurred_at,
        expires_at=category.validity.after(occurred_at),
        points=category.points,
        reporter="test",
    )


# --------------------------------------------------------------- loading


def test_the_expected_files_are_shipped() -> None:
    names = {p.stem for p in FILES}
    assert {
        "rongcheng-personal",
        "rongcheng-business",
        "rongcheng-institutions",
        "spc-defaulters",
        "ndrc-2016-141",
        "caac-flight-ban",
        "sesame-credit",
    } <= names


@pytest.mark.parametrize("path", SCHEME_FILES, ids=lambda p: p.name)
def test_scheme_file_loads_and_its_id_matches_the_file_name(path: Path) -> None:
    definition = load_definition(path).definition
    assert isinstance(definition, Scheme)
    assert definition.id == path.stem


@pytest.mark.parametrize("path", MEMORANDUM_FILES, ids=lambda p: p.name)
def test_memorandum_loads_against_the_shipped_schemes(
    path: Path, schemes: dict[str, Scheme]
) -> None:
    definition = load_definition(path, schemes).definition
    assert isinstance(definition, Memorandum)
    assert definition.id == path.stem


def test_every_definition_cites_sources(
    schemes: dict[str, Scheme], memoranda: dict[str, Memorandum]
) -> None:
    for definition in [*schemes.values(), *memoranda.values()]:
        assert definition.sources, f"{definition.id} has no sources"
        assert definition.description, f"{definition.id} has no description"


def test_every_category_cites_a_legal_basis(schemes: dict[str, Scheme]) -> None:
    missing = [
        f"{scheme.id}:{category.code}"
        for scheme in schemes.values()
        for category in scheme.categories
        if not (category.legal_basis or "").strip()
    ]
    assert missing == []


def test_every_measure_gives_a_rationale(
    schemes: dict[str, Scheme], memoranda: dict[str, Memorandum]
) -> None:
    measures = [m for s in schemes.values() for m in s.measures]
    measures += [m for memo in memoranda.values() for m in memo.measures]
    # A rationale explains: a sentence, not a word or a placeholder.
    thin = [m.action for m in measures if len(m.rationale.split()) < 6]
    assert thin == []


# ------------------------------------------------------------- Rongcheng


def test_rongcheng_personal_bands_are_those_of_design_section_6(
    schemes: dict[str, Scheme],
) -> None:
    scheme = schemes["rongcheng-personal"]
    assert scheme.score is not None
    assert (scheme.score.base, scheme.score.min) == (1000, 0)
    assert [(g.name, g.min) for g in scheme.grades] == [
        ("AAA", 1050),
        ("AA", 1030),
        ("A", 960),
        ("B", 850),
        ("C", 600),
        ("D", None),
    ]
    assert scheme.subjects == ("person",)


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (1050, "AAA"),
        (1049, "AA"),
        (1030, "AA"),
        (1029, "A"),
        (960, "A"),
        (959, "B"),
        (850, "B"),
        (849, "C"),
        (600, "C"),
        (599, "D"),
        (0, "D"),
    ],
)
def test_rongcheng_personal_band_edges(schemes: dict[str, Scheme], score: int, grade: str) -> None:
    assert compile_scheme(schemes["rongcheng-personal"], 1).grade_for(score) == grade


def test_rongcheng_personal_figures_of_design_section_6(schemes: dict[str, Scheme]) -> None:
    points = {c.code: c.points for c in schemes["rongcheng-personal"].categories}
    assert points["traffic-violation"] == -5
    assert points["heroic-act"] == 30
    assert points["volunteering-8h"] == 2
    assert points["child-enlisted"] == 10
    assert points["large-donation"] == 30
    assert points["contract-breach"] == -20
    assert points["contract-breach-court"] == -50
    assert points["overdue-bank-debt"] == -10
    assert points["private-lending-breach"] == -20
    assert points["illegal-fund-raising"] == -40
    assert points["guarantor-breach"] == -20
    assert points["unpaid-debt-judgment"] == -30
    assert points["pyramid-selling-or-fraud"] == -30
    assert points["counterfeit-goods"] == -30
    assert points["late-public-service-fees"] == -20
    assert points["court-confirmed-arrears"] == -50
    assert points["heating-tampering"] == -50
    assert points["utility-theft"] == -60
    assert points["public-utility-destruction"] == -100


def test_overdue_bank_debt_counts_once_a_month(schemes: dict[str, Scheme]) -> None:
    category = next(
        c for c in schemes["rongcheng-personal"].categories if c.code == "overdue-bank-debt"
    )
    assert category.limit is not None
    assert (category.limit.count, category.limit.per) == (1, "month")


def test_drunk_driving_caps_the_grade_at_c(schemes: dict[str, Scheme]) -> None:
    scheme = schemes["rongcheng-personal"]
    category = next(c for c in scheme.categories if c.code == "drunk-driving")
    assert category.grade_cap == "C"
    assert category.severity == "serious"

    # 1000 - 50 = 950 is band B on its own; the cap lowers it to C.
    record = _record(scheme, "drunk-driving", "subject-1", _at(2024, 3, 1))
    history = SchemeHistory.of([(1, scheme)])
    explanation = evaluate(history, [record], {}, _at(2024, 6, 1)).explanation
    assert (explanation.score, explanation.band, explanation.grade) == (950, "B", "C")
    # Once the record expires the cap goes with it.
    later = evaluate(history, [record], {}, category.validity.after(_at(2024, 3, 1))).explanation
    assert (later.score, later.grade) == (1000, "A")


def test_rongcheng_aaa_gets_a_heating_reduction_and_hall_priority(
    schemes: dict[str, Scheme],
) -> None:
    measures = {(m.action, m.effect): m for m in schemes["rongcheng-personal"].measures}
    heating = measures[("fee.heating", "adjust")]
    assert heating.on.grades == ("AAA",)
    assert heating.factor is not None and 0 < heating.factor < 1
    assert measures[("service.hall.queue", "priority")].on.grades == ("AAA",)


def test_rongcheng_lists(schemes: dict[str, Scheme]) -> None:
    lists = {lst.id: lst for lst in schemes["rongcheng-personal"].lists}
    assert (lists["integrity-models"].kind, lists["integrity-models"].grades) == ("red", ("AAA",))
    assert (lists["dishonesty-list"].kind, lists["dishonesty-list"].grades) == ("black", ("D",))


def test_rongcheng_business_and_institutions_rate_the_right_subjects(
    schemes: dict[str, Scheme],
) -> None:
    assert schemes["rongcheng-business"].subjects == ("business",)
    assert schemes["rongcheng-institutions"].subjects == ("institution",)
    business = {(m.action, m.effect, m.factor) for m in schemes["rongcheng-business"].measures}
    assert ("inspection.frequency", "adjust", 0.5) in business
    assert ("government.procurement", "deny", None) in business


def test_serious_validities_are_longer_than_minor_ones(schemes: dict[str, Scheme]) -> None:
    # PRC credit-repair classes (DESIGN.md §4): minor at most 3 months,
    # general 3 months to 1 year, serious 1 to 3 years.
    bands = {"minor": (0, 92), "general": (89, 366), "serious": (365, 1096)}
    for scheme in schemes.values():
        for category in scheme.categories:
            low, high = bands[category.severity]
            days = category.validity.approx_days()
            assert low <= days <= high, f"{scheme.id}:{category.code} {category.validity}"


# ------------------------------------------------------------------ SPC


def test_spc_list_lasts_two_years_and_reaches_legal_representatives(
    schemes: dict[str, Scheme],
) -> None:
    scheme = schemes["spc-defaulters"]
    assert scheme.score is None and scheme.grades == ()
    assert set(scheme.subjects) == {"person", "business", "institution"}
    assert (scheme.context, scheme.lawful_basis) == ("judicial", "legal_obligation")
    (defaulters,) = scheme.lists
    assert defaulters.id == "dishonest-defaulters"
    assert defaulters.kind == "black"
    assert defaulters.duration is not None and defaulters.duration.text == "P2Y"
    assert defaulters.reach == ("legal_representative",)
    assert len(scheme.categories) == 6
    for category in scheme.categories:
        assert (category.points, category.severity, category.validity.text) == (
            0,
            "serious",
            "P2Y",
        )
        assert category.lists == ("dishonest-defaulters",)


def test_spc_restrictions_are_on_the_list(schemes: dict[str, Scheme]) -> None:
    denied = {
        m.action
        for m in schemes["spc-defaulters"].measures
        if m.effect == "deny" and m.on.list_id == "dishonest-defaulters"
    }
    assert denied >= {
        "travel.air.ticket",
        "travel.rail.highspeed",
        "travel.rail.soft-sleeper",
        "hotel.star",
        "leisure.golf",
        "property.purchase",
        "vehicle.purchase",
        "travel.leisure",
        "education.private-school",
        "insurance.high-premium",
    }


def test_a_listed_business_restricts_its_legal_representative(
    schemes: dict[str, Scheme], memoranda: dict[str, Memorandum]
) -> None:
    scheme = schemes["spc-defaulters"]
    history = SchemeHistory.of([(1, scheme)])
    record = _record(scheme, "able-but-refusing", "business-1", _at(2024, 1, 10))
    t = _at(2024, 6, 1)
    business = evaluate(history, [record], {}, t)
    index = build_measure_index([history.current], memoranda.values())
    reach = {(scheme.id, lst.id): frozenset(lst.reach) for lst in scheme.lists}
    link = Representation("legal_representative", "cn-uscc:9137***", {scheme.id: business})

    decision = decide("travel.air.ticket", t, index, {}, [link], reach)
    assert decision.effect == "deny"
    assert {r.via for r in decision.reasons} == {"legal_representative of cn-uscc:9137***"}
    assert "ndrc-2016-141" in {r.memorandum for r in decision.reasons}

    # Two years after the act the entry has ended by itself.
    after = evaluate(history, [record], {}, _at(2026, 1, 10))
    assert after.entries == ()


# ------------------------------------------------------------ memorandum


def test_memorandum_acts_on_the_spc_list(memoranda: dict[str, Memorandum]) -> None:
    memo = memoranda["ndrc-2016-141"]
    assert (memo.on.scheme, memo.on.list_id) == ("spc-defaulters", "dishonest-defaulters")
    # The notice (Fagai Caijin [2016] No. 141) names 44 signing bodies.
    assert len(memo.signatories) == 44
    ids = {s.id for s in memo.signatories}
    assert {"ndrc", "spc", "pboc", "china-railway", "mohurd", "mof", "csrc", "cbrc"} <= ids


def test_every_memorandum_measure_is_by_a_signatory(memoranda: dict[str, Memorandum]) -> None:
    for memo in memoranda.values():
        signatories = {s.id for s in memo.signatories}
        for measure in memo.measures:
            assert measure.authority in signatories, f"{memo.id}: {measure.authority}"


def test_memorandum_measures(memoranda: dict[str, Memorandum]) -> None:
    by_action = {m.action: m for m in memoranda["ndrc-2016-141"].measures}
    assert by_action["travel.rail.highspeed"].authority == "china-railway"
    assert by_action["securities.issuance"].authority == "csrc"
    assert by_action["government.procurement"].effect == "deny"
    assert by_action["property.purchase"].authority == "mohurd"


# ------------------------------------------------------------ flight ban


def test_flight_ban_lasts_one_year_and_lifts_by_itself(schemes: dict[str, Scheme]) -> None:
    scheme = schemes["caac-flight-ban"]
    assert scheme.subjects == ("person",)
    (no_fly,) = scheme.lists
    assert (no_fly.id, no_fly.kind) == ("no-fly", "black")
    assert no_fly.duration is not None and no_fly.duration.text == "P1Y"
    assert len(scheme.categories) == 9
    assert all(c.severity == "serious" and c.validity.text == "P1Y" for c in scheme.categories)
    assert all(c.lists == ("no-fly",) for c in scheme.categories)
    assert any(
        m.action == "travel.air.ticket" and m.effect == "deny" and m.on.list_id == "no-fly"
        for m in scheme.measures
    )

    history = SchemeHistory.of([(1, scheme)])
    record = _record(scheme, "cabin-disorder", "person-1", _at(2024, 5, 1))
    during = evaluate(history, [record], {}, _at(2025, 4, 30))
    assert [(e.list, e.until) for e in during.entries] == [("no-fly", _at(2025, 5, 1))]
    assert evaluate(history, [record], {}, _at(2025, 5, 1)).entries == ()


# -------------------------------------------------------- Sesame Credit


def test_sesame_credit_is_the_scorecard_of_design_section_6(schemes: dict[str, Scheme]) -> None:
    scheme = schemes["sesame-credit"]
    assert scheme.score is not None
    assert (scheme.score.min, scheme.score.max) == (350, 950)
    assert scheme.recompute == "monthly"
    assert (scheme.authority.kind, scheme.context, scheme.lawful_basis) == (
        "commercial",
        "finance",
        "consent",
    )
    assert scheme.purposes == ("scoring",)
    assert scheme.scorecard is not None
    assert [d.title for d in scheme.scorecard.dimensions] == [
        "Credit history",
        "Behaviour and preferences",
        "Ability to honour obligations",
        "Identity traits",
        "Connections",
    ]
    assert all(1 <= len(d.factors) <= 3 for d in scheme.scorecard.dimensions)
    # As its comments say: no bin takes points away, and the best bins reach 950.
    bins = [b.points for _, f in scheme.scorecard.factors for b in f.bins]
    assert min(bins) >= 0 and min(f.missing for _, f in scheme.scorecard.factors) >= 0
    best = sum(max(b.points for b in f.bins) for _, f in scheme.scorecard.factors)
    assert scheme.score.base + best == 950


_AT_600 = {"deposit.hotel", "deposit.car-rental"}
_AT_650 = _AT_600 | {"deposit.bike"}
_AT_700 = _AT_650 | {"visa.singapore.simplified"}
_AT_750 = _AT_700 | {"visa.schengen.simplified"}


@pytest.mark.parametrize(
    ("score", "granted"),
    [
        (349, set()),
        (599, set()),
        (600, _AT_600),
        (649, _AT_600),
        (650, _AT_650),
        (699, _AT_650),
        (700, _AT_700),
        (749, _AT_700),
        (750, _AT_750),
        (950, _AT_750),
    ],
)
def test_sesame_credit_thresholds(
    schemes: dict[str, Scheme], score: int, granted: set[str]
) -> None:
    scheme = schemes["sesame-credit"]
    grade = compile_scheme(scheme, 1).grade_for(score)
    found = {m.action for m in scheme.measures if grade in (m.on.grades or ())}
    assert found == granted
    for measure in scheme.measures:
        if measure.action.startswith("deposit."):
            assert (measure.effect, measure.factor) == ("adjust", 0)  # waived
        else:
            assert measure.effect == "priority"


# --------------------------------------------------------- vocabulary


def test_actions_are_consistent_across_files(
    schemes: dict[str, Scheme], memoranda: dict[str, Memorandum]
) -> None:
    actions = {m.action for s in schemes.values() for m in s.measures}
    actions |= {m.action for memo in memoranda.values() for m in memo.measures}
    # The shared names of DESIGN.md §2 are spelled the same everywhere ...
    for name in (
        "travel.air.ticket",
        "travel.rail.highspeed",
        "public.disclosure",
        "welfare.benefit",
        "fee.heating",
        "government.procurement",
    ):
        assert name in actions
    # ... and every action used is in the reference's vocabulary table.
    doc = DOC.read_text(encoding="utf-8")
    undocumented = sorted(a for a in actions if f"| `{a}` |" not in doc)
    assert undocumented == []


# ------------------------------------------------------- docs honesty


def _language_models() -> list[type[BaseModel]]:
    return [
        value
        for _, value in inspect.getmembers(models, inspect.isclass)
        if issubclass(value, BaseModel)
        and value is not BaseModel
        and value.__module__ == models.__name__
    ]


def test_every_field_of_the_language_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    found = _language_models()
    assert {m.__name__ for m in found} >= {"Scheme", "Memorandum", "Category", "ListDefinition"}
    missing = sorted(
        f"{model.__name__}.{field.alias or name}"
        for model in found
        for name, field in model.model_fields.items()
        if f"`{field.alias or name}`" not in doc
    )
    assert missing == []


def test_every_shipped_file_is_listed_in_the_reference() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert [p.name for p in FILES if f"`{p.name}`" not in doc] == []
