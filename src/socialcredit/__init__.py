"""socialcredit: many schemes, no single score; every score explained,
contestable and audited.

The public API::

    import socialcredit

    with socialcredit.open("city.db") as services:
        row, evaluations = services.checks.scores("cn-ric:...", actor="me")

``open`` wires the use cases over a ledger (see ``socialcredit.bootstrap``);
``Services`` is what it returns; every error raised on purpose is a
``SocialCreditError`` (``socialcredit.errors``). Plugins use
``socialcredit.plugins`` and the pure values of ``socialcredit.domain``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialcredit.errors import (
    Conflict,
    DefinitionError,
    DefinitionErrors,
    Forbidden,
    InvalidInput,
    NotFound,
    SocialCreditError,
    StoreError,
    Unauthenticated,
    UsageError,
)

if TYPE_CHECKING:
    from socialcredit.bootstrap import Services, open

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The composition root loads on first use, so that importing a pure module
    # of the domain (which imports this package first) does not wire everything.
    if name in ("open", "Services"):
        from socialcredit import bootstrap

        return getattr(bootstrap, name)
    raise AttributeError(f"module 'socialcredit' has no attribute {name!r}")


__all__ = [
    "Conflict",
    "DefinitionError",
    "DefinitionErrors",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Services",
    "SocialCreditError",
    "StoreError",
    "Unauthenticated",
    "UsageError",
    "__version__",
    "open",
]
