"""Pure matching: plain candidates in, hard-filtered and ranked matches with reasons out.

No ORM here. The selector pre-filters in SQL for speed; the hard filters are checked again
below so that a provider who fails one can never be proposed, whatever the query did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Criteria:
    """What the referral asks for."""

    state: str
    specialty: str
    modality: str = ""
    insurance: str = ""
    language: str = ""
    preferred_provider_id: int | None = None
    excluded_provider_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """One provider as the matcher sees it, with the service a referral would book."""

    provider_id: int
    slug: str
    name: str
    display_name: str
    service_id: int | None
    service_slug: str
    accepting_new_patients: bool
    licensed_states: frozenset[str]
    specialties: frozenset[str]
    modalities: frozenset[str]
    insurance: frozenset[str]
    languages: frozenset[str]
    load: int = 0
    next_available: datetime | None = None


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    reasons: list[str] = field(default_factory=list)
    language_match: bool = False
    preferred: bool = False

    @property
    def provider_id(self) -> int:
        return self.candidate.provider_id

    @property
    def next_available(self) -> datetime | None:
        return self.candidate.next_available


def hard_filter_failures(criteria: Criteria, candidate: Candidate) -> list[str]:
    """The hard filters this candidate fails (empty = eligible)."""
    failures = []
    if candidate.provider_id in criteria.excluded_provider_ids:
        failures.append("declined")
    if candidate.service_id is None:
        failures.append("service")
    if criteria.state not in candidate.licensed_states:
        failures.append("license")
    if criteria.specialty not in candidate.specialties:
        failures.append("specialty")
    if not candidate.accepting_new_patients:
        failures.append("accepting")
    if criteria.modality and criteria.modality not in candidate.modalities:
        failures.append("modality")
    if criteria.insurance and criteria.insurance not in candidate.insurance:
        failures.append("insurance")
    return failures


def _reasons(
    criteria: Criteria, candidate: Candidate, *, preferred: bool, language: bool
) -> list[str]:
    reasons = []
    if preferred:
        reasons.append("Requested by the referrer")
    reasons.append(f"Licensed in {criteria.state}")
    reasons.append(f"Specialty: {criteria.specialty}")
    reasons.append("Accepting new patients")
    if criteria.modality:
        reasons.append(f"Offers {criteria.modality} visits")
    if criteria.insurance:
        reasons.append(f"Accepts {criteria.insurance}")
    if criteria.language:
        reasons.append(
            f"Speaks {criteria.language}" if language else f"Does not list {criteria.language}"
        )
    if candidate.next_available is None:
        reasons.append("No open times in the booking window")
    else:
        reasons.append(f"Next available {candidate.next_available.isoformat()}")
    reasons.append(f"{candidate.load} upcoming appointment{'s' if candidate.load != 1 else ''}")
    return reasons


def rank(criteria: Criteria, candidates: Iterable[Candidate]) -> list[Match]:
    """Eligible candidates, best first.

    The referrer's named provider first; then earliest next availability (none last);
    ties broken by language match, then the lighter current load, then the slug.
    """
    matches = []
    for candidate in candidates:
        if hard_filter_failures(criteria, candidate):
            continue
        preferred = candidate.provider_id == criteria.preferred_provider_id
        language = bool(criteria.language) and criteria.language in candidate.languages
        matches.append(
            Match(
                candidate=candidate,
                reasons=_reasons(criteria, candidate, preferred=preferred, language=language),
                language_match=language,
                preferred=preferred,
            )
        )

    def key(match: Match) -> tuple[object, ...]:
        available = match.candidate.next_available
        return (
            not match.preferred,
            available is None,
            available.timestamp() if available is not None else 0.0,
            not match.language_match,
            match.candidate.load,
            match.candidate.slug,
        )

    return sorted(matches, key=key)
