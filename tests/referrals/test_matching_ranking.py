"""The pure matcher: hard filters never bend, then ranking by time, language and load."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from referrals.matching import Candidate, Criteria, hard_filter_failures, rank

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)

CRITERIA = Criteria(
    state="NY",
    specialty="opioid-use-disorder",
    modality="video",
    insurance="medicaid",
    language="es",
)


def candidate(pid: int = 1, **changes: object) -> Candidate:
    base = Candidate(
        provider_id=pid,
        slug=f"p{pid}",
        name=f"Dana Whitfield{pid}",
        display_name="Dana W.",
        service_id=100 + pid,
        service_slug="intake",
        accepting_new_patients=True,
        licensed_states=frozenset({"NY", "NJ"}),
        specialties=frozenset({"opioid-use-disorder"}),
        modalities=frozenset({"video", "phone"}),
        insurance=frozenset({"medicaid"}),
        languages=frozenset({"en"}),
        load=0,
        next_available=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        ({"licensed_states": frozenset({"NJ"})}, "license"),
        ({"specialties": frozenset({"family-therapy"})}, "specialty"),
        ({"accepting_new_patients": False}, "accepting"),
        ({"modalities": frozenset({"phone"})}, "modality"),
        ({"insurance": frozenset({"aetna"})}, "insurance"),
        ({"service_id": None}, "service"),
    ],
)
def test_a_candidate_failing_any_hard_filter_is_never_ranked(change, failure):
    bad = candidate(2, **change)
    assert failure in hard_filter_failures(CRITERIA, bad)
    assert [m.provider_id for m in rank(CRITERIA, [bad, candidate(1)])] == [1]


def test_a_provider_who_declined_is_not_matched_again():
    criteria = replace(CRITERIA, excluded_provider_ids=frozenset({1}))
    assert rank(criteria, [candidate(1)]) == []


def test_insurance_and_modality_filter_only_when_asked():
    open_criteria = Criteria(state="NY", specialty="opioid-use-disorder")
    odd = candidate(1, insurance=frozenset(), modalities=frozenset({"phone"}))
    assert [m.provider_id for m in rank(open_criteria, [odd])] == [1]


def test_earliest_next_available_ranks_first_and_none_last():
    late = candidate(1, next_available=T0 + timedelta(days=3))
    early = candidate(2, next_available=T0)
    never = candidate(3, next_available=None)
    assert [m.provider_id for m in rank(CRITERIA, [never, late, early])] == [2, 1, 3]


def test_language_match_breaks_a_tie_in_time():
    english = candidate(1, load=0)
    spanish = candidate(2, languages=frozenset({"en", "es"}), load=5)
    assert [m.provider_id for m in rank(CRITERIA, [english, spanish])] == [2, 1]


def test_lighter_load_breaks_a_tie_in_time_and_language():
    busy = candidate(1, load=7)
    free = candidate(2, load=1)
    assert [m.provider_id for m in rank(CRITERIA, [busy, free])] == [2, 1]


def test_the_referrers_named_provider_comes_first_when_eligible():
    named = candidate(1, next_available=T0 + timedelta(days=9))
    other = candidate(2)
    criteria = replace(CRITERIA, preferred_provider_id=1)
    ranked = rank(criteria, [other, named])
    assert [m.provider_id for m in ranked] == [1, 2]
    assert "Requested by the referrer" in ranked[0].reasons


def test_each_match_says_why_it_matched():
    (match,) = rank(CRITERIA, [candidate(1, languages=frozenset({"es"}), load=1)])
    assert match.reasons == [
        "Licensed in NY",
        "Specialty: opioid-use-disorder",
        "Accepting new patients",
        "Offers video visits",
        "Accepts medicaid",
        "Speaks es",
        f"Next available {T0.isoformat()}",
        "1 upcoming appointment",
    ]
