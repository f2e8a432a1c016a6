"""The records a FHIR reader may see, one queryset per resource type.

People go through the REST API's own selectors (so the care-team rules are the same everywhere);
a backend client sees the clients of its clinic that are linked to the EHR (see access.py).
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from clients.models import Client
from clients.selectors import client_list
from common.crypto import keyed_hashes
from documents.models import DocStatus, PlanDocument
from documents.selectors import documents_for
from intake.models import Intake
from intake.selectors import intake_list
from plans.models import PlanGoal, PlanStatus, TreatmentPlan
from plans.selectors import plans_for, with_contents

from .access import Reader, linked_to_ehr


def patients(reader: Reader) -> QuerySet[Client]:
    if reader.membership is not None:
        return client_list(membership=reader.membership)  # demographics: clinic-wide
    return Client.objects.filter(linked_to_ehr(""), clinic_id=reader.clinic_id)


def patients_by_ehr_id(reader: Reader, external_id: str) -> QuerySet[Client, Any]:
    if reader.membership is not None:
        return client_list(membership=reader.membership, external_id=external_id).values("pk")
    return (
        patients(reader)
        .filter(external_id_hash__in=keyed_hashes("external_id", external_id))
        .values("pk")
    )


def intakes(reader: Reader) -> QuerySet[Intake]:
    if reader.membership is not None:
        qs = intake_list(membership=reader.membership)
    else:
        qs = Intake.objects.filter(linked_to_ehr(), clinic_id=reader.clinic_id)
    return qs.select_related("client")


def plans(reader: Reader) -> QuerySet[TreatmentPlan]:
    if reader.membership is not None:
        qs = plans_for(membership=reader.membership)
    else:
        qs = TreatmentPlan.objects.filter(linked_to_ehr(), clinic_id=reader.clinic_id)
    return with_contents(qs).select_related("created_by")


def goals(reader: Reader) -> QuerySet[PlanGoal]:
    return (
        PlanGoal.objects.filter(plan__in=plans(reader).values("pk"))
        .select_related("plan")
        .prefetch_related("steps")
    )


def documents(reader: Reader) -> QuerySet[PlanDocument]:
    if reader.membership is not None:
        qs = documents_for(membership=reader.membership)
    else:
        qs = PlanDocument.objects.filter(linked_to_ehr("plan__client"), clinic_id=reader.clinic_id)
    return qs.select_related("plan__intake")


def document_neighbours(
    document: PlanDocument,
) -> tuple[list[PlanDocument], PlanDocument | None]:
    """The ready documents this ready one replaced, and the newer ready one that replaces it,
    if any: among copies made with the same options only (the client's copy never replaces the
    clinic's, nor a discreet or protected copy an ordinary one). A document not ready (or
    failed) replaces nothing and is replaced by nothing."""
    if document.status != DocStatus.READY:
        return [], None
    same_copy = PlanDocument.objects.filter(
        plan_id=document.plan_id,
        status=DocStatus.READY,
        copy=document.copy,
        discreet=document.discreet,
        protected=document.protected,
    )
    ready = [d for d in same_copy.order_by("created_at") if d.sections == document.sections]

    def replacement(old: PlanDocument) -> PlanDocument | None:
        # An agreed plan's PDF (final) is replaced only by a newer agreed one, never by the
        # next version's draft: an EHR keeping current documents keeps the last agreed plan.
        # A draft's PDF is replaced by the next PDF of either kind.
        final = old.plan_status == PlanStatus.AGREED
        return next(
            (
                d
                for d in ready
                if d.created_at > old.created_at
                and (not final or d.plan_status == PlanStatus.AGREED)
            ),
            None,
        )

    older = [d for d in ready if d.created_at < document.created_at]
    replaced = [d for d in older if replacement(d) == document]
    return replaced, replacement(document)


def updated_filter(model: type, bounds: list[tuple[str, datetime]]) -> Q:
    """`_lastUpdated` bounds (lookup, moment) on what a resource's lastUpdated is the newest of:
    the object itself, and for a Goal its plan too (the plan's status is in the Goal)."""
    fields = ["updated_at", "plan__updated_at"] if model is PlanGoal else ["updated_at"]
    q = Q()
    for op, moment in bounds:
        each = [Q(**{f"{field}__{op}": moment}) for field in fields]
        joined = each[0]
        for other in each[1:]:
            # newest > x when any is; newest < x when all are
            joined = (joined | other) if op in ("gt", "gte") else (joined & other)
        q &= joined
    return q


# Token searches (status, category, type): each a Q over the resource's own rows, meaning what
# the mapping puts in the resource. A code the server never uses matches nothing.

Tokens = list[tuple[str | None, str]]


def fixed_codes(codings: Iterable[dict[str, str]]) -> Callable[[Tokens], Q]:
    """For a coding every resource of the type carries (a CarePlan's category...): all or none."""

    def matches(tokens: Tokens) -> Q:
        hit = any(
            code == c["code"] and system in (None, c["system"])
            for system, code in tokens
            for c in codings
        )
        return Q() if hit else Q(pk__in=[])

    return matches


def coded_status(meaning: dict[str, Q]) -> Callable[[Tokens], Q]:
    """A status computed from the rows: `meaning` maps each code the mapping uses to its Q."""

    def matches(tokens: Tokens) -> Q:
        q = Q(pk__in=[])
        for _system, code in tokens:
            if code in meaning:
                q |= meaning[code]
        return q

    return matches


def superseded_documents() -> Q:
    """The Q of document_neighbours(): a ready document with a newer ready one of the same copy
    (for a final one, a newer final one)."""
    newer = PlanDocument.objects.filter(
        plan_id=OuterRef("plan_id"),
        status=DocStatus.READY,
        copy=OuterRef("copy"),
        discreet=OuterRef("discreet"),
        protected=OuterRef("protected"),
        sections=OuterRef("sections"),
        created_at__gt=OuterRef("created_at"),
    )
    return Q(status=DocStatus.READY) & (
        Exists(newer.filter(plan_status=PlanStatus.AGREED))
        | (~Q(plan_status=PlanStatus.AGREED) & Exists(newer))
    )
