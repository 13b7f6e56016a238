"""Which data categories the law treats specially, in the taxonomy the scheme
files already use: fideslang's ``user.*`` keys (Ethyca's default taxonomy: the
keys of the released 2.x to 3.1 versions, and the new names of the draft 3.2,
since files written against either are in use).

Each special category of GDPR art. 9(1) is mapped explicitly, key by key; a
child key (``user.health.medications``) falls under its parent. Keys the
taxonomy does not have are not guessed at: ``user.health`` is special,
``user.healthy_habits`` is not.
"""

from __future__ import annotations

from typing import Literal

SpecialKind = Literal[
    "racial or ethnic origin",
    "political opinions",
    "religious or philosophical beliefs",
    "trade union membership",
    "genetic data",
    "biometric data",
    "data concerning health",
    "data concerning sex life or sexual orientation",
]

# GDPR art. 9(1), key by key.
SPECIAL_CATEGORIES: dict[str, SpecialKind] = {
    "user.demographic.race_ethnicity": "racial or ethnic origin",
    "user.demographic.political_opinion": "political opinions",
    "user.demographic.religious_belief": "religious or philosophical beliefs",
    "user.demographic.philosophical_belief": "religious or philosophical beliefs",
    "user.demographic.union_membership": "trade union membership",
    "user.health.genetic": "genetic data",
    "user.health_and_medical.genetic": "genetic data",  # fideslang 2.0
    # Art. 9(1) covers biometric data "for the purpose of uniquely identifying a
    # natural person": the authentication keys are that by definition; the
    # others (a voice recording, a fingerprint kept for another purpose) are
    # special only when used to identify, which MAYBE_SPECIAL reports.
    "user.authorization.biometrics": "biometric data",
    "user.authorization.biometric": "biometric data",  # fideslang 2.0
    "user.health": "data concerning health",
    "user.health_and_medical": "data concerning health",  # fideslang 2.0
    "user.biometric.health": "data concerning health",  # fideslang 2.0
    "user.health.reproductive_or_sexual": "data concerning sex life or sexual orientation",
    "user.demographic.sexual_orientation": "data concerning sex life or sexual orientation",
}

# GDPR art. 10: personal data relating to criminal convictions and offences.
CRIMINAL_OFFENCE_DATA = ("user.criminal_history",)

# fideslang's catch-all for "protected classifications or sensitive attributes":
# it may or may not be art. 9 data, and the file does not say which.
MAYBE_SPECIAL = (
    "user.demographic.protected_classifications",
    "user.biometrics",
    "user.biometric",  # fideslang 2.0
)

# Location the taxonomy marks as coarse (more than 500 m); any other location
# key, bare ``user.location`` included, is taken as precise.
COARSE_LOCATION = ("user.location.coarse", "user.location.imprecise")


def _under(key: str, parent: str) -> bool:
    return key == parent or key.startswith(parent + ".")


def special_kind(key: str) -> SpecialKind | None:
    """The art. 9(1) category a data-category key falls under, if any (the
    most specific mapped key wins: genetic data sit under health)."""
    found = [parent for parent in SPECIAL_CATEGORIES if _under(key, parent)]
    return SPECIAL_CATEGORIES[max(found, key=len)] if found else None


def is_criminal_offence_data(key: str) -> bool:
    return any(_under(key, parent) for parent in CRIMINAL_OFFENCE_DATA)


def is_maybe_special(key: str) -> bool:
    """A key that may or may not be art. 9 data; ``user.biometric.health`` is
    health data whatever else it is, and reported as such."""
    return special_kind(key) is None and any(_under(key, parent) for parent in MAYBE_SPECIAL)


def is_precise_location(key: str) -> bool:
    return _under(key, "user.location") and not any(
        _under(key, coarse) for coarse in COARSE_LOCATION
    )


__all__ = [
    "CRIMINAL_OFFENCE_DATA",
    "SPECIAL_CATEGORIES",
    "SpecialKind",
    "is_criminal_offence_data",
    "is_maybe_special",
    "is_precise_location",
    "special_kind",
]
