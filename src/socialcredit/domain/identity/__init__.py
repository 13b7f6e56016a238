"""Subject identifiers, their check characters and their keyed pseudonyms."""

from socialcredit.domain.identity.checksums import (
    generate_ric,
    generate_uscc,
    ric_check_char,
    uscc_check_char,
)
from socialcredit.domain.identity.identifiers import (
    SUBJECT_KINDS,
    Identifier,
    IdentifierError,
    SubjectKind,
    parse_identifier,
)
from socialcredit.domain.identity.pseudonym import (
    KeyMissing,
    KeyProblem,
    Pseudonymiser,
    load_or_create_key,
)

__all__ = [
    "SUBJECT_KINDS",
    "Identifier",
    "IdentifierError",
    "KeyMissing",
    "KeyProblem",
    "Pseudonymiser",
    "SubjectKind",
    "generate_ric",
    "generate_uscc",
    "load_or_create_key",
    "parse_identifier",
    "ric_check_char",
    "uscc_check_char",
]
