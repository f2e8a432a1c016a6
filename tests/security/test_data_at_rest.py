"""Encryption at rest, key rotation, and the audit trail."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from audit.models import AuditEvent
from audit.services import audit_chain_intact
from clients.models import Client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def raw_column(table: str, column: str, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE id = %s",  # noqa: S608 - fixed names
            [pk.hex if connection.vendor == "sqlite" else pk],
        )
        return cursor.fetchone()[0]


def test_free_text_is_stored_as_a_fernet_token(alice) -> None:
    client = ClientFactory(clinic=alice.clinic, display_name="Moonbeam")
    stored = raw_column("clients_client", "display_name", client.pk)
    assert "Moonbeam" not in stored
    assert stored.startswith("gAAAAA")


def test_key_rotation_re_encrypts_everything_under_the_new_key(
    alice, persona_plan, settings
) -> None:
    plan = persona_plan("continuing")
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *old_keys]):
        call_command("reencrypt_fields", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert Client.objects.get(pk=plan.client_id).display_name == "River"
        plan.intake.refresh_from_db()
        assert plan.intake.answers["about"]["work_term"] == "cam work"
        assert plan.goals.first().client_words == "Feel less drained after shifts"


def test_admins_read_the_audit_trail_of_a_client_ids_only(alice, admin_ann, alices_client) -> None:
    alice.api.get(f"/api/v1/clients/{alices_client.pk}/")
    response = admin_ann.api.get(f"/api/v1/audit-events/?client={alices_client.pk}")
    assert response.status_code == 200
    events = response.json()["results"]
    assert {"action": "read", "actor_id": alice.user.pk} in [
        {"action": e["action"], "actor_id": e["actor_id"]} for e in events
    ]
    assert "River" not in response.content.decode()


def test_clinicians_cannot_read_the_audit_trail(alice) -> None:
    assert alice.api.get("/api/v1/audit-events/").status_code == 403


def test_another_clinics_admin_sees_none_of_it(alice, alices_client, charlie) -> None:
    from tests.conftest import make_persona

    alice.api.get(f"/api/v1/clients/{alices_client.pk}/")
    other_admin = make_persona(charlie.clinic, role="clinic_admin")
    body = other_admin.api.get(f"/api/v1/audit-events/?client={alices_client.pk}").json()
    assert body["results"] == []


def test_audit_events_cannot_be_changed_and_tampering_shows(alice, alices_client) -> None:
    alice.api.get(f"/api/v1/clients/{alices_client.pk}/")
    event = AuditEvent.objects.last()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    assert audit_chain_intact(clinic_id=alice.clinic.pk)
    AuditEvent.objects.filter(pk=event.pk).update(action="export")  # behind the app's back
    assert not audit_chain_intact(clinic_id=alice.clinic.pk)


def test_erasure_leaves_only_id_level_audit_events(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    client_id = plan.client_id
    assert alice.api.delete(f"/api/v1/clients/{client_id}/").status_code == 204
    events = AuditEvent.objects.filter(client_id=client_id)
    assert events.filter(action="erase").count() == 1
    assert "River" not in str(list(events.values()))


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_keep_one_unbroken_chain(alice, alices_client) -> None:
    """Threads writing events at once must line up, not fork the hash chain."""
    import threading

    from django.db import connection as main_connection

    from audit.services import audit_record

    errors: list[BaseException] = []

    def write() -> None:
        from django.db import connection

        try:
            for _ in range(5):
                audit_record(
                    actor=None,
                    clinic_id=alice.clinic.pk,
                    action="read",
                    obj=alices_client,
                    client_id=alices_client.pk,
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.filter(clinic_id=alice.clinic.pk).count() == 20
    assert audit_chain_intact(clinic_id=alice.clinic.pk)
    main_connection.close()


def test_list_reads_and_wizard_views_are_audited(alice, alices_client) -> None:
    from django.test import Client as Browser

    from tests.factories import IntakeFactory

    alice.api.get("/api/v1/clients/")
    listed = AuditEvent.objects.get(action="list")
    assert listed.detail["clients"] == [str(alices_client.pk)]
    intake = IntakeFactory(client=alices_client)
    browser = Browser()
    browser.force_login(alice.user)
    browser.get(f"/intakes/{intake.pk}/step/consent/")
    read = AuditEvent.objects.get(action="read", object_id=str(intake.pk))
    assert (read.detail["via"], read.detail["step"]) == ("intake-step", "consent")


@pytest.mark.parametrize("loss", ["deleted", "truncated"])
def test_key_rotation_passes_over_a_pdf_whose_file_is_gone(alice, persona_plan, loss) -> None:
    """A document whose stored file was lost or damaged (it fails when next read) does not stop
    a rotation: the other PDFs are rotated and can be read under the new key alone."""
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.core.files.storage import default_storage
    from django.test import override_settings

    from documents import services
    from documents.models import PlanDocument

    plan = persona_plan("continuing")
    kept, lost = (
        services.document_request(
            plan=plan,
            actor=alice.user,
            options=services.CopyOptions.of(copy=copy, discreet=False, sections=["goals"]),
        )[0]
        for copy in ("clinic", "client")
    )
    for document in (kept, lost):
        services.document_render(document_id=str(document.pk), worker="w:1")
    name = PlanDocument.objects.get(pk=lost.pk).file
    default_storage.delete(name)
    if loss == "truncated":
        from django.core.files.base import ContentFile

        default_storage.save(name, ContentFile(b"gAAAAAB-cut-short"))
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        call_command("reencrypt_fields", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        pdf = services.document_pdf(PlanDocument.objects.get(pk=kept.pk))
    assert pdf.startswith(b"%PDF")
