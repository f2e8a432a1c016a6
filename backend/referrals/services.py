"""Changing a clinic's referral agencies: one path for the web page and the API."""

import uuid
from collections.abc import Callable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from plans.models import TreatmentPlan

from .models import ReferralAgency


@transaction.atomic
def agency_create(
    *, save: Callable[[], ReferralAgency], actor: User, clinic_id: uuid.UUID
) -> ReferralAgency:
    """A new agency already validated (by its form or its serializer): `save` stores it in the
    caller's clinic; recorded in the audit."""
    agency = save()
    audit_record(actor=actor, clinic_id=clinic_id, action="create", obj=agency)
    return agency


@transaction.atomic
def agency_update(
    *,
    save: Callable[[], ReferralAgency],
    actor: User,
    clinic_id: uuid.UUID,
    fields: list[str],
) -> ReferralAgency:
    """An agency edit already validated (by its form or its serializer): `save` stores it. Plans
    show the agency (its name and cautions, in the API, FHIR and PDFs), so every plan that
    refers to it moves on too: a new ETag, and no read copy or stored PDF of the old wording is
    served again."""
    agency = save()
    TreatmentPlan.objects.filter(referrals__agency=agency).update(updated_at=timezone.now())
    audit_record(
        actor=actor, clinic_id=clinic_id, action="update", obj=agency, fields=sorted(fields)
    )
    return agency
