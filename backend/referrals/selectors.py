"""Cautions and suggestions: what a client may meet at an agency, said plainly (Guideline 8)."""

import uuid
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Membership
from common.selectors import get_or_404

from .models import APPROACH_FIELDS, ReferralAgency

VETTING_VALID = timedelta(days=365)


def agencies_for(*, membership: Membership) -> QuerySet[ReferralAgency]:
    return ReferralAgency.objects.filter(clinic_id=membership.clinic_id)


def agency_get(*, membership: Membership, agency_id: uuid.UUID | str) -> ReferralAgency:
    return get_or_404(agencies_for(membership=membership), agency_id)


def recently_vetted(agency: ReferralAgency, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return agency.vetted_on is not None and today - agency.vetted_on <= VETTING_VALID


def caution_lines(
    agency: ReferralAgency, *, work_topic: bool, work_term: str, today: date | None = None
) -> list[str]:
    """Plain, non-alarming notes on what the client may meet there. None for an affirming,
    recently vetted agency with no conditions."""
    lines = []
    if not recently_vetted(agency, today):
        lines.append(
            "We have not checked this service in the last year, so we can't say "
            "how they will treat you."
        )
    if agency.requires_exit:
        lines.append(
            f"This service expects people to stop {work_term} before they can use it."
            if work_topic
            else "This service sets conditions about the work people do."
        )
    if agency.requires_faith_participation:
        lines.append("This service may ask you to take part in religious activities.")
    if agency.police_cooperation:
        lines.append("This service works closely with the police.")
    if agency.affirming_commitment is False:
        lines.append("This service has not committed to working without judgement.")
    if any(getattr(agency, name) is None for name in APPROACH_FIELDS):
        lines.append(
            "We don't know everything about how this service works: you may want to "
            "ask before sharing details."
        )
    if lines:
        lines.append("It is your choice whether to use it.")
    return lines


def is_affirming(agency: ReferralAgency, today: date | None = None) -> bool:
    return (
        agency.affirming_commitment is True
        and recently_vetted(agency, today)
        and agency.requires_exit is False
        and agency.requires_faith_participation is False
        and agency.police_cooperation is False
    )


def suggestions(
    *, membership: Membership, needs: list[str], today: date | None = None
) -> list[dict[str, Any]]:
    """Agencies offering any needed service: affirming and recently vetted first, then by how
    many needs they meet, each with the reasons for its place."""
    ranked = []
    for agency in agencies_for(membership=membership):
        matched = [code for code in needs if code in agency.services]
        if not matched:
            continue
        affirming = is_affirming(agency, today)
        vetted = recently_vetted(agency, today)
        reasons = [f"Offers: {', '.join(matched)}"]
        reasons.append(
            "Committed to non-judgemental care, with no conditions"
            if affirming
            else "Has conditions or an approach the client should know about"
            if vetted
            else "Not checked in the last 12 months"
        )
        if vetted:
            reasons.append(f"Checked on {agency.vetted_on.isoformat()}")  # type: ignore[union-attr]
        tier = 0 if affirming else 1 if vetted else 2
        ranked.append(((tier, -len(matched), agency.name.lower()), agency, matched, reasons))
    ranked.sort(key=lambda item: item[0])
    return [
        {
            "agency": str(agency.pk),
            "name": agency.name,
            "matches": matched,
            "affirming": tier_key[0] == 0,
            "reasons": reasons,
        }
        for tier_key, agency, matched, reasons in ranked
    ]
