"""Scheme-language YAML into validated models (reading the files is
``adapters/files/definitions.py``'s work).

Every problem is reported as ``file: path: rule`` so that a file with several
mistakes can be fixed in one pass.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from pydantic import ValidationError

from socialcredit.domain.schemes.models import Definition, Memorandum, Scheme
from socialcredit.domain.schemes.references import Problem, memorandum_problems, scheme_problems
from socialcredit.errors import DefinitionError


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    id: str
    version: int
    type: str  # "scheme" or "memorandum"
    added_at: datetime
    digest: str
    text: str


@dataclass(frozen=True, slots=True)
class LoadedDefinition:
    definition: Definition
    source: str
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


class _StrictBoolLoader(yaml.SafeLoader):
    """YAML 1.1 reads ``on``/``off``/``yes``/``no`` as booleans; the scheme
    language uses ``on:`` as a key, so only ``true``/``false`` are booleans."""


_StrictBoolLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictBoolLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def parse_definition(
    text: str, source: str, known_schemes: Mapping[str, Scheme] | None = None
) -> LoadedDefinition:
    data = _read_yaml(text, source)
    kind = data.get("type")
    model: type[Scheme] | type[Memorandum]
    if kind == "scheme":
        model = Scheme
    elif kind == "memorandum":
        model = Memorandum
    else:
        raise DefinitionError(
            source, [Problem("type", f"{kind!r} is not a definition type (scheme or memorandum)")]
        )
    try:
        definition = model.model_validate(data)
    except ValidationError as error:
        raise DefinitionError(source, [_problem(e) for e in _relevant(error.errors())]) from None
    if isinstance(definition, Scheme):
        problems = scheme_problems(definition)
    else:
        problems = memorandum_problems(definition, known_schemes)
    if problems:
        raise DefinitionError(source, problems)
    return LoadedDefinition(definition=definition, source=source, text=text)


def read_document(text: str, source: str) -> dict[str, Any]:
    """The one YAML document of a definition file as plain data, read with the
    scheme language's rules (only ``true``/``false`` are booleans), unvalidated."""
    return _read_yaml(text, source)


def _read_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        documents = list(yaml.load_all(text, Loader=_StrictBoolLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "yaml"
        reason = getattr(error, "problem", None) or str(error)
        raise DefinitionError(source, [Problem(where, f"invalid YAML: {reason}")]) from None
    documents = [d for d in documents if d is not None]
    if len(documents) != 1:
        raise DefinitionError(
            source, [Problem("", f"must hold exactly one YAML document, found {len(documents)}")]
        )
    if not isinstance(documents[0], dict):
        raise DefinitionError(source, [Problem("", "must be a mapping with a 'type' field")])
    return documents[0]


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of the scheme language",
}


def _problem(error: Any) -> Problem:
    path = _path(error["loc"])
    message = _MESSAGES.get(error["type"], error["msg"])
    if error["type"] not in _MESSAGES and "input" in error and _is_scalar(error["input"]):
        message = (
            f"{error['input']!r}: {message}" if repr(error["input"]) not in message else message
        )
    return Problem(path, message)


def _relevant(errors: list[Any]) -> list[Any]:
    """Drop a list's "too short" error that only echoes the failure of its own
    items: pydantic counts the items that validated, so one bad factor would
    also report its list, and that list's parent, as empty."""
    failed = [tuple(e["loc"]) for e in errors]
    return [
        e
        for e in errors
        if e["type"] != "too_short"
        or not any(
            len(loc) > len(e["loc"]) and loc[: len(e["loc"])] == tuple(e["loc"]) for loc in failed
        )
    ]


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
