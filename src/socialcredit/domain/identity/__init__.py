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
from socialcredit.domain.identity.pseudonym import Pseudonymiser

__all__ = [
    "SUBJECT_KINDS",
    "Identifier",
    "IdentifierError",
    "Pseudonymiser",
    "SubjectKind",
    "generate_ric",
    "generate_uscc",
    "parse_identifier",
    "ric_check_char",
    "uscc_check_char",
]
