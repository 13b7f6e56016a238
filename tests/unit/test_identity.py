"""Identifiers, check characters and pseudonyms (DESIGN §2 and §4)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.identity import (
    SUBJECT_KINDS,
    IdentifierError,
    Pseudonymiser,
    SubjectKind,
    checksums,
    generate_ric,
    generate_uscc,
    parse_identifier,
    ric_check_char,
    uscc_check_char,
)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
RIC_CHECK_ALPHABET = "0123456789X"
DIGITS = "0123456789"

seeds = st.integers(min_value=0, max_value=2**32)


# Reference implementations written straight from the standards' tables, so the fast
# arithmetic in checksums.py is checked against something independent of it.
def reference_ric_check(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(w * int(c) for w, c in zip(weights, first17, strict=True))
    return RIC_CHECK_ALPHABET[(12 - total % 11) % 11]


def reference_uscc_check(first17: str) -> str:
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(w * USCC_ALPHABET.index(c) for w, c in zip(weights, first17, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


# --- check characters: published and hand-computed examples --------------------------


def test_exported_tables_are_the_published_ones() -> None:
    assert checksums.RIC_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert checksums.USCC_WEIGHTS == (
        1,
        3,
        9,
        27,
        19,
        26,
        16,
        17,
        20,
        29,
        25,
        13,
        8,
        24,
        10,
        30,
        28,
    )
    assert checksums.USCC_ALPHABET == USCC_ALPHABET


def test_ric_check_of_the_gb_11643_example() -> None:
    # By hand: digits x weights = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167,
    # 167 mod 11 = 2, (12 - 2) mod 11 = 10 -> 'X'.
    assert ric_check_char("11010519491231002") == "X"


def test_uscc_check_of_a_hand_computed_example() -> None:
    # 1,1,3,7,1,0,8,2 x 1,3,9,27,19,26,16,17 = 1+3+27+189+19+0+128+34 = 401;
    # 401 mod 31 = 29; (31 - 29) mod 31 = 2 -> '2'. The rest of the body is zeros.
    assert uscc_check_char("11371082000000000") == "2"


def test_uscc_check_of_a_real_code() -> None:
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert parse_identifier("cn-uscc:91350100M000100Y43").kind == "business"


@settings(max_examples=300)
@given(st.text(alphabet=DIGITS, min_size=17, max_size=17))
def test_ric_check_matches_the_weight_table(body: str) -> None:
    assert ric_check_char(body) == reference_ric_check(body)


@settings(max_examples=300)
@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_matches_the_weight_table(body: str) -> None:
    assert uscc_check_char(body) == reference_uscc_check(body)


@pytest.mark.parametrize("body", ["1101051949123100", "1101051949123100A", "1101051949123100٣"])
def test_ric_check_rejects_bodies_that_are_not_17_ascii_digits(body: str) -> None:
    with pytest.raises(ValueError):
        ric_check_char(body)


@pytest.mark.parametrize(
    "body", ["91350100M000100Y", "91350100M000100YI", "91350100M000100y4", "9135010_M000100Y4"]
)
def test_uscc_check_rejects_characters_outside_the_alphabet(body: str) -> None:
    with pytest.raises(ValueError):
        uscc_check_char(body)


# --- generators -----------------------------------------------------------------------


@settings(max_examples=200)
@given(seeds)
def test_generated_rics_parse_as_people_born_1940_to_2008(seed: int) -> None:
    ric = generate_ric(random.Random(seed))
    identifier = parse_identifier(f"cn-ric:{ric}")
    assert identifier.kind == "person"
    assert identifier.value == ric
    assert ric.startswith("371082")
    assert "19400101" <= ric[6:14] <= "20081231"


def test_generate_ric_uses_the_given_region_and_birth_date() -> None:
    ric = generate_ric(random.Random(1), region="110105", birth=datetime.date(1949, 12, 31))
    assert ric.startswith("11010519491231")
    assert parse_identifier(f"cn-ric:{ric}").value == ric


@settings(max_examples=200)
@given(seeds, st.sampled_from(["1", "5", "9"]))
def test_generated_usccs_parse(seed: int, first: str) -> None:
    uscc = generate_uscc(random.Random(seed), first=first)
    identifier = parse_identifier(f"cn-uscc:{uscc}", "institution" if first == "5" else None)
    assert identifier.value == uscc
    assert uscc[0] == first
    assert uscc[2:8] == "371082"


def test_generators_are_reproducible_from_the_seed() -> None:
    assert generate_ric(random.Random(7)) == generate_ric(random.Random(7))
    assert generate_uscc(random.Random(7)) == generate_uscc(random.Random(7))


def test_generators_reject_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate_ric(random.Random(1), region="37108")
    with pytest.raises(ValueError):
        generate_uscc(random.Random(1), first="I")


# --- every single-character substitution is caught ------------------------------------


def substitutions(value: str, alphabet_at: list[str]) -> list[str]:
    return [
        value[:i] + other + value[i + 1 :]
        for i, alphabet in enumerate(alphabet_at)
        for other in alphabet
        if other != value[i]
    ]


@settings(max_examples=40)
@given(seeds)
def test_every_single_substitution_of_a_ric_is_rejected(seed: int) -> None:
    ric = generate_ric(random.Random(seed))
    for wrong in substitutions(ric, [DIGITS] * 17 + [RIC_CHECK_ALPHABET]):
        with pytest.raises(IdentifierError):
            parse_identifier(f"cn-ric:{wrong}")


@settings(max_examples=40)
@given(seeds, st.sampled_from(["1", "9"]))
def test_every_single_substitution_of_a_uscc_is_rejected(seed: int, first: str) -> None:
    uscc = generate_uscc(random.Random(seed), first=first)
    for wrong in substitutions(uscc, [USCC_ALPHABET] * 18):
        # An explicit kind keeps a changed first character from failing for that reason.
        with pytest.raises(IdentifierError, match="check character"):
            parse_identifier(f"cn-uscc:{wrong}", "business" if wrong[0] == "9" else "institution")


@settings(max_examples=100)
@given(seeds, st.sampled_from(RIC_CHECK_ALPHABET))
def test_a_wrong_ric_check_character_is_named_in_the_message(seed: int, check: str) -> None:
    ric = generate_ric(random.Random(seed))
    if check == ric[17]:
        return
    with pytest.raises(IdentifierError) as caught:
        parse_identifier(f"cn-ric:{ric[:17]}{check}")
    assert str(caught.value) == (
        f"cn-ric:{ric[:6]}********{ric[14:17]}{check}: check character is '{check}' "
        f"but GB 11643-1999 gives '{ric[17]}'"
    )
    assert ric[6:14] not in str(caught.value)  # the birth date and sequence stay masked


def test_a_wrong_uscc_check_character_is_named_in_the_message() -> None:
    with pytest.raises(IdentifierError, match="check character is '4' but GB 32100-2015 gives '3'"):
        parse_identifier("cn-uscc:91350100M000100Y44")


# --- parsing: canonical form and structural errors ------------------------------------


def test_lower_case_check_characters_are_canonicalised() -> None:
    assert parse_identifier("cn-ric:11010519491231002x").text == "cn-ric:11010519491231002X"
    uscc = parse_identifier("cn-uscc:91350100m000100y43")
    assert uscc.text == "cn-uscc:91350100M000100Y43"
    assert uscc == parse_identifier("cn-uscc:91350100M000100Y43")


def test_upper_case_namespaces_are_canonicalised() -> None:
    assert parse_identifier("CN-RIC:11010519491231002X").namespace == "cn-ric"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cn-ric:11010519491231002", "must be 18 characters, got 17"),
        ("cn-uscc:91350100M000100Y4", "must be 18 characters, got 17"),
        ("cn-ric:1101051949123100AX", "character 'A' at position 17 is not a digit"),
        ("cn-ric:11010519491231002Y", "check character 'Y' must be a digit or X"),
        ("cn-uscc:91350100M000I00Y43", "character 'I' at position 13 is not allowed"),
        ("cn-uscc:91350100M000100YO3", "character 'O' at position 17 is not allowed"),
        ("cn-uscc:91350100M000100Y4Z", "character 'Z' at position 18 is not allowed"),
        ("cn-uscc:91350100M000100Y4ß", "character 'ß' at position 18 is not allowed"),
        ("foo:123", "unknown identifier namespace 'foo' (expected cn-ric, cn-uscc or ext)"),
        ("11010519491231002X", "has no namespace"),
    ],
)
def test_structural_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_identifier(text)
    assert message in str(caught.value)


@pytest.mark.parametrize("birth", ["19490229", "19491301", "19490431", "00000101", "19490100"])
def test_ric_birth_date_must_be_a_real_date(birth: str) -> None:
    body = f"110105{birth}002"
    with pytest.raises(IdentifierError, match=f"birth date {birth} .* is not a real date"):
        parse_identifier(f"cn-ric:{body}{reference_ric_check(body)}")


def test_ric_leap_day_in_a_leap_year_is_accepted() -> None:
    body = "11010520000229002"
    assert parse_identifier(f"cn-ric:{body}{reference_ric_check(body)}").kind == "person"


# --- kinds ----------------------------------------------------------------------------


def test_identity_and_the_scheme_language_name_the_same_subject_kinds() -> None:
    from typing import get_args

    from socialcredit.domain.schemes.models import SubjectKind as SchemeSubjectKind

    assert SUBJECT_KINDS == get_args(SchemeSubjectKind) == ("person", "business", "institution")


def test_ric_is_a_person_and_contradicting_kinds_are_rejected() -> None:
    assert parse_identifier("cn-ric:11010519491231002X", "person").kind == "person"
    with pytest.raises(IdentifierError, match="identifies a person, not a business"):
        parse_identifier("cn-ric:11010519491231002X", "business")


def uscc_with_first(first: str) -> str:
    body = first + "1371082MA3C00001"
    return body + reference_uscc_check(body)


@pytest.mark.parametrize(("first", "kind"), [("1", "institution"), ("9", "business")])
def test_uscc_first_character_fixes_the_kind(first: str, kind: SubjectKind) -> None:
    uscc = uscc_with_first(first)
    assert parse_identifier(f"cn-uscc:{uscc}").kind == kind
    assert parse_identifier(f"cn-uscc:{uscc}", kind).kind == kind
    other: SubjectKind = "business" if kind == "institution" else "institution"
    with pytest.raises(IdentifierError, match=f"means {kind}, but kind {other} was given"):
        parse_identifier(f"cn-uscc:{uscc}", other)


@pytest.mark.parametrize("first", ["5", "A", "Y"])
def test_other_uscc_authorities_need_an_explicit_kind(first: str) -> None:
    uscc = uscc_with_first(first)
    with pytest.raises(IdentifierError, match="must be given"):
        parse_identifier(f"cn-uscc:{uscc}")
    assert parse_identifier(f"cn-uscc:{uscc}", "institution").kind == "institution"
    assert parse_identifier(f"cn-uscc:{uscc}", "business").kind == "business"


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(IdentifierError, match="unknown subject kind 'robot'"):
        parse_identifier("ext:acme:1", "robot")  # type: ignore[arg-type]


def test_ext_needs_an_explicit_kind() -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_identifier("ext:mobike:u-991")
    assert str(caught.value) == (
        "ext:mobike:u***1: needs an explicit kind (person, business or institution)"
    )
    identifier = parse_identifier("ext:mobike:u-991", "person")
    assert (identifier.namespace, identifier.value, identifier.kind) == (
        "ext",
        "mobike:u-991",
        "person",
    )
    assert identifier.text == "ext:mobike:u-991"


@pytest.mark.parametrize(
    "text",
    [
        "ext:mobike",
        "ext:mobike:",
        "ext::u-991",
        "ext:-mobike:u-991",
        "ext:Mobike:u-991",
        "ext:mo_bike:u-991",
        "ext:mobike:u 991",
        "ext:mobike:u\t991",
        "ext:mobike:u\u3000991",
    ],
)
def test_malformed_ext_identifiers_are_rejected(text: str) -> None:
    with pytest.raises(IdentifierError):
        parse_identifier(text, "person")


def test_ext_id_keeps_its_case_and_may_contain_colons() -> None:
    assert parse_identifier("ext:sesame-2:AbC:9", "person").text == "ext:sesame-2:AbC:9"


# --- masking --------------------------------------------------------------------------


def test_masked_forms_of_the_examples() -> None:
    assert parse_identifier("cn-ric:11010519491231002X").masked() == "cn-ric:110105********002X"
    uscc = parse_identifier("cn-uscc:91350100M000100Y43")
    assert uscc.masked() == "cn-uscc:913501********0Y43"


@settings(max_examples=200)
@given(seeds)
def test_masking_hides_the_middle_of_cn_ids(seed: int) -> None:
    rng = random.Random(seed)
    for text in (f"cn-ric:{generate_ric(rng)}", f"cn-uscc:{generate_uscc(rng)}"):
        identifier = parse_identifier(text)
        masked = identifier.masked()
        assert identifier.value[6:14] not in masked
        assert masked.count("*") == 8
        assert identifier.value not in repr(identifier)
        assert identifier.value[6:14] not in repr(identifier)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=40))
def test_masking_hides_at_least_half_of_an_ext_id(local: str) -> None:
    identifier = parse_identifier(f"ext:acme:{local}", "business")
    masked_local = identifier.masked().removeprefix("ext:acme:")
    assert len(masked_local) == len(local)
    shown = [i for i, char in enumerate(masked_local) if char != "*"]
    assert all(masked_local[i] == local[i] for i in shown)
    assert len(shown) <= min(4, len(local) // 2)
    if len(local) <= 4:
        assert masked_local == "*" * len(local)
    # Only the ends may show: no shown character lies inside the middle.
    assert all(i < 2 or i >= len(local) - 2 for i in shown)


# --- pseudonyms -----------------------------------------------------------------------

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def test_subject_key_is_the_hmac_of_the_canonical_text() -> None:
    identifier = parse_identifier("cn-ric:11010519491231002x")
    expected = hmac.new(KEY_A, b"cn-ric:11010519491231002X", hashlib.sha256).hexdigest()[:32]
    assert Pseudonymiser(KEY_A).subject_key(identifier) == expected


@settings(max_examples=100)
@given(seeds)
def test_subject_key_is_stable_per_key_and_differs_between_keys(seed: int) -> None:
    identifier = parse_identifier(f"cn-ric:{generate_ric(random.Random(seed))}")
    first, again = Pseudonymiser(KEY_A), Pseudonymiser(KEY_A)
    key = first.subject_key(identifier)
    assert key == first.subject_key(identifier) == again.subject_key(identifier)
    assert key != Pseudonymiser(KEY_B).subject_key(identifier)
    assert identifier.value not in key


def test_different_subjects_get_different_keys() -> None:
    rng = random.Random(3)
    pseudonymiser = Pseudonymiser(KEY_A)
    rics = {generate_ric(rng) for _ in range(2000)}
    keys = {pseudonymiser.subject_key(parse_identifier(f"cn-ric:{ric}")) for ric in rics}
    assert len(keys) == len(rics)


def test_cache_stays_bounded_and_answers_stay_right() -> None:
    pseudonymiser = Pseudonymiser(KEY_A, cache_limit=10)
    rng = random.Random(4)
    identifiers = [parse_identifier(f"cn-ric:{generate_ric(rng)}") for _ in range(35)]
    for identifier in identifiers * 2:
        expected = hmac.new(KEY_A, identifier.text.encode(), hashlib.sha256).hexdigest()[:32]
        assert pseudonymiser.subject_key(identifier) == expected
        assert len(pseudonymiser._cache) <= 10


def test_short_keys_are_refused_and_the_key_is_not_shown() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Pseudonymiser(b"x" * 15)
    assert KEY_A.hex() not in repr(Pseudonymiser(KEY_A))


# --- GB/T 2260 region codes ---------------------------------------------------------


def _ric(region: str, birth: str = "19800101", order: str = "123") -> str:
    body = region + birth + order
    return f"cn-ric:{body}{ric_check_char(body)}"


@pytest.mark.parametrize("region", ["999999", "000000", "371099", "120000"[:2] + "9999"])
def test_a_region_code_no_vintage_of_gb_t_2260_holds_is_refused(region: str) -> None:
    with pytest.raises(IdentifierError, match=f"region code {region} is not a GB/T 2260"):
        parse_identifier(_ric(region))


def test_a_retired_or_younger_region_code_is_accepted() -> None:
    # 110103 (Chongwen district) was merged away in 2010; 110112 (Tongzhou district)
    # dates from 1997. The code is that of registration when the ID was issued,
    # so someone born in 1950 may well hold either.
    for region in ("110103", "110112"):
        assert parse_identifier(_ric(region, "19500301")).kind == "person"


def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_are_accepted() -> None:
    for region in ("810000", "820000", "830000"):
        assert parse_identifier(_ric(region, "19900101")).kind == "person"


def test_the_region_table_agrees_with_stdnums_own_reading_of_its_data() -> None:
    from stdnum import numdb

    from socialcredit.domain.identity.regions import PERMIT_CODES, region_table

    stdnum_table = numdb.get("cn/loc")
    ours = region_table()
    rng = random.Random(7)
    codes = sorted(ours.codes)
    asked = [rng.choice(codes) for _ in range(2_000)]
    asked += [f"{rng.randint(0, 999_999):06d}" for _ in range(3_000)]
    for code in asked:
        if code in PERMIT_CODES:  # residence permits' codes, added to the table here
            continue
        info = stdnum_table.info(code)
        known = any("county" in props for part, props in info if len(part) == 4)
        assert ours.known(code) == known, code
