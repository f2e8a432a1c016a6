"""The keyed audit chain: `audit_verify` finds every kind of tampering and names where."""

import hashlib
import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_chain_intact, audit_record, audit_seal
from audit.tasks import seal_audit_chains

pytestmark = pytest.mark.django_db


def verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


@pytest.fixture
def chain(alice, alices_client) -> list[AuditEvent]:
    """Six sealed events in alice's clinic."""
    for i in range(6):
        audit_record(
            actor=alice.user,
            clinic_id=alice.clinic.pk,
            action="update",
            obj=alices_client,
            client_id=alices_client.pk,
            fields=[f"f{i}"],
        )
    return list(AuditEvent.objects.filter(clinic_id=alice.clinic.pk).order_by("seq"))


def test_intact_chain_exits_0(chain, charlie) -> None:
    code, out = verify()
    assert code == 0, out
    assert f"clinic {chain[0].clinic_id}: intact (6 events, head {chain[-1].hash})" in out


def test_edited_event_exits_1_naming_it(chain) -> None:
    target = chain[2]
    AuditEvent.objects.filter(pk=target.pk).update(action="read")  # behind the app's back
    code, out = verify()
    assert code == 1
    assert f"event id={target.pk} seq=3: content changed" in out


def test_edited_detail_or_time_shows(chain) -> None:
    from datetime import timedelta

    AuditEvent.objects.filter(pk=chain[1].pk).update(detail={"fields": ["other"]})
    AuditEvent.objects.filter(pk=chain[4].pk).update(at=chain[4].at - timedelta(days=1))
    code, out = verify()
    assert code == 1
    assert f"event id={chain[1].pk} seq=2" in out
    assert f"event id={chain[4].pk} seq=5" in out


def test_deleting_the_newest_events_exits_1(chain) -> None:
    AuditEvent.objects.filter(pk__in=[chain[4].pk, chain[5].pk]).delete()
    code, out = verify()
    assert code == 1
    assert "head says 6 events, the chain ends at seq=4 (seq 5..6 deleted)" in out


def test_deleting_a_middle_event_exits_1(chain) -> None:
    AuditEvent.objects.filter(pk=chain[2].pk).delete()
    code, out = verify()
    assert code == 1
    assert f"seq 3..3 missing before event id={chain[3].pk} seq=4" in out


def test_deleting_the_tail_and_rewinding_the_head_by_hand_exits_1(chain) -> None:
    AuditEvent.objects.filter(pk__in=[chain[4].pk, chain[5].pk]).delete()
    AuditChainHead.objects.filter(clinic_id=chain[0].clinic_id).update(seq=4, hash=chain[3].hash)
    code, out = verify()
    assert code == 1
    assert "head: changed (MAC does not verify" in out


def test_deleting_the_head_exits_1(chain) -> None:
    AuditChainHead.objects.filter(clinic_id=chain[0].clinic_id).delete()
    code, out = verify()
    assert code == 1
    assert "head missing" in out


def test_recomputing_every_hash_with_plain_sha256_exits_1(chain) -> None:
    """The old attack: rewrite an event and recompute the whole chain without the key."""
    AuditEvent.objects.filter(pk=chain[0].pk).update(action="read")
    prev = ""
    for event in AuditEvent.objects.filter(clinic_id=chain[0].clinic_id).order_by("seq"):
        digest = hashlib.sha256((prev + event.mac + event.action).encode()).hexdigest()
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=prev, hash=digest, mac=digest)
        prev = digest
    AuditChainHead.objects.filter(clinic_id=chain[0].clinic_id).update(hash=prev)
    code, out = verify()
    assert code == 1
    assert f"event id={chain[0].pk} seq=1: content changed" in out
    assert not audit_chain_intact(clinic_id=chain[0].clinic_id)


def test_reordering_events_exits_1(chain) -> None:
    a, b = chain[1], chain[3]
    AuditEvent.objects.filter(pk=a.pk).update(seq=None)
    AuditEvent.objects.filter(pk=b.pk).update(seq=a.seq)
    AuditEvent.objects.filter(pk=a.pk).update(seq=b.seq)
    code, out = verify()
    assert code == 1
    assert f"event id={b.pk} seq=2: does not follow seq 1" in out


def test_a_forged_row_is_never_sealed_and_shows(chain, alices_client) -> None:
    """Inserting a row with the database alone: it has no valid MAC, so no seal adopts it."""
    forged = AuditEvent(
        clinic_id=chain[0].clinic_id, action="read", object_type="client", object_id="x"
    )
    forged.mac = "0" * 64
    forged.save()
    code, out = verify()
    assert code == 1
    assert f"unsealed event id={forged.pk}: forged or edited" in out
    forged.refresh_from_db()
    assert forged.seq is None


def test_a_read_before_sealing_is_signed_and_edits_show(alice, alices_client) -> None:
    assert alice.api.get(f"/api/v1/clients/{alices_client.pk}/").status_code == 200
    event = AuditEvent.objects.get(action="read", client_id=alices_client.pk)
    assert event.seq is None  # appended without the chain's lock
    AuditEvent.objects.filter(pk=event.pk).update(actor_id=None)
    code, out = verify()
    assert code == 1
    assert f"unsealed event id={event.pk}: forged or edited" in out


def test_reads_are_sealed_by_the_next_change_the_periodic_task_and_verify(
    alice, alices_client
) -> None:
    url = f"/api/v1/clients/{alices_client.pk}/"
    alice.api.get(url)
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 1
    audit_record(actor=alice.user, clinic_id=alice.clinic.pk, action="update", obj=alices_client)
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    alice.api.get(url)
    assert seal_audit_chains() == 1
    alice.api.get(url)
    code, out = verify()
    assert code == 0, out
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert AuditEvent.objects.filter(clinic_id=alice.clinic.pk).count() == 4


def test_sealing_is_scheduled(settings) -> None:
    from config.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "audit.tasks.seal_audit_chains" in tasks
    app.loader.import_default_modules()
    assert "audit.tasks.seal_audit_chains" in app.tasks


def test_a_failed_request_records_no_read(alice, charlie, alices_client) -> None:
    assert charlie.api.get(f"/api/v1/clients/{alices_client.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action="read").exists()


def test_another_key_breaks_every_link(chain, settings) -> None:
    """The MACs depend on AUDIT_KEY: a database moved under another key does not verify."""
    settings.AUDIT_KEY = "another-key"
    assert not audit_chain_intact(clinic_id=chain[0].clinic_id)


@pytest.mark.skipif(
    "postgresql" not in connection.vendor, reason="row locks are PostgreSQL's (SQLite locks all)"
)
@pytest.mark.django_db(transaction=True)
def test_a_read_completes_while_the_chain_head_is_locked(alice, alices_client) -> None:
    """Readers never wait on the head lock that sealing takes."""
    audit_seal(clinic_id=alice.clinic.pk)  # the head exists
    locked = threading.Event()
    release = threading.Event()

    def hold_the_head() -> None:
        from django.db import connection as own

        try:
            with transaction.atomic():
                AuditChainHead.objects.select_for_update().get(clinic_id=alice.clinic.pk)
                locked.set()
                release.wait(30)
        finally:
            own.close()

    holder = threading.Thread(target=hold_the_head)
    holder.start()
    try:
        assert locked.wait(10)
        result: list[int] = []

        def read() -> None:
            from django.db import connection as own

            try:
                with connection.cursor() as cursor:  # fail instead of waiting for the lock
                    cursor.execute("SET lock_timeout = '3s'")
                result.append(alice.api.get(f"/api/v1/clients/{alices_client.pk}/").status_code)
                result.append(alice.api.get("/api/v1/clients/").status_code)
            finally:
                own.close()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(10)
        assert not reader.is_alive(), "the read waited for the head lock"
        assert result == [200, 200]
        assert AuditEvent.objects.filter(client_id=alices_client.pk, action="read").count() == 1
    finally:
        release.set()
        holder.join()
    connection.close()
