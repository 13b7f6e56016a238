"""Scheme and memorandum definitions: validated, added as new versions, listed,
and the explicit, logged rescoring of older records under a newer version."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from socialcredit.domain.compliance import (
    PROFILES,
    THIS_PLATFORM,
    Finding,
    Platform,
    Profile,
    legal_findings,
    lint,
)
from socialcredit.domain.registry import Registry
from socialcredit.domain.schemes.loader import LoadedDefinition, StoredDefinition, parse_definition
from socialcredit.domain.schemes.models import Memorandum, Scheme
from socialcredit.errors import DefinitionError, DefinitionErrors, NotFound, UsageError
from socialcredit.services.unit_of_work import UnitOfWork

# Reads and validates definition files together (``adapters/files/definitions.py``).
LoadFiles = Callable[[Sequence[Path], Mapping[str, Scheme]], list[LoadedDefinition]]


@dataclass(frozen=True, slots=True)
class AddedDefinition:
    id: str
    type: str
    version: int
    source: str


@dataclass(frozen=True, slots=True)
class Preview:
    """A definition as it would be added, before it is: the problems that
    keep it out, or the definition and the linter's findings in each profile."""

    source: str
    text: str
    definition: Scheme | Memorandum | None
    problems: list[str]
    findings: dict[Profile, list[Finding]]

    @property
    def addable(self) -> bool:
        return self.definition is not None


class Definitions:
    def __init__(self, uow: UnitOfWork, load_files: LoadFiles) -> None:
        self._uow = uow
        self._load_files = load_files

    @property
    def registry(self) -> Registry:
        """The definitions in force: every version of every scheme, the memoranda,
        and the measure index checks are answered from."""
        return self._uow.registry

    def scheme(self, scheme_id: str) -> Scheme:
        """The current version of a scheme (:class:`NotFound` if there is none)."""
        return self._uow.registry.history(scheme_id).current.definition

    def memoranda(self) -> dict[str, Memorandum]:
        return dict(self._uow.registry.memoranda)

    def validate_files(self, paths: Sequence[str | Path]) -> list[LoadedDefinition]:
        """Every file valid, or one :class:`DefinitionErrors` naming each problem
        of each file; memoranda may name schemes of the same call or held."""
        return self._load_files([Path(p) for p in paths], self._uow.registry.current_schemes)

    def add_files(self, paths: Sequence[str | Path]) -> list[AddedDefinition]:
        """Validate definition files and add them all, or none."""
        return self._add(self.validate_files(paths))

    def add_text(self, text: str, source: str = "text") -> list[AddedDefinition]:
        """Validate and add one definition given as YAML text (e.g. an HTTP body)."""
        try:
            loaded = parse_definition(text, source, self._uow.registry.current_schemes)
        except DefinitionError as error:
            raise DefinitionErrors([error]) from None
        return self._add([loaded])

    def preview(
        self, text: str, source: str = "text", platform: Platform = THIS_PLATFORM
    ) -> Preview:
        """Validate and lint one definition (YAML text) in every profile
        without adding it; a memorandum is linted against the schemes held."""
        held = self._uow.registry.current_schemes
        try:
            loaded = parse_definition(text, source, held)
        except DefinitionError as error:
            pairs = [(p.path, p.message) for p in error.problems]
            found = {profile: legal_findings(pairs) for profile in PROFILES}
            return Preview(source, text, None, [str(p) for p in error.problems], found)
        definition = loaded.definition
        schemes = dict(held)
        if isinstance(definition, Scheme):
            schemes[definition.id] = definition
        found = {profile: lint(definition, profile, schemes, platform) for profile in PROFILES}
        return Preview(source, text, definition, [], found)

    def findings(
        self, scheme_id: str, platform: Platform = THIS_PLATFORM
    ) -> dict[Profile, list[Finding]]:
        """The linter's findings, in every profile, on a scheme in force and the
        memoranda that apply to it (what a citizen reading the scheme is shown)."""
        registry = self._uow.registry
        scheme = self.scheme(scheme_id)
        schemes = dict(registry.current_schemes)
        found = {profile: lint(scheme, profile, schemes, platform) for profile in PROFILES}
        for memo in registry.memoranda.values():
            if memo.on.scheme == scheme.id:
                for profile in PROFILES:
                    found[profile] += lint(memo, profile, schemes, platform)
        return found

    def _add(self, loaded: Sequence[LoadedDefinition]) -> list[AddedDefinition]:
        added = []
        store, clock = self._uow.definitions, self._uow.clock
        for item in loaded:
            definition = item.definition
            version = store.add_definition(
                definition.id, definition.type, clock(), item.digest, item.text
            )
            added.append(AddedDefinition(definition.id, definition.type, version, item.source))
        self._uow.definitions_changed()
        return added

    # -- reading -------------------------------------------------------------------

    def stored(self) -> list[StoredDefinition]:
        """Every version of every definition as added, ordered by id and version."""
        return self._uow.definitions.definitions()

    def latest(self) -> list[StoredDefinition]:
        """The latest version of every scheme and memorandum, schemes first, by id."""
        latest = {row.id: row for row in self.stored()}  # rows come ordered by id, version
        return sorted(latest.values(), key=lambda r: (r.type, r.id))

    def versions(self, definition_id: str) -> list[StoredDefinition]:
        """Every version of one definition, oldest first (:class:`NotFound` if none)."""
        found = [row for row in self.stored() if row.id == definition_id]
        if not found:
            raise NotFound(f"no scheme or memorandum {definition_id!r}")
        return found

    def version(self, definition_id: str, version: int | None = None) -> StoredDefinition:
        """One version of a definition, the latest by default."""
        found = self.versions(definition_id)
        chosen = [row for row in found if version is None or row.version == version]
        if not chosen:
            held = ", ".join(str(row.version) for row in found)
            raise NotFound(f"{definition_id!r} has versions {held}, not {version}")
        return chosen[-1]

    def published(self, scheme: str, list_id: str) -> bool:
        """Whether a `publish` measure (the scheme's own or a memorandum's) covers the list."""
        return self._uow.registry.published(scheme, list_id)

    def authorities(self) -> set[str]:
        """Every authority that runs a scheme or signed a memorandum."""
        registry = self._uow.registry
        found = {h.current.definition.authority.id for h in registry.schemes.values()}
        for memo in registry.memoranda.values():
            found.update(signatory.id for signatory in memo.signatories)
        return found

    def schemes_of(self, authority: str | None) -> frozenset[str]:
        """The schemes an authority runs."""
        return frozenset(
            scheme_id
            for scheme_id, history in self._uow.registry.schemes.items()
            if history.current.definition.authority.id == authority
        )

    # -- rescoring -------------------------------------------------------------------

    def rescore(
        self,
        scheme_id: str,
        *,
        version: int | None = None,
        at: datetime | None = None,
        actor: str,
        reason: str | None = None,
    ) -> tuple[int, datetime, bool]:
        """From ``at`` on, records reported under older versions count with the
        points of ``version`` (default: the latest). Logged; never silent.
        Returns the version, from when, and whether anything was written: a
        rescore the scheme already has (the last one, to the same version, no
        later) is not written twice, so that a retried command does it once."""
        history = self._uow.registry.history(scheme_id)
        target = version if version is not None else history.current.version
        if target not in history.versions:
            known = ", ".join(map(str, sorted(history.versions)))
            raise UsageError(f"scheme {scheme_id!r} has no version {target} (it has {known})")
        now = self._uow.clock()
        moment = at or now
        if history.rescorings:
            since, last = history.rescorings[-1]
            if last == target and since <= max(moment, now):
                return target, since, False
        self._uow.definitions.add_rescoring(scheme_id, target, moment, actor, reason, now)
        self._uow.definitions_changed()
        return target, moment, True


__all__ = ["AddedDefinition", "Definitions", "LoadFiles", "Preview"]
