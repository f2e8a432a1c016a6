"""Cautions and suggestions: what a client may meet at an agency, said plainly (Guideline 8)."""

import uuid
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext

from accounts.models import Membership
from common.selectors import get_or_404
from forms import STEPS_BY_NAME, term_label
from forms.flow import DEFAULT_WORK_TERM
from forms.localize import tr

from .models import APPROACH_FIELDS, ReferralAgency

SERVICE_LABELS = {
    c.code: c.label for c in STEPS_BY_NAME["supports"].get_field("referral_needs").choices
}
# Services that belong in a safety follow-up (G1, G5), besides peer-led ones.
SAFETY_NEEDS = {"legal", "peer_support"}

VETTING_VALID = timedelta(days=365)


def agencies_for(*, membership: Membership) -> QuerySet[ReferralAgency]:
    return ReferralAgency.objects.filter(clinic_id=membership.clinic_id)


def agency_get(*, membership: Membership, agency_id: uuid.UUID | str) -> ReferralAgency:
    return get_or_404(agencies_for(membership=membership), agency_id)


def recently_vetted(agency: ReferralAgency, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return agency.vetted_on is not None and today - agency.vetted_on <= VETTING_VALID


def _their_work(work_term: str) -> str:
    """The client's own term as a quoted label; "sex work" when they gave none (G7)."""
    if not work_term or work_term == DEFAULT_WORK_TERM:
        return gettext("sex work")
    return term_label(gettext_noop("their work"), work_term)


def caution_lines(
    agency: ReferralAgency,
    *,
    work_topic: bool,
    work_term: str,
    today: date | None = None,
    couple: bool = False,
) -> list[str]:
    """Plain, non-alarming notes on what the client may meet there. None for an affirming,
    recently vetted agency with no conditions. To a couple, said to both (the same English,
    Spanish "vosotros": msgctxt "couple")."""
    lines = []
    if not recently_vetted(agency, today):
        lines.append(
            pgettext(
                "couple",
                "We have not checked this service in the last year, so we can't say "
                "how they will treat you.",
            )
            if couple
            else gettext(
                "We have not checked this service in the last year, so we can't say "
                "how they will treat you."
            )
        )
    if agency.requires_exit:
        # The client's term is a quoted label, never a word inside the sentence.
        lines.append(
            gettext("This service expects people to stop %(work)s before they can use it.")
            % {"work": _their_work(work_term)}
            if work_topic
            else gettext("This service sets conditions about the work people do.")
        )
    if agency.requires_faith_participation:
        lines.append(
            pgettext("couple", "This service may ask you to take part in religious activities.")
            if couple
            else gettext("This service may ask you to take part in religious activities.")
        )
    if agency.police_cooperation:
        lines.append(gettext("This service works closely with the police."))
    if agency.affirming_commitment is False:
        lines.append(gettext("This service has not committed to working without judgement."))
    if agency.mandatory_reporting:
        lines.append(
            pgettext(
                "couple",
                "Staff there must report some things to the authorities: ask what, before you "
                "share details.",
            )
            if couple
            else gettext(
                "Staff there must report some things to the authorities: ask what, before you "
                "share details."
            )
        )
    if agency.requires_id:
        lines.append(gettext("This service asks for ID."))
    if agency.shares_immigration_data:
        lines.append(gettext("This service may share information with immigration authorities."))
    if agency.trans_inclusive is False:
        lines.append(gettext("This service has not said it welcomes trans and non-binary people."))
    if any(getattr(agency, name) is None for name in APPROACH_FIELDS):
        lines.append(
            pgettext(
                "couple",
                "We don't know everything about how this service works: you may want to "
                "ask before sharing details.",
            )
            if couple
            else gettext(
                "We don't know everything about how this service works: you may want to "
                "ask before sharing details."
            )
        )
    if lines:
        lines.append(
            pgettext("couple", "It is your choice whether to use it.")
            if couple
            else gettext("It is your choice whether to use it.")
        )
    return lines


def is_affirming(agency: ReferralAgency, today: date | None = None) -> bool:
    return (
        agency.affirming_commitment is True
        and recently_vetted(agency, today)
        and agency.requires_exit is False
        and agency.requires_faith_participation is False
        and agency.police_cooperation is False
    )


def peer_led(agency: ReferralAgency) -> bool:
    return bool(agency.sex_worker_led or agency.peer_led)


def safety_relevant(agency: ReferralAgency, *, work_topic: bool) -> bool:
    """Fits a safety follow-up: peer-led, legal help, peer support, bad-date reporting or a
    crisis line, and never a service that works closely with police or shares data with
    immigration. Sex-worker-led and bad-date services only when work is a topic."""
    if agency.police_cooperation or agency.shares_immigration_data or agency.requires_exit:
        return False
    from documents.context import reveals_work

    if not work_topic and reveals_work(agency, None):
        # Offered unasked, its name alone would tell whoever reads the plan what the client did
        # not bring here (or asked us not to record), whatever else it offers.
        return False
    safety = set(agency.safety_services or [])
    if not work_topic:
        safety.discard("bad_date_reporting")
    return bool(
        (work_topic and peer_led(agency))
        or agency.peer_led
        or safety
        or SAFETY_NEEDS.intersection(agency.services)
    )


def safety_agencies(*, clinic_id: Any, work_topic: bool, limit: int = 5) -> list[ReferralAgency]:
    """The clinic's services for a safety follow-up: peer-led and affirming first."""
    found = [
        a
        for a in ReferralAgency.objects.filter(clinic_id=clinic_id)
        if safety_relevant(a, work_topic=work_topic) and a.affirming_commitment is not False
    ]
    found.sort(key=lambda a: (not peer_led(a), not is_affirming(a), a.name.lower()))
    return found[:limit]


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
        # In the active language: the plan page's (the client's), the API's English.
        offers = ", ".join(tr(SERVICE_LABELS.get(c, c)) for c in matched)
        reasons = [gettext("Offers: %(services)s") % {"services": offers}]
        if peer_led(agency):
            reasons.append(
                gettext("Led by sex workers") if agency.sex_worker_led else gettext("Led by peers")
            )
        reasons.append(
            gettext("Committed to non-judgemental care, with no conditions")
            if affirming
            else gettext("Has conditions or an approach the client should know about")
            if vetted
            else gettext("Not checked in the last 12 months")
        )
        if vetted:
            checked = agency.vetted_on.isoformat()  # type: ignore[union-attr]
            reasons.append(gettext("Checked on %(date)s") % {"date": checked})
        # Peer-led affirming services first (G8), then affirming, then checked, then unchecked.
        tier = (0 if peer_led(agency) else 1) if affirming else 2 if vetted else 3
        ranked.append(((tier, -len(matched), agency.name.lower()), agency, matched, reasons))
    ranked.sort(key=lambda item: item[0])
    return [
        {
            "agency": str(agency.pk),
            "name": agency.name,
            "matches": matched,
            "affirming": tier_key[0] <= 1,
            "peer_led": peer_led(agency),
            "reasons": reasons,
        }
        for tier_key, agency, matched, reasons in ranked
    ]
