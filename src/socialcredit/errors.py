"""Every error socialcredit raises on purpose, under one base.

Each class says what went wrong in the terms a caller can act on. The entry
points map them in one place each: the CLI to one line on stderr and an exit
status (``entrypoints/cli/common.py``), the HTTP API to an RFC 9457 problem
document with a status (``entrypoints/api/problems.py``). A message names the
field and the rule broken wherever there is a field to name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class SocialCreditError(Exception):
    """The base of every error this package raises on purpose."""


class UsageError(SocialCreditError, ValueError):
    """A request that cannot be carried out as asked; the message says why.

    Where the message starts with ``field: `` it names the field."""


class InvalidInput(UsageError):
    """Input that breaks a rule: ``field`` names where, ``rule`` what."""

    def __init__(self, field: str, rule: str, message: str | None = None) -> None:
        self.field = field
        self.rule = rule
        super().__init__(message if message is not None else f"{field}: {rule}")


class NotFound(UsageError, LookupError):
    """The record, subject, case, scheme or key asked for is not held."""


class Conflict(UsageError):
    """The request contradicts what is already held."""


class Forbidden(SocialCreditError, PermissionError):
    """The caller is known but may not do this."""


class Unauthenticated(SocialCreditError, PermissionError):
    """No valid credentials were given."""


class ProblemLike(Protocol):
    """One problem in a definition: where in the document, and what is wrong."""

    @property
    def path(self) -> str: ...
    @property
    def message(self) -> str: ...


class DefinitionError(InvalidInput):
    """A scheme or memorandum file that cannot be used, with every problem
    found in it (each with its path in the document)."""

    def __init__(self, source: str, problems: Sequence[ProblemLike]) -> None:
        self.source = source
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        super().__init__(
            (first.path if first else "") or "definition",
            first.message if first else "is not valid",
            "\n".join(f"{source}: {problem}" for problem in self.problems),
        )


class DefinitionErrors(InvalidInput):
    """Problems in one or more definition files, gathered so that nothing is
    added unless every file passes."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        first = errors[0] if errors else None
        super().__init__(
            first.field if first else "definition",
            first.rule if first else "invalid",
            "\n".join(str(e) for e in errors),
        )


class RepairRefused(InvalidInput):
    """An application for credit repair made before the rules allow it;
    ``opens_at`` says from when it is possible."""

    def __init__(self, message: str, opens_at: datetime) -> None:
        self.opens_at = opens_at
        super().__init__("record", message, message)


class StoreError(SocialCreditError, RuntimeError):
    """The database or its identifier key cannot be used (missing, wrong
    version, locked, another key)."""


class KeyProblem(StoreError):
    """The identifier key is missing or malformed."""


class KeyMissing(KeyProblem):
    """No key for a database that already exists: refused rather than invented,
    since a new key would file every subject under a new pseudonym."""


class SnapshotMoved(StoreError):
    """The snapshot a check read in could not take its audit write: another
    writer committed after it or holds the write lock. Nothing was written;
    the check runs again the plain way."""


__all__ = [
    "Conflict",
    "DefinitionError",
    "DefinitionErrors",
    "Forbidden",
    "InvalidInput",
    "KeyMissing",
    "KeyProblem",
    "NotFound",
    "ProblemLike",
    "RepairRefused",
    "SnapshotMoved",
    "SocialCreditError",
    "StoreError",
    "Unauthenticated",
    "UsageError",
]
