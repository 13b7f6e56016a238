"""Definition files: read, parsed and validated together, so that memoranda
may name schemes given in the same call and nothing is added unless every
file passes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from socialcredit.domain.schemes.loader import LoadedDefinition, parse_definition
from socialcredit.domain.schemes.models import Memorandum, Scheme
from socialcredit.domain.schemes.references import Problem
from socialcredit.errors import DefinitionError, DefinitionErrors


def load_definition(
    path: str | Path, known_schemes: Mapping[str, Scheme] | None = None
) -> LoadedDefinition:
    """One definition file, parsed and validated (memoranda against ``known_schemes``)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise DefinitionError(str(file), [Problem("", f"cannot read: {error.strerror}")]) from None
    except UnicodeDecodeError:
        raise DefinitionError(str(file), [Problem("", "is not UTF-8 text")]) from None
    return parse_definition(text, str(file), known_schemes)


def validate_files(
    paths: Sequence[str | Path], known_schemes: Mapping[str, Scheme] | None = None
) -> list[LoadedDefinition]:
    """Load and validate every file; memoranda may name schemes in the same call.

    Problems in every file are gathered into one :class:`DefinitionErrors`,
    so that a caller adds nothing unless all files pass."""
    known: dict[str, Scheme] = dict(known_schemes or {})
    loaded: list[LoadedDefinition] = []
    errors: list[DefinitionError] = []
    memoranda: list[Path] = []
    for path in map(Path, paths):
        try:
            item = load_definition(path)
        except DefinitionError as error:
            errors.append(error)
            continue
        if isinstance(item.definition, Memorandum):
            memoranda.append(path)
        else:
            known[item.definition.id] = item.definition
            loaded.append(item)
    for path in memoranda:
        try:
            loaded.append(load_definition(path, known))
        except DefinitionError as error:
            errors.append(error)
    if errors:
        raise DefinitionErrors(errors)
    return loaded


__all__ = ["load_definition", "validate_files"]
