"""DESIGN.md §3, as SQL: one plan, generated once, that evaluates every
(subject, scheme) asked about at once, as the per-subject engine
(``domain/scoring/engine.py``) evaluates one.

The plan reads the ledger's tables (``rec``, ``st``, ``enr``, ``con``; see
``snapshot.py``), the definition tables (``tables.py``) and ``asks``: the
(subject, scheme, t, asked) to evaluate, where ``asked`` is the instant asked
about and ``t`` the instant the scheme computes as of (the start of the month
for a scheme recomputed monthly). Record statuses and consent are read at
``asked``; everything else at ``t``, as in the engine.

It is written in the SQL that DuckDB and Spark share; what they spell
differently is a :class:`Dialect`'s. Each step is a named query that later
steps read: a step read more than once is computed once and kept (a table, or
a checkpoint on Spark); the others are views, inlined where they are read. A second set of asks (the
instants at which a grade may have changed, for the start of a grade-held
list entry) runs the same steps under another prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from socialcredit.domain.ledger.records import ERASED, SUSPENDING_STATUSES

_SUSPENDING = ", ".join(f"'{status}'" for status in sorted(SUSPENDING_STATUSES))
_ERASED = f"'{ERASED}'"


@dataclass(frozen=True)
class Dialect:
    """What DuckDB and Spark SQL spell differently."""

    name: str
    add_months_template: str  # {ts}, {months}
    add_seconds_template: str  # {ts}, {seconds}
    sorted_list_template: str  # {value}: the values of a group as a sorted array
    # {value}: the product of a group's non-null values, multiplied in ascending
    # order as the per-subject engine multiplies them (floats: order matters).
    product_template: str
    empty_list: str  # an empty array of text
    # {later}, {earlier}: the whole days between two timestamps, rounded down
    # (never negative here), as Python's ``(later - earlier) // timedelta(days=1)``.
    days_template: str

    def add(self, ts: str, months: str, seconds: str) -> str:
        """``ts`` moved by whole months (the day clamped to the month's end), then by seconds."""
        moved = self.add_months_template.format(ts=ts, months=months)
        return self.add_seconds_template.format(ts=moved, seconds=seconds)

    def sorted_list(self, value: str) -> str:
        return self.sorted_list_template.format(value=value)

    def product(self, value: str) -> str:
        return self.product_template.format(value=value)

    def days(self, later: str, earlier: str) -> str:
        return self.days_template.format(later=later, earlier=earlier)


DUCKDB = Dialect(
    "duckdb",
    add_months_template="({ts} + to_months(CAST({months} AS INTEGER)))",
    add_seconds_template="({ts} + to_seconds(CAST({seconds} AS BIGINT)))",
    sorted_list_template="list_sort(list({value}))",
    product_template="list_product(list_sort(list({value}) FILTER (WHERE {value} IS NOT NULL)))",
    empty_list="CAST([] AS VARCHAR[])",
    days_template="((epoch_us({later}) - epoch_us({earlier})) // 86400000000)",
)
SPARK = Dialect(
    "spark",
    add_months_template="({ts} + make_interval(0, CAST({months} AS INT), 0, 0, 0, 0, 0))",
    add_seconds_template="({ts} + make_interval(0, 0, 0, 0, 0, 0, CAST({seconds} AS DECIMAL(18, 6))))",
    sorted_list_template="array_sort(collect_list({value}))",
    product_template=(
        "aggregate(array_sort(collect_list({value})), CAST(1.0 AS DOUBLE), (acc, v) -> acc * v)"
    ),
    empty_list="CAST(array() AS ARRAY<STRING>)",
    days_template=(
        "((unix_micros(CAST({later} AS TIMESTAMP)) - unix_micros(CAST({earlier} AS TIMESTAMP)))"
        " div 86400000000)"
    ),
)


class Step(NamedTuple):
    """A named query of the plan. A step that later steps read more than once
    is ``kept``: computed once and held (a table, or a checkpoint on Spark);
    the others are views, inlined where they are read."""

    name: str
    query: str
    kept: bool


# The steps read more than once, or costly enough to compute once.
_KEPT = frozenset(
    {"ask", "scheme_ask", "judged", "score", "evaluation", "factor_value"} | {"holders", "asks"}
)


def _steps(prefix: str, steps: list[tuple[str, str]], kept: frozenset[str] = _KEPT) -> list[Step]:
    return [Step(name, query, name[len(prefix) :] in kept) for name, query in steps]


_PERIOD = (
    "CASE {per} WHEN 'day' THEN date_trunc('day', {ts}) WHEN 'week' THEN date_trunc('week', {ts}) "
    "WHEN 'month' THEN date_trunc('month', {ts}) ELSE date_trunc('year', {ts}) END"
)


def band_rank(grades: Sequence[tuple[str, int, int | None]], score: str) -> str:
    """The rank of the band ``score`` falls in, as one expression written out
    from the schemes' grades (scheme, rank, min), top-down: the first band
    whose min the score reaches. Null for no score, or a scheme with no grades."""
    by_scheme: dict[str, list[tuple[int, int | None]]] = {}
    for scheme, rank, minimum in grades:
        by_scheme.setdefault(scheme, []).append((rank, minimum))
    if not by_scheme:
        return "CAST(NULL AS BIGINT)"
    arms = []
    for scheme, bands in sorted(by_scheme.items()):
        steps = " ".join(
            f"WHEN {score} >= {minimum} THEN {rank}"
            if minimum is not None
            else f"WHEN TRUE THEN {rank}"
            for rank, minimum in sorted(bands)
        )
        arms.append(f"WHEN {_text(scheme)} THEN CASE WHEN {score} IS NULL THEN NULL {steps} END")
    return f"CASE scheme {' '.join(arms)} END"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def evaluation_steps(
    dialect: Dialect,
    asks: str | None,
    prefix: str,
    grades: Sequence[tuple[str, int, int | None]],
    instants: str | None = None,
) -> list[Step]:
    """(view, query) in order: the asks with their consent, enrolment and
    rescoring; every record of each ask classified; the limits; the totals;
    the evaluations; and the entries records cause. The views named
    ``{prefix}evaluation``, ``{prefix}counted``, ``{prefix}excluded`` and
    ``{prefix}record_entry`` are the results.

    The asks are either a table (``asks``: subject, scheme, t, asked), or
    every subject with a record or an enrolment in a scheme, at the scheme's
    one instant (``instants``: scheme, t, asked). The second reads the records
    once, joined to small tables only, and takes its asks from the totals."""
    p = prefix
    before, after = _ask_steps(p, asks, instants)
    # Asked at one instant a scheme, each ask carries its totals (it is made from
    # them); joined to a table of asks, the totals are joined to it here.
    tt, totals = ("k", "") if instants is not None else ("tt", _TOTALS_JOIN.format(p=p))
    # Asked at one instant a scheme, the records are classified as they are read,
    # twice (the limits' two halves), which costs less than keeping them; joined
    # to a table of asks, they are kept.
    kept = _KEPT if instants is not None else _KEPT | {"classified"}
    add_until = dialect.add("c.occurred_at", "tg.months", "tg.seconds")
    band = band_rank(grades, "score")
    return _steps(
        p,
        [
            *before,
            (f"{p}classified", _classified(p, instants)),
            (
                # The limits: only a category's counting records that a limit holds
                # are ranked in their period; the rest pass by unranked.
                f"{p}limited",
                f"""SELECT c.*, CAST(NULL AS BIGINT) AS slot_rank FROM {p}classified c
            WHERE NOT (c.first_reason IS NULL AND c.limit_count IS NOT NULL)
            UNION ALL
            SELECT c.*, row_number() OVER (
                PARTITION BY c.subject, c.scheme, c.asked, c.category, c.limit_per,
                  {_PERIOD.format(per="c.limit_per", ts="c.occurred_at")}
                ORDER BY c.occurred_at, c.record) AS slot_rank
            FROM {p}classified c
            WHERE c.first_reason IS NULL AND c.limit_count IS NOT NULL""",
            ),
            (
                f"{p}judged",
                # Only what later steps read: it is kept, a row per record.
                f"""SELECT l.subject, l.scheme, l.t, l.asked, l.record, l.category, l.occurred_at,
              l.expires_at, l.status, l.rule_version, l.cap_rank, l.cap_grade, l.known,
              CASE WHEN l.first_reason IS NULL AND l.slot_rank > l.limit_count THEN 'limit'
                   ELSE l.first_reason END AS reason,
              CASE WHEN l.rescore_target IS NOT NULL AND l.rescore_target > l.version
                     AND rp.points IS NOT NULL THEN rp.points ELSE l.points END AS counted_points
            FROM {p}limited l
            LEFT JOIN d_repoints rp ON rp.scheme = l.scheme AND rp.version = l.rescore_target
              AND rp.category = l.category""",
            ),
            (
                f"{p}counted",
                f"""SELECT subject, scheme, t, asked, record, category, counted_points AS points,
              occurred_at, expires_at, cap_rank, cap_grade
            FROM {p}judged WHERE reason IS NULL""",
            ),
            (
                f"{p}excluded",
                f"""SELECT subject, scheme, asked, record, category, reason
            FROM {p}judged WHERE reason IS NOT NULL""",
            ),
            (
                f"{p}cap",
                f"""SELECT subject, scheme, asked, cap_grade, cap_rank, record AS cap_record,
              category AS cap_category
            FROM (SELECT c.*, row_number() OVER (
                PARTITION BY c.subject, c.scheme, c.asked
                ORDER BY c.cap_rank DESC, c.occurred_at, c.record) AS n
              FROM {p}counted c WHERE c.cap_rank IS NOT NULL) ranked
            WHERE n = 1""",
            ),
            (
                f"{p}totals",
                f"""SELECT subject, scheme, asked, bool_or(known) AS known,
              CAST(SUM(CASE WHEN reason IS NULL THEN counted_points ELSE 0 END) AS BIGINT) AS points
            FROM {p}judged GROUP BY subject, scheme, asked""",
            ),
            *after,
            *_scorecard_steps(dialect, p),
            (
                f"{p}scored",
                f"""SELECT k.subject, k.scheme, k.t, k.asked, s.current_version AS version,
              (k.consenting AND (COALESCE({tt}.known, FALSE)
                OR (k.enrolled_at IS NOT NULL AND k.enrolled_at <= k.t))) AS enrolled,
              s.scored, s.base, s.score_min, s.score_max,
              CASE WHEN s.scorecard THEN COALESCE(cp.points, 0)
                   ELSE COALESCE({tt}.points, 0) END AS points
            FROM {p}ask k JOIN d_scheme s ON s.scheme = k.scheme{totals}
            LEFT JOIN {p}card_points cp ON cp.subject = k.subject AND cp.scheme = k.scheme
              AND cp.asked = k.asked""",
            ),
            (
                f"{p}score",
                f"""SELECT x.*, {band} AS band_rank FROM (
              SELECT subject, scheme, t, asked, version, enrolled, base,
                CAST(CASE WHEN enrolled AND scored THEN
                  CASE WHEN score_min IS NOT NULL AND base + points < score_min THEN score_min
                       WHEN score_max IS NOT NULL AND base + points > score_max THEN score_max
                       ELSE base + points END
                END AS BIGINT) AS score
              FROM {p}scored) x""",
            ),
            (
                f"{p}evaluation",
                f"""SELECT sc.subject, sc.scheme, sc.version, sc.t, sc.asked, sc.enrolled, sc.score,
              CASE WHEN bg.grade IS NOT NULL AND cp.cap_rank IS NOT NULL
                     AND cp.cap_rank > sc.band_rank THEN cp.cap_grade ELSE bg.grade END AS grade,
              bg.grade AS band,
              CASE WHEN sc.score IS NOT NULL THEN cp.cap_grade END AS cap_grade,
              CASE WHEN sc.score IS NOT NULL THEN cp.cap_record END AS cap_record,
              CASE WHEN sc.score IS NOT NULL THEN cp.cap_category END AS cap_category,
              sc.base
            FROM {p}score sc
            LEFT JOIN d_grade bg ON bg.scheme = sc.scheme AND bg.grade_rank = sc.band_rank
            LEFT JOIN {p}cap cp ON cp.subject = sc.subject AND cp.scheme = sc.scheme
              AND cp.asked = sc.asked""",
            ),
            (
                f"{p}standing",
                f"""SELECT subject, scheme, t, asked, record, category, rule_version, occurred_at,
              expires_at
            FROM {p}judged
            WHERE reason IS NULL OR (reason = 'expired'
              AND (status IS NULL OR status NOT IN ({_SUSPENDING})))""",
            ),
            (
                f"{p}record_span",
                f"""SELECT c.subject, c.scheme, c.asked, tg.list_id, c.record, c.occurred_at,
              CASE WHEN tg.has_duration THEN {add_until} ELSE c.expires_at END AS until, c.t
            FROM {p}standing c JOIN d_target tg ON tg.scheme = c.scheme
              AND tg.version = c.rule_version AND tg.category = c.category""",
            ),
            (
                f"{p}record_entry",
                f"""SELECT sp.subject, sp.scheme, sp.asked, sp.list_id, l.kind,
              MIN(sp.occurred_at) AS since, MAX(sp.until) AS until,
              {dialect.sorted_list("sp.record")} AS records
            FROM {p}record_span sp JOIN d_list l ON l.scheme = sp.scheme AND l.list_id = sp.list_id
            WHERE sp.t < sp.until
            GROUP BY sp.subject, sp.scheme, sp.asked, sp.list_id, l.kind""",
            ),
        ],
        kept,
    )


def _scorecard_steps(dialect: Dialect, p: str) -> list[tuple[str, str]]:
    """A scorecard scheme's points: each factor measured over the counted records
    of its categories (inside its window), binned (the first bin whose
    ``below`` is above the value; ``missing`` for no value), and summed, as
    ``domain/schemes/scorecard.py`` does. Only scorecard schemes' asks have rows."""
    window_end = dialect.add("c.occurred_at", "f.window_months", "f.window_seconds")
    value = f"""CASE f.measure
                WHEN 'count' THEN CAST(COALESCE(a.n, 0) AS DOUBLE)
                WHEN 'sum' THEN CAST(COALESCE(a.total, 0) AS DOUBLE)
                WHEN 'ratio' THEN CASE WHEN COALESCE(a.below, 0) = 0 THEN NULL
                  ELSE CAST(a.above AS DOUBLE) / CAST(a.below AS DOUBLE) END
                WHEN 'age' THEN CAST({dialect.days("k.t", "a.first_at")} AS DOUBLE)
                ELSE CAST({dialect.days("k.t", "a.last_at")} AS DOUBLE) END"""
    factor_read = f"""SELECT c.subject, c.scheme, c.asked, f.factor_n, COUNT(*) AS n,
              SUM(c.points) AS total,
              SUM(CASE WHEN fc.numerator THEN 1 ELSE 0 END) AS above,
              SUM(CASE WHEN fc.denominator THEN 1 ELSE 0 END) AS below,
              MIN(c.occurred_at) AS first_at, MAX(c.occurred_at) AS last_at
            FROM {p}counted c
            JOIN d_factor_code fc ON fc.scheme = c.scheme AND fc.category = c.category
            JOIN d_factor f ON f.scheme = fc.scheme AND f.factor_n = fc.factor_n
            WHERE NOT f.has_window OR c.t < {window_end}
            GROUP BY c.subject, c.scheme, c.asked, f.factor_n"""
    factor_value = f"""SELECT k.subject, k.scheme, k.asked, f.factor_n, f.missing, {value} AS value
            FROM {p}ask k JOIN d_factor f ON f.scheme = k.scheme
            LEFT JOIN {p}factor_read a ON a.subject = k.subject AND a.scheme = k.scheme
              AND a.asked = k.asked AND a.factor_n = f.factor_n"""
    factor_bin = f"""SELECT v.subject, v.scheme, v.asked, v.factor_n, MIN(b.bin_n) AS bin_n
            FROM {p}factor_value v JOIN d_bin b ON b.scheme = v.scheme
              AND b.factor_n = v.factor_n AND (b.below IS NULL OR v.value < b.below)
            WHERE v.value IS NOT NULL
            GROUP BY v.subject, v.scheme, v.asked, v.factor_n"""
    card_points = f"""SELECT v.subject, v.scheme, v.asked,
              CAST(SUM(CASE WHEN v.value IS NULL THEN v.missing ELSE b.points END) AS BIGINT)
                AS points
            FROM {p}factor_value v
            LEFT JOIN {p}factor_bin fb ON fb.subject = v.subject AND fb.scheme = v.scheme
              AND fb.asked = v.asked AND fb.factor_n = v.factor_n
            LEFT JOIN d_bin b ON b.scheme = fb.scheme AND b.factor_n = fb.factor_n
              AND b.bin_n = fb.bin_n
            GROUP BY v.subject, v.scheme, v.asked"""
    return [
        (f"{p}factor_read", factor_read),
        (f"{p}factor_value", factor_value),
        (f"{p}factor_bin", factor_bin),
        (f"{p}card_points", card_points),
    ]


_TOTALS_JOIN = """
            LEFT JOIN {p}totals tt ON tt.subject = k.subject AND tt.scheme = k.scheme
              AND tt.asked = k.asked"""


def _ask_steps(
    p: str, asks: str | None, instants: str | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The steps that make ``{p}ask`` (each ask with its consent, enrolment and
    rescoring): those before the records are classified, and those after the
    totals (where the asks come from the totals)."""
    if instants is None:
        consenting = f"""SELECT a.subject, a.scheme, a.asked
            FROM {asks} a JOIN con c ON c.subject = a.subject AND c.scheme = a.scheme
            WHERE c.start_at <= a.asked AND (c.end_at IS NULL OR a.asked < c.end_at)
            GROUP BY a.subject, a.scheme, a.asked"""
        ask = f"""SELECT a.subject, a.scheme, a.t, a.asked,
              (NOT s.needs_consent OR ok.subject IS NOT NULL) AS consenting,
              e.enrolled_at, rs.target AS rescore_target
            FROM {asks} a
            JOIN d_scheme s ON s.scheme = a.scheme
            LEFT JOIN {p}consenting ok
              ON ok.subject = a.subject AND ok.scheme = a.scheme AND ok.asked = a.asked
            LEFT JOIN enr e ON e.subject = a.subject AND e.scheme = a.scheme
            LEFT JOIN d_rescore rs ON rs.scheme = a.scheme AND rs.from_at <= a.t
              AND (rs.to_at IS NULL OR a.t < rs.to_at)"""
        return [(f"{p}consenting", consenting), (f"{p}ask", ask)], []
    scheme_ask = f"""SELECT i.scheme, i.t, i.asked, s.needs_consent, rs.target AS rescore_target
            FROM {instants} i JOIN d_scheme s ON s.scheme = i.scheme
            LEFT JOIN d_rescore rs ON rs.scheme = i.scheme AND rs.from_at <= i.t
              AND (rs.to_at IS NULL OR i.t < rs.to_at)"""
    consenting = f"""SELECT c.subject, c.scheme, i.asked
            FROM con c JOIN {instants} i ON i.scheme = c.scheme
            WHERE c.start_at <= i.asked AND (c.end_at IS NULL OR i.asked < c.end_at)
            GROUP BY c.subject, c.scheme, i.asked"""
    # Every subject with a record (its totals) or an enrolment, in one pass.
    ask = f"""SELECT a.subject, a.scheme, k.t, k.asked,
              (NOT k.needs_consent OR ok.subject IS NOT NULL) AS consenting,
              a.enrolled_at, k.rescore_target, a.known, a.points
            FROM (SELECT COALESCE(tt.subject, e.subject) AS subject,
                COALESCE(tt.scheme, e.scheme) AS scheme, e.enrolled_at, tt.known, tt.points
              FROM {p}totals tt FULL OUTER JOIN enr e
                ON e.subject = tt.subject AND e.scheme = tt.scheme) a
            JOIN {p}scheme_ask k ON k.scheme = a.scheme
            LEFT JOIN {p}consenting ok
              ON ok.subject = a.subject AND ok.scheme = a.scheme AND ok.asked = k.asked"""
    return [(f"{p}scheme_ask", scheme_ask), (f"{p}consenting", consenting)], [(f"{p}ask", ask)]


def _classified(p: str, instants: str | None) -> str:
    """Every record of each ask, with what decides whether it counts. Where
    every ask of a scheme is at one instant (``instants``: scheme, t, asked),
    the records are read against their scheme's instant, not joined to a row
    per subject: the one pass over the records then joins only small tables."""
    if instants is None:
        source = f"""FROM {p}ask k
            JOIN rec r ON r.subject = k.subject AND r.scheme = k.scheme"""
        consenting = "k.consenting"
    else:
        source = f"""FROM rec r
            JOIN {p}scheme_ask k ON k.scheme = r.scheme
            LEFT JOIN {p}consenting ok
              ON ok.subject = r.subject AND ok.scheme = r.scheme AND ok.asked = k.asked"""
        consenting = "(NOT k.needs_consent OR ok.subject IS NOT NULL)"
    return f"""SELECT r.subject, r.scheme, k.t, k.asked, {consenting} AS consenting,
              k.rescore_target,
              r.record, r.category, r.version, r.occurred_at, r.reported_at, r.expires_at,
              r.points, st.status, COALESCE(v.version, s.current_version) AS rule_version,
              ru.limit_count, ru.limit_per, ru.cap_rank, ru.cap_grade,
              CASE
                WHEN r.category = {_ERASED} THEN 'erased'
                WHEN r.reported_at > k.t OR r.occurred_at > k.t THEN 'not_yet_reported'
                WHEN NOT {consenting} THEN 'no_consent'
                WHEN k.t >= r.expires_at THEN 'expired'
                WHEN st.status IN ({_SUSPENDING}) THEN st.status
              END AS first_reason,
              (r.category <> {_ERASED} AND r.reported_at <= k.t
                AND (r.occurred_at > k.t OR {consenting})) AS known
            {source}
            JOIN d_scheme s ON s.scheme = k.scheme
            LEFT JOIN st ON st.record = r.record AND st.since <= k.asked
              AND (st.until IS NULL OR k.asked < st.until)
            LEFT JOIN d_version v ON v.scheme = r.scheme AND v.version = r.version
            LEFT JOIN d_rule ru ON ru.scheme = r.scheme
              AND ru.version = COALESCE(v.version, s.current_version) AND ru.category = r.category"""


def held_asks_steps(dialect: Dialect, evaluated: str, prefix: str) -> list[Step]:
    """For every evaluation whose grade a grade-held list holds: the instants
    at or before its ``t`` at which that grade could have changed (a record's
    occurrence, report or expiry and an enrolment, at the next recomputation
    for a monthly scheme; an event or a change of consent, at once), as asks.
    ``{prefix}asks`` is the result; evaluating it gives each instant's grade."""
    p = prefix
    next_month = dialect.add("date_trunc('month', x.instant)", "1", "0")
    return _steps(
        p,
        [
            (
                f"{p}holders",
                f"""SELECT DISTINCT e.subject, e.scheme, e.t
            FROM {evaluated} e JOIN d_grade_list gl ON gl.scheme = e.scheme AND gl.grade = e.grade""",
            ),
            (
                f"{p}scheduled",
                f"""SELECT h.subject, h.scheme, h.t, r.occurred_at AS instant FROM {p}holders h
              JOIN rec r ON r.subject = h.subject AND r.scheme = h.scheme
            UNION ALL SELECT h.subject, h.scheme, h.t, r.reported_at FROM {p}holders h
              JOIN rec r ON r.subject = h.subject AND r.scheme = h.scheme
            UNION ALL SELECT h.subject, h.scheme, h.t, r.expires_at FROM {p}holders h
              JOIN rec r ON r.subject = h.subject AND r.scheme = h.scheme
            UNION ALL SELECT h.subject, h.scheme, h.t, e.enrolled_at FROM {p}holders h
              JOIN enr e ON e.subject = h.subject AND e.scheme = h.scheme""",
            ),
            (
                f"{p}instant",
                f"""SELECT x.subject, x.scheme, x.t,
              CASE WHEN s.monthly AND x.instant <> date_trunc('month', x.instant) THEN {next_month}
                   ELSE x.instant END AS instant
            FROM {p}scheduled x JOIN d_scheme s ON s.scheme = x.scheme
            UNION ALL SELECT h.subject, h.scheme, h.t, st.since FROM {p}holders h
              JOIN rec r ON r.subject = h.subject AND r.scheme = h.scheme
              JOIN st ON st.record = r.record
            UNION ALL SELECT h.subject, h.scheme, h.t, c.start_at FROM {p}holders h
              JOIN con c ON c.subject = h.subject AND c.scheme = h.scheme
            UNION ALL SELECT h.subject, h.scheme, h.t, c.end_at FROM {p}holders h
              JOIN con c ON c.subject = h.subject AND c.scheme = h.scheme
              WHERE c.end_at IS NOT NULL""",
            ),
            (
                f"{p}asks",
                f"""SELECT DISTINCT i.subject, i.scheme,
              CASE WHEN s.monthly THEN date_trunc('month', i.instant) ELSE i.instant END AS t,
              i.instant AS asked, i.t AS held_t
            FROM {p}instant i JOIN d_scheme s ON s.scheme = i.scheme
            WHERE i.instant <= i.t""",
            ),
        ],
    )


def held_entries_step(evaluated: str, history_asks: str, history: str, name: str) -> Step:
    """The entries of grade-held lists: from the start of the unbroken run of
    instants, ending at ``t``, in which the grade was one the list holds, to
    no set end. ``history`` is the evaluation of ``history_asks``."""
    return Step(
        name,
        f"""WITH held AS (
          SELECT e.subject, e.scheme, e.asked, e.t, gl.list_id, l.kind, e.grade
          FROM {evaluated} e
          JOIN d_grade_list gl ON gl.scheme = e.scheme AND gl.grade = e.grade
          JOIN d_list l ON l.scheme = e.scheme AND l.list_id = gl.list_id
        ), judged AS (
          SELECT hd.subject, hd.scheme, hd.asked, hd.list_id, q.asked AS instant,
            (g2.grade IS NOT NULL) AS holds
          FROM held hd
          JOIN {history_asks} q ON q.subject = hd.subject AND q.scheme = hd.scheme
            AND q.held_t = hd.t
          JOIN {history} hv ON hv.subject = q.subject AND hv.scheme = q.scheme
            AND hv.asked = q.asked
          LEFT JOIN d_grade_list g2 ON g2.scheme = hd.scheme AND g2.list_id = hd.list_id
            AND g2.grade = hv.grade
        ), broken AS (
          SELECT subject, scheme, asked, list_id, MAX(instant) AS last_break
          FROM judged WHERE NOT holds GROUP BY subject, scheme, asked, list_id
        ), since AS (
          SELECT j.subject, j.scheme, j.asked, j.list_id, MIN(j.instant) AS since
          FROM judged j LEFT JOIN broken b ON b.subject = j.subject AND b.scheme = j.scheme
            AND b.asked = j.asked AND b.list_id = j.list_id
          WHERE b.last_break IS NULL OR j.instant > b.last_break
          GROUP BY j.subject, j.scheme, j.asked, j.list_id
        )
        SELECT hd.subject, hd.scheme, hd.asked, hd.list_id, hd.kind, COALESCE(s.since, hd.t) AS since,
          hd.grade
        FROM held hd LEFT JOIN since s ON s.subject = hd.subject AND s.scheme = hd.scheme
          AND s.asked = hd.asked AND s.list_id = hd.list_id""",
        True,
    )


def check_steps(dialect: Dialect, stamp: str, action: str) -> list[Step]:
    """The decision on ``action`` at ``stamp`` for every subject, after the
    evaluation (``e_`` steps): each measure that applies (a grade, an entry on
    a list, a memorandum on it, or a business's entry reaching a person
    linked to it), the strongest effect, the product of the adjust factors,
    and a reviewer's override of an adverse decision."""
    entries = """SELECT subject, scheme, list_id FROM e_record_entry
        UNION ALL SELECT subject, scheme, list_id FROM e_grade_entry"""
    return [
        Step("c_entry", entries, True),
        Step(
            "c_reason",
            f"""SELECT e.subject, s.n, s.effect, s.factor, CAST(NULL AS STRING) AS via
            FROM e_evaluation e JOIN d_source s ON s.kind = 'grade' AND s.scheme = e.scheme
              AND s.grade = e.grade
            UNION ALL
            SELECT le.subject, s.n, s.effect, s.factor, CAST(NULL AS STRING) AS via
            FROM c_entry le JOIN d_source s ON s.kind = 'list' AND s.scheme = le.scheme
              AND s.list_id = le.list_id
            UNION ALL
            SELECT l.person, s.n, s.effect, s.factor, l.role AS via
            FROM links l
            JOIN c_entry le ON le.subject = l.business
            JOIN d_source s ON s.kind = 'list' AND s.scheme = le.scheme AND s.list_id = le.list_id
            JOIN d_reach r ON r.scheme = s.scheme AND r.list_id = s.list_id AND r.role = l.role
            WHERE (l.reported_at IS NULL OR l.reported_at <= {stamp}) AND l.since <= {stamp}
              AND (l.until IS NULL OR {stamp} < l.until)""",
            True,
        ),
        Step(
            "c_combined",
            f"""SELECT r.subject, MIN(d.strength) AS strength,
              {dialect.product("CASE WHEN r.effect = 'adjust' THEN r.factor END")} AS factor
            FROM c_reason r JOIN d_strength d ON d.effect = r.effect
            GROUP BY r.subject""",
            False,
        ),
        Step(
            "c_schemes_say",
            """SELECT c.subject, d.effect,
              CASE WHEN d.effect = 'adjust' THEN COALESCE(c.factor, 1.0) END AS factor
            FROM c_combined c JOIN d_strength d ON d.strength = c.strength""",
            False,
        ),
        Step(
            # The latest override made, of those in force: over an adverse answer only.
            "c_override",
            f"""SELECT subject, effect, factor FROM (
              SELECT o.*, row_number() OVER (
                PARTITION BY o.subject ORDER BY o.made_at DESC, o.case_id DESC) AS n
              FROM ovr o WHERE o.action = {_text(action)} AND o.made_at <= {stamp}
                AND o.since <= {stamp} AND {stamp} < o.until) x
            WHERE n = 1""",
            False,
        ),
        Step(
            "c_decision",
            """SELECT c.subject,
              CASE WHEN adverse AND o.subject IS NOT NULL THEN o.effect ELSE c.effect END AS effect,
              CASE WHEN adverse AND o.subject IS NOT NULL THEN o.factor ELSE c.factor END AS factor,
              (adverse AND o.subject IS NOT NULL) AS overridden
            FROM (SELECT s.*, (s.effect = 'deny' OR (s.effect = 'adjust' AND s.factor > 1))
                AS adverse FROM c_schemes_say s) c
            LEFT JOIN c_override o ON o.subject = c.subject""",
            True,
        ),
    ]


# The answers to ``batch check``: subjects by effect, and by the measure behind it.
CHECK_RESULTS = {
    "decisions": """SELECT subject, effect, factor, overridden FROM c_decision""",
    "effects": """SELECT effect, COUNT(*) AS subjects FROM c_decision GROUP BY effect""",
    "reasons": """SELECT r.n, r.via IS NOT NULL AS reached, d.effect AS decided,
        COUNT(DISTINCT r.subject) AS subjects
      FROM c_reason r JOIN c_decision d ON d.subject = r.subject
      GROUP BY r.n, r.via IS NOT NULL, d.effect""",
}


__all__ = [
    "CHECK_RESULTS",
    "DUCKDB",
    "SPARK",
    "Dialect",
    "Step",
    "check_steps",
    "evaluation_steps",
    "held_asks_steps",
    "held_entries_step",
]
