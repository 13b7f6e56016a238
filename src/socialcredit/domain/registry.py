"""The definitions in force: every version of every scheme, the memoranda,
and the measure index that check decisions are answered from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from socialcredit.domain.schemes.compiled import (
    MeasureIndex,
    SchemeHistory,
    build_measure_index,
    compile_scheme,
)
from socialcredit.domain.schemes.loader import StoredDefinition, parse_definition
from socialcredit.domain.schemes.models import Memorandum, Scheme
from socialcredit.errors import NotFound


@dataclass(frozen=True, slots=True)
class Registry:
    schemes: Mapping[str, SchemeHistory]
    memoranda: Mapping[str, Memorandum]
    index: MeasureIndex = field(init=False)
    # (scheme, list) -> link roles its measures reach, e.g. {"legal_representative"}
    list_reach: Mapping[tuple[str, str], frozenset[str]] = field(init=False)
    # Schemes whose lawful basis is consent: records need the subject's active consent.
    consent_schemes: frozenset[str] = field(init=False)
    # The schemes and link roles of list_reach, worked out once rather than per check.
    reach_schemes: frozenset[str] = field(init=False)
    reach_roles: frozenset[str] = field(init=False)
    # Per action: the schemes that bear on it and whether a grade can (check_inputs).
    _check_inputs: Mapping[str, tuple[frozenset[str], bool]] = field(init=False)

    def __post_init__(self) -> None:
        currents = [history.current for history in self.schemes.values()]
        object.__setattr__(self, "index", build_measure_index(currents, self.memoranda.values()))
        reach = {
            (scheme.id, lst.id): frozenset(lst.reach)
            for scheme in currents
            for lst in scheme.definition.lists
            if lst.reach
        }
        object.__setattr__(self, "list_reach", reach)
        consenting = frozenset(s.id for s in currents if s.definition.lawful_basis == "consent")
        object.__setattr__(self, "consent_schemes", consenting)
        object.__setattr__(self, "reach_schemes", frozenset(s for s, _ in reach))
        roles = frozenset(role for roles in reach.values() for role in roles)
        object.__setattr__(self, "reach_roles", roles)
        inputs = {
            action: (self.index.schemes_for(action), self.grades_matter(action))
            for action in self.index.by_action
        }
        object.__setattr__(self, "_check_inputs", inputs)

    def check_inputs(self, action: str) -> tuple[frozenset[str], bool]:
        """``(index.schemes_for(action), grades_matter(action))``, worked out once per
        registry rather than on every check."""
        return self._check_inputs.get(action, _NO_INPUTS)

    def grades_matter(self, action: str) -> bool:
        """Whether a grade can bear on ``action``: a grade measure, or a list held
        by grade. Only then does a check need explicit enrolments, since an
        enrolled subject without records still has a grade."""
        for source in self.index.sources(action):
            if source.grades:
                return True
            held = self.schemes[source.scheme].current.lists.get(source.list or "")
            if held is not None and held.grades is not None:
                return True
        return False

    @property
    def current_schemes(self) -> dict[str, Scheme]:
        return {sid: history.current.definition for sid, history in self.schemes.items()}

    def history(self, scheme_id: str) -> SchemeHistory:
        try:
            return self.schemes[scheme_id]
        except KeyError:
            known = ", ".join(sorted(self.schemes)) or "none yet"
            raise UnknownName(f"unknown scheme {scheme_id!r} (known: {known})") from None

    def reaching_roles(self) -> frozenset[str]:
        return self.reach_roles

    def published(self, scheme: str, list_id: str) -> bool:
        """Whether a ``publish`` measure (the scheme's own or a memorandum's)
        covers the list; :class:`UnknownName` if the scheme has no such list."""
        if list_id not in self.history(scheme).current.lists:
            raise UnknownName(f"scheme {scheme!r} has no list {list_id!r}")
        return any(
            source.effect == "publish" and source.scheme == scheme and source.list == list_id
            for action in self.index.actions
            for source in self.index.sources(action)
        )


_NO_INPUTS: tuple[frozenset[str], bool] = (frozenset(), False)


class UnknownName(NotFound):
    """A scheme, list, record or action that does not exist."""


PROPOSAL_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def with_proposal(registry: Registry, proposal: Scheme) -> Registry:
    """The registry as it would be if ``proposal`` had always been the scheme's
    rule: every version of the scheme read as the proposal (so its records take
    its limits, caps and lists) and every record rescored to it from the start
    (so they take its points). What a policy simulation compares with today."""
    history = registry.history(proposal.id)
    compiled = {n: compile_scheme(proposal, n) for n in history.versions}
    after = max(history.versions) + 1
    compiled[after] = compile_scheme(proposal, after)
    schemes = dict(registry.schemes)
    schemes[proposal.id] = SchemeHistory(compiled, ((PROPOSAL_EPOCH, after),))
    return Registry(schemes, registry.memoranda)


def build_registry(
    stored: Sequence[StoredDefinition],
    rescorings: Sequence[tuple[str, int, datetime]] = (),
) -> Registry:
    """Re-validate stored definitions (they were validated when added) and compile them."""
    versions: dict[str, dict[int, Scheme]] = {}
    memoranda: dict[str, Memorandum] = {}
    for row in stored:
        if row.type != "scheme":
            continue
        loaded = parse_definition(row.text, f"{row.id} v{row.version}")
        assert isinstance(loaded.definition, Scheme)
        versions.setdefault(row.id, {})[row.version] = loaded.definition
    schemes = {
        sid: SchemeHistory(
            {n: compile_scheme(s, n) for n, s in found.items()},
            tuple((at, version) for scheme, version, at in rescorings if scheme == sid),
        )
        for sid, found in versions.items()
    }
    current = {sid: history.current.definition for sid, history in schemes.items()}
    for row in sorted((r for r in stored if r.type == "memorandum"), key=lambda r: r.version):
        loaded = parse_definition(row.text, f"{row.id} v{row.version}", current)
        assert isinstance(loaded.definition, Memorandum)
        memoranda[row.id] = loaded.definition  # the latest version wins
    return Registry(schemes, memoranda)
