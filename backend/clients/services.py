"""Creating, editing and erasing clients. Erasure removes everything hanging off the client."""

from django.contrib.auth.models import User
from django.db import transaction

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
) -> Client:
    client = Client.objects.create(
        clinic_id=membership.clinic_id,
        display_name=display_name,
        pronouns=pronouns,
        external_id=external_id,
        created_by=actor,
    )
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


@transaction.atomic
def client_erase(*, client: Client, actor: User) -> None:
    """Remove the client and, by cascade, their intakes, plans and documents; their PDF files go
    once the deletion has committed. Audit keeps ids only."""
    from documents.models import PlanDocument
    from documents.services import document_files_delete

    files = list(
        PlanDocument.objects.filter(plan__client=client)
        .exclude(file="")
        .values_list("file", flat=True)
    )
    transaction.on_commit(lambda: document_files_delete(files))
    audit_record(
        actor=actor, clinic_id=client.clinic_id, action="erase", obj=client, client_id=client.pk
    )
    client.delete()
