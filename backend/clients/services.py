"""Creating, editing and erasing clients. Erasure removes everything hanging off the client."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from audit.services import audit_record

from .models import Client


@transaction.atomic
def client_create(
    *,
    membership: Membership,
    actor: User,
    display_name: str,
    pronouns: str = "",
    external_id: str = "",
    language: str = "en",
) -> Client:
    client = Client.objects.create(
        clinic_id=membership.clinic_id,
        display_name=display_name,
        pronouns=pronouns,
        external_id=external_id,
        language=language,
        created_by=actor,
    )
    # Whoever creates the client works with them.
    client.care_team.add(actor)
    audit_record(
        actor=actor,
        clinic_id=membership.clinic_id,
        action="create",
        obj=client,
        client_id=client.pk,
    )
    return client


@transaction.atomic
def client_update(*, client: Client, actor: User, **changes: str) -> Client:
    for field, value in changes.items():
        setattr(client, field, value)
    client.save()
    audit_record(
        actor=actor,
        clinic_id=client.clinic_id,
        action="update",
        obj=client,
        client_id=client.pk,
        fields=sorted(changes),
    )
    return client


class CareTeamError(ValueError):
    """A username that is not an active member of the client's clinic."""


@transaction.atomic
def client_care_team_set(*, client: Client, actor: User, usernames: list[str]) -> Client:
    """Replace the care team. Every name must belong to an active member of the client's clinic;
    the audit keeps who was added and removed (user ids only). Whoever is taken off loses, with
    the client, the plan changes they had left unsaved (quick exit) on the client's plans."""
    wanted = set(usernames)
    if not wanted:
        raise CareTeamError(
            "Name at least one clinician: with nobody on the care team, nobody could read or "
            "continue the client's records."
        )
    members = {
        user.username: user
        for user in User.objects.filter(
            username__in=wanted, is_active=True, membership__clinic_id=client.clinic_id
        )
    }
    unknown = wanted - set(members)
    if unknown:
        raise CareTeamError(f"{len(unknown)} of these names are not members of this clinic.")
    before = set(client.care_team.values_list("pk", flat=True))
    after = {user.pk for user in members.values()}
    client.care_team.set(after)
    from plans.models import PlanDraft

    PlanDraft.objects.filter(plan__client=client, author_id__in=before - after).delete()
    audit_record(
        actor=actor,
        clinic_id=client.clinic_id,
        action="update",
        obj=client,
        client_id=client.pk,
        fields=["care_team"],
        added=sorted(after - before),
        removed=sorted(before - after),
    )
    return client


@transaction.atomic
def client_erase(*, client: Client, actor: User | None) -> None:
    """Remove the client and, by cascade, their intakes, plans and documents; their PDF files go
    once the deletion has committed. Audit keeps ids only."""
    from exports.services import exports_without_plans

    from documents.models import PlanDocument
    from documents.services import document_files_delete
    from plans.models import TreatmentPlan

    files = list(
        PlanDocument.objects.filter(plan__client=client)
        .exclude(file="")
        .values_list("file", flat=True)
    )
    transaction.on_commit(lambda: document_files_delete(files))
    plan_ids = {
        str(pk) for pk in TreatmentPlan.objects.filter(client=client).values_list("pk", flat=True)
    }
    # Stored export zips are rewritten without the client before the erasure commits.
    exports = exports_without_plans(clinic_id=client.clinic_id, plan_ids=plan_ids)
    audit_record(
        actor=actor,
        clinic_id=client.clinic_id,
        action="erase",
        obj=client,
        client_id=client.pk,
        exports_changed=exports,
    )
    from webhooks.services import webhook_emit

    # Connected systems hear of the erasure, so they can erase their copies too.
    webhook_emit(
        clinic_id=client.clinic_id,
        event="client.erased",
        data={"client": str(client.pk)},
    )
    client.delete()


def retention_purge(*, now: datetime | None = None) -> int:
    """Erase clients whose records have all been closed and untouched for RETENTION_DAYS.

    A client with an intake still in progress is kept, whatever its age.
    """
    if settings.RETENTION_DAYS <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)
    stale = (
        Client.objects.filter(updated_at__lt=cutoff)
        .exclude(intakes__status="in_progress")
        .exclude(intakes__updated_at__gte=cutoff)
        .exclude(plans__updated_at__gte=cutoff)
        .distinct()
    )
    count = 0
    for client in stale:
        client_erase(client=client, actor=None)
        count += 1
    return count
