"""Reading documents, scoped to the caller's clinic and to the clients they may read."""

import uuid

from django.db.models import QuerySet

from accounts.models import Membership
from audit.services import audit_read_by
from clients.selectors import clinical_scope
from common.selectors import get_or_404

from .models import PlanDocument


def documents_for(*, membership: Membership) -> QuerySet[PlanDocument]:
    return PlanDocument.objects.filter(
        clinical_scope(membership=membership, client_field="plan__client"),
        clinic_id=membership.clinic_id,
    ).select_related("plan")


def document_get(
    *, membership: Membership, document_id: uuid.UUID | str, ready: bool = False
) -> PlanDocument:
    qs = documents_for(membership=membership)
    document = get_or_404(qs.filter(status="ready") if ready else qs, document_id)
    audit_read_by(membership=membership, obj=document, client_id=document.plan.client_id)
    return document
