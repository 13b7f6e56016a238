"""Records of processing and DPIA drafts are written from the scheme itself."""

from __future__ import annotations

from socialcredit.adapters.files.definitions import validate_files
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.compliance import lint
from socialcredit.domain.compliance.paperwork import dpia_draft, record_of_processing
from socialcredit.domain.schemes.models import Memorandum, Scheme


def _shipped() -> tuple[dict[str, Scheme], dict[str, Memorandum]]:
    loaded = [i.definition for i in validate_files(shipped_scheme_files())]
    return (
        {d.id: d for d in loaded if isinstance(d, Scheme)},
        {d.id: d for d in loaded if isinstance(d, Memorandum)},
    )


def test_every_record_of_processing_names_controller_basis_data_recipients_and_retention() -> None:
    schemes, memoranda = _shipped()
    for scheme in schemes.values():
        text = record_of_processing(scheme, memoranda)
        assert scheme.authority.name in text and "art. 6(1)(" in text
        assert f"kept for {scheme.retention}" in text
        for data in {d for c in scheme.categories for d in c.data_categories}:
            assert data in text
    spc = record_of_processing(schemes["spc-defaulters"], memoranda)
    assert "China Railway Corporation (memorandum `ndrc-2016-141`)" in spc  # a memorandum recipient


def test_a_dpia_draft_lists_every_eu_finding_and_the_review_path() -> None:
    schemes, memoranda = _shipped()
    spc = schemes["spc-defaulters"]
    text = dpia_draft(spc, memoranda)
    findings = lint(spc, "eu", schemes) + lint(memoranda["ndrc-2016-141"], "eu", schemes)
    assert findings and all(f"{f.provision} at `{f.path}`" in text for f in findings)
    # No human_review of its own: the platform's referral is the safeguard named.
    assert "can be referred to a reviewer of Supreme People's Court" in text
    cut_off = dpia_draft(spc.model_copy(update={"referral": False}), memoranda)
    assert "NONE: referral is turned off" in cut_off
    for measure in spc.measures:
        assert f"`{measure.action}`" in text
