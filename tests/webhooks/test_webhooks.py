"""Webhooks: signed deliveries to a local receiver, retries, delivery records, no SSRF."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.conf import settings
from webhooks import services as webhook_services
from webhooks.models import WebhookDelivery

from documents import services as document_services

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server on loopback that records what it receives."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = statuses, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on loopback
    made = []

    def make(statuses=()):
        r = Receiver(list(statuses))
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def deliver_now(monkeypatch):
    """Run deliveries in-process instead of through the broker."""
    monkeypatch.setattr(
        webhook_services,
        "_enqueue",
        lambda delivery_id: webhook_services.webhook_deliver(delivery_id=delivery_id),
    )
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)


@pytest.fixture
def now_on_commit(monkeypatch):
    """Deliveries are sent once the transaction commits; in these tests, at once."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, *a, **k: func())


def register(admin, url: str, events: list[str]):
    return admin.api.post("/api/v1/webhooks/", {"url": url, "events": events}, format="json")


def test_plan_agreed_is_delivered_signed_with_ids_only(
    admin_ann, alice, persona_plan, receiver, deliver_now, django_capture_on_commit_callbacks
) -> None:
    hook = receiver()
    created = register(admin_ann, hook.url, ["plan.agreed"])
    assert created.status_code == 201
    secret = created.json()["secret"]
    plan = persona_plan("continuing")
    with django_capture_on_commit_callbacks(execute=True):
        alice.api.patch(
            f"/api/v1/plans/{plan.pk}/",
            {"agreement": {"client_decision": "agrees"}},
            format="json",
            HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
        )
    [(headers, body)] = hook.received
    timestamp, signature = (
        part.split("=", 1)[1] for part in headers["X-Care-Plans-Signature"].split(",")
    )
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, expected)
    payload = json.loads(body)
    assert payload["event"] == "plan.agreed"
    assert payload["data"]["plan"] == str(plan.pk)
    assert "River" not in body.decode()
    assert "drained" not in body.decode()
    assert WebhookDelivery.objects.get().status == "delivered"


def test_document_ready_is_delivered(
    admin_ann, alice, persona_plan, receiver, deliver_now, django_capture_on_commit_callbacks
) -> None:
    hook, _plan, doc = requested_document(
        admin_ann, alice, persona_plan, receiver, ["document.ready"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        document_services.document_render(document_id=doc, worker="w:1")
    [(_, body)] = hook.received
    assert (
        json.loads(body)["data"]["pdf"] == f"{settings.PUBLIC_BASE_URL}/api/v1/documents/{doc}/pdf"
    )


def requested_document(admin, clinician, persona_plan, receiver, events: list[str]):
    """A receiver subscribed to `events`, and a PDF requested of a plan: (hook, plan, id)."""
    hook = receiver()
    register(admin, hook.url, events)
    plan = persona_plan("continuing")
    doc = clinician.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    return hook, plan, doc


def _failed_deliveries(hook) -> list[dict]:
    return [json.loads(body) for _, body in hook.received if b'"document.failed"' in body]


def test_a_render_that_fails_is_delivered_once_as_document_failed(
    admin_ann, alice, persona_plan, receiver, deliver_now, now_on_commit, monkeypatch
) -> None:
    """An integrator waiting for `document.ready` hears when it will never come."""
    hook, _plan, doc = requested_document(
        admin_ann, alice, persona_plan, receiver, ["document.ready", "document.failed"]
    )

    def boom(html: str) -> bytes:
        raise ValueError("client text in an exception")

    monkeypatch.setattr(document_services, "html_to_pdf", boom)
    assert document_services.document_render(document_id=doc, worker="w:1") == "failed"
    # Again (a redelivered job): nothing changes, nothing is sent twice.
    assert document_services.document_render(document_id=doc, worker="w:2") == "failed"
    [delivery] = _failed_deliveries(hook)
    assert delivery["event"] == "document.failed"
    base = f"{settings.PUBLIC_BASE_URL}/api/v1/documents/{doc}/"
    assert delivery["data"]["url"] == base
    assert "pdf" not in delivery["data"]
    assert "client text" not in json.dumps(delivery)
    # What the link says: failed, with what to do.
    shown = alice.api.get(f"/api/v1/documents/{doc}/").json()
    assert (shown["status"], shown["error"]) == ("failed", "Rendering failed.")
    assert len(hook.received) == 1  # no document.ready


def test_a_stored_pdf_found_lost_is_delivered_once_as_document_failed(
    admin_ann, alice, persona_plan, receiver, deliver_now, now_on_commit
) -> None:
    from django.core.files.storage import default_storage

    hook, _plan, doc = requested_document(
        admin_ann, alice, persona_plan, receiver, ["document.failed"]
    )
    assert document_services.document_render(document_id=doc, worker="w:1") == "ready"
    default_storage.delete(f"documents/{doc}.pdf.enc")
    assert alice.api.get(f"/api/v1/documents/{doc}/pdf").status_code == 409
    assert alice.api.get(f"/api/v1/documents/{doc}/pdf").status_code == 409
    [delivery] = _failed_deliveries(hook)
    assert delivery["data"]["document"] == doc


def test_a_render_given_up_after_interruptions_is_delivered_as_document_failed(
    admin_ann, alice, persona_plan, receiver, deliver_now, now_on_commit
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from documents.models import PlanDocument

    hook, plan, doc = requested_document(
        admin_ann, alice, persona_plan, receiver, ["document.failed"]
    )
    PlanDocument.objects.filter(pk=doc).update(
        status="rendering",
        claimed_by="gone:1",
        attempts=3,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert document_services.document_render(document_id=doc, worker="w:1") == "gave_up"
    assert document_services.document_render(document_id=doc, worker="w:2") == "failed"
    [delivery] = _failed_deliveries(hook)
    assert delivery["data"]["plan"] == str(plan.pk)


@pytest.mark.parametrize("outcome", ["ready", "failed"])
def test_a_database_error_while_recording_the_event_leaves_it_for_the_retry(
    admin_ann, alice, persona_plan, receiver, deliver_now, now_on_commit, monkeypatch, outcome
) -> None:
    """The status change and the delivery's record are one transaction: when the record cannot
    be written, the document is not marked either, and the task's retry sends the event."""
    from django.db import OperationalError

    from documents.models import PlanDocument

    hook, _plan, doc = requested_document(
        admin_ann, alice, persona_plan, receiver, [f"document.{outcome}"]
    )
    if outcome == "failed":

        def boom(html: str) -> bytes:
            raise ValueError("no PDF")

        monkeypatch.setattr(document_services, "html_to_pdf", boom)
    real_emit = webhook_services.webhook_emit
    calls = []

    def emit_once_broken(**kwargs):
        calls.append(kwargs["event"])
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_emit(**kwargs)

    monkeypatch.setattr(webhook_services, "webhook_emit", emit_once_broken)
    with pytest.raises(OperationalError):  # the task retries on this
        document_services.document_render(document_id=doc, worker="w:1")
    assert PlanDocument.objects.get(pk=doc).status == "rendering"
    assert document_services.document_render(document_id=doc, worker="w:1") == outcome
    [(headers, _)] = hook.received
    assert headers["X-Care-Plans-Event"] == f"document.{outcome}"


def test_a_failing_receiver_is_retried_and_recorded(
    admin_ann, persona_plan, receiver, deliver_now
) -> None:
    hook = receiver([500, 503])
    register(admin_ann, hook.url, ["plan.agreed"])
    plan = persona_plan("continuing")
    webhook_services.webhook_emit(
        clinic_id=plan.clinic_id,
        event="plan.agreed",
        data={
            "plan": str(plan.pk),
            "client": str(plan.client_id),
            "version": plan.version,
            "url": f"/api/v1/plans/{plan.pk}/",
            "fhir": f"/fhir/CarePlan/{plan.pk}",
        },
    )
    delivery = WebhookDelivery.objects.get()
    assert webhook_services.webhook_deliver(delivery_id=str(delivery.pk)) is False
    assert webhook_services.webhook_deliver(delivery_id=str(delivery.pk)) is False
    assert webhook_services.webhook_deliver(delivery_id=str(delivery.pk)) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    detail = admin_ann.api.get(f"/api/v1/webhooks/{delivery.endpoint_id}/").json()
    assert detail["deliveries"][0]["attempts"] == 3


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "http://example.com/hook",
        "ftp://example.com/hook",
    ],
)
def test_private_loopback_link_local_and_plain_http_endpoints_are_refused(admin_ann, url) -> None:
    response = register(admin_ann, url, ["plan.agreed"])
    assert response.status_code == 400
    assert "url" in response.json()["errors"]


def test_only_admins_manage_webhooks_and_outsiders_see_none(
    alice, admin_ann, charlie, receiver
) -> None:
    hook = receiver()
    assert register(alice, hook.url, ["plan.agreed"]).status_code == 403
    created = register(admin_ann, hook.url, ["plan.agreed"]).json()
    from tests.conftest import make_persona

    other_admin = make_persona(charlie.clinic, role="clinic_admin")
    assert other_admin.api.get(f"/api/v1/webhooks/{created['id']}/").status_code == 404
    assert other_admin.api.get("/api/v1/webhooks/").json() == []
    assert "secret" not in admin_ann.api.get("/api/v1/webhooks/").content.decode()


def verify(header: str, body: bytes, secret: str) -> bool:
    parts = [p.split("=", 1) for p in header.split(",")]
    timestamp = next(v for k, v in parts if k == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return any(k == "v1" and hmac.compare_digest(v, expected.hexdigest()) for k, v in parts)


def test_every_event_is_announced_with_its_headers_and_absolute_links(
    admin_ann,
    alice,
    alices_client,
    receiver,
    deliver_now,
    django_capture_on_commit_callbacks,
) -> None:
    from webhooks.models import EVENTS

    hook = receiver()
    register(admin_ann, hook.url, list(EVENTS))
    with django_capture_on_commit_callbacks(execute=True):
        intake = alice.api.post(
            "/api/v1/intakes/",
            {"client": str(alices_client.pk), "kind": "individual"},
            format="json",
        ).json()["id"]
        alice.api.put(
            f"/api/v1/intakes/{intake}/steps/consent/",
            {"confidentiality_explained": True, "recording_preference": "full"},
            format="json",
        )
        alice.api.put(
            f"/api/v1/intakes/{intake}/steps/goals/",
            {"client_goals": ["Sleep better"]},
            format="json",
        )
        plan = alice.api.post(f"/api/v1/intakes/{intake}/complete/").json()["plan"]
        etag = alice.api.get(f"/api/v1/plans/{plan}/")["ETag"]
        alice.api.patch(
            f"/api/v1/plans/{plan}/",
            {"safety_plan": "Call Jo"},
            format="json",
            HTTP_IF_MATCH=etag,
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.api.delete(f"/api/v1/clients/{alices_client.pk}/").status_code == 204
    events = [headers["X-Care-Plans-Event"] for headers, _ in hook.received]
    assert events == ["intake.completed", "plan.updated", "client.erased"]
    deliveries = {str(d.pk) for d in WebhookDelivery.objects.all()}
    for headers, body in hook.received:
        payload = json.loads(body)
        assert headers["X-Care-Plans-Delivery"] == payload["id"]
        assert payload["id"] in deliveries
        assert payload["event"] == headers["X-Care-Plans-Event"]
        for key in ("url", "pdf", "fhir"):
            if key in payload["data"]:
                assert payload["data"][key].startswith(settings.PUBLIC_BASE_URL + "/")
        assert "River" not in body.decode()
    erased = json.loads(hook.received[-1][1])
    assert erased["data"] == {"client": str(alices_client.pk)}


def test_ping_sends_a_signed_test_delivery(admin_ann, receiver, deliver_now, now_on_commit) -> None:
    hook = receiver()
    created = register(admin_ann, hook.url, ["plan.agreed"]).json()
    response = admin_ann.api.post(f"/api/v1/webhooks/{created['id']}/ping")
    assert response.status_code == 202
    [(headers, body)] = hook.received
    assert headers["X-Care-Plans-Event"] == "ping"
    assert verify(headers["X-Care-Plans-Signature"], body, created["secret"])


def test_secret_rotation_signs_with_both_secrets_during_the_overlap(
    admin_ann, receiver, deliver_now, now_on_commit
) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from webhooks.models import WebhookEndpoint

    hook = receiver()
    created = register(admin_ann, hook.url, ["plan.agreed"]).json()
    old = created["secret"]
    rotated = admin_ann.api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret").json()
    new = rotated["secret"]
    assert new != old
    admin_ann.api.post(f"/api/v1/webhooks/{created['id']}/ping")
    headers, body = hook.received[-1]
    assert verify(headers["X-Care-Plans-Signature"], body, old)
    assert verify(headers["X-Care-Plans-Signature"], body, new)
    # After the overlap only the new secret signs.
    WebhookEndpoint.objects.filter(pk=created["id"]).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    admin_ann.api.post(f"/api/v1/webhooks/{created['id']}/ping")
    headers, body = hook.received[-1]
    assert verify(headers["X-Care-Plans-Signature"], body, new)
    assert not verify(headers["X-Care-Plans-Signature"], body, old)


def test_the_readme_receiver_verifies_a_real_delivery(
    admin_ann, receiver, deliver_now, now_on_commit
) -> None:
    """The receiver example in README.md is run as written against a real delivery."""
    import re
    import time
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    code = re.search(r"```python\n(# Verify a webhook delivery.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README receiver", "exec"), namespace)  # noqa: S102 - our own README
    hook = receiver()
    created = register(admin_ann, hook.url, ["plan.agreed"]).json()
    admin_ann.api.post(f"/api/v1/webhooks/{created['id']}/ping")
    headers, body = hook.received[-1]
    check = namespace["verify_delivery"]
    assert check(headers["X-Care-Plans-Signature"], body, created["secret"]) is True
    assert check(headers["X-Care-Plans-Signature"], body + b" ", created["secret"]) is False
    stale = headers["X-Care-Plans-Signature"]
    assert check(stale, body, created["secret"], now=time.time() + 3600) is False


def test_every_delivery_is_what_the_openapi_callbacks_say(
    admin_ann, alice, persona_plan, receiver, deliver_now, now_on_commit, monkeypatch
) -> None:
    """An integrator generates their receiver from the schema: each event's real delivery (body
    and headers) must be exactly what its callback under POST /api/v1/webhooks/ describes, with
    no key it does not declare, and every event must have one."""
    from drf_spectacular.generators import SchemaGenerator
    from jsonschema import Draft7Validator, FormatChecker
    from webhooks.models import DELIVERY_EVENTS, EVENTS

    from tests.api.test_response_schemas import undeclared

    hook = receiver()
    created = register(admin_ann, hook.url, list(EVENTS)).json()
    plan = persona_plan("continuing")  # intake.completed
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    edited = alice.api.patch(
        f"/api/v1/plans/{plan.pk}/", {"safety_plan": "Call Jo"}, format="json", HTTP_IF_MATCH=etag
    )
    alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"agreement": {"client_decision": "agrees"}},
        format="json",
        HTTP_IF_MATCH=edited["ETag"],
    )
    ready = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    assert document_services.document_render(document_id=ready, worker="w:1") == "ready"

    def boom(html: str) -> bytes:
        raise ValueError("no PDF")

    monkeypatch.setattr(document_services, "html_to_pdf", boom)
    failed = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {"copy": "clinic"}, format="json"
    ).json()["id"]
    assert document_services.document_render(document_id=failed, worker="w:1") == "failed"
    assert admin_ann.api.post(f"/api/v1/webhooks/{created['id']}/ping").status_code == 202
    assert alice.api.delete(f"/api/v1/clients/{plan.client_id}/").status_code == 204

    schema = json.loads(
        json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str)
    )
    components = schema["components"]["schemas"]
    callbacks = schema["paths"]["/api/v1/webhooks/"]["post"]["callbacks"]
    seen = set()
    for headers, body in hook.received:
        event = headers["X-Care-Plans-Event"]
        seen.add(event)
        [operation] = callbacks[event].values()
        described = operation["post"]
        for parameter in described["parameters"]:
            assert parameter["in"] == "header"
            assert parameter["name"] in headers, (event, parameter["name"])
            Draft7Validator(parameter["schema"], format_checker=FormatChecker()).validate(
                headers[parameter["name"]]
            )
        payload = json.loads(body)
        body_schema = described["requestBody"]["content"]["application/json"]["schema"]
        validator = Draft7Validator(
            {**body_schema, "components": schema["components"]}, format_checker=FormatChecker()
        )
        assert not [e.message for e in validator.iter_errors(payload)], event
        assert not undeclared(payload, body_schema, components), event
        assert "Call Jo" not in body.decode()
    assert seen == set(DELIVERY_EVENTS)


def test_retries_spread_over_two_days_and_the_long_ones_are_sent_by_the_sweeper(
    admin_ann, receiver, monkeypatch
) -> None:
    """A receiver down for longer than a minute still gets the event: the waits grow to a day,
    the short ones retried by the worker, the long ones sent by the sweeper once due."""
    from datetime import timedelta

    from django.utils import timezone

    sent: list[str] = []
    monkeypatch.setattr(webhook_services, "_enqueue", sent.append)
    assert sum(webhook_services.RETRY_AFTER) >= 40 * 3600
    hook = receiver()
    endpoint = register(admin_ann, hook.url, ["plan.agreed"]).json()["id"]
    delivery = WebhookDelivery.objects.create(
        endpoint_id=endpoint, event="plan.agreed", payload={"plan": "p"}
    )
    # Five failed attempts: the next waits two hours.
    hour_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=5, updated_at=hour_ago)
    assert webhook_services.webhooks_sweep() == 0
    assert sent == []
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        updated_at=timezone.now() - timedelta(hours=2, minutes=1)
    )
    assert webhook_services.webhooks_sweep() == 1
    assert sent == [str(delivery.pk)]
    assert webhook_services.webhook_deliver(delivery_id=sent[0]) is True
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "delivered"


def test_a_failed_delivery_can_be_sent_again_by_an_admin(
    alice, admin_ann, charlie, receiver, deliver_now, now_on_commit
) -> None:
    hook = receiver([500] * 20)
    created = register(admin_ann, hook.url, ["plan.agreed"]).json()
    admin_ann.api.post(f"/api/v1/webhooks/{created['id']}/ping")
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=9)
    hook.statuses.clear()  # the receiver is back
    path = f"/api/v1/webhooks/{created['id']}/deliveries/{delivery.pk}/redeliver"
    assert alice.api.post(path).status_code == 403  # clinic admins only
    assert charlie.api.post(path).status_code in (403, 404)
    again = admin_ann.api.post(path)
    assert again.status_code == 202
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert hook.received[-1][0]["X-Care-Plans-Delivery"] == str(delivery.pk)  # the same id
    refused = admin_ann.api.post(path)
    assert refused.status_code == 409
    assert "Only a failed delivery" in refused.json()["detail"]


def test_an_endpoint_url_with_a_user_name_or_password_is_refused(admin_ann, receiver) -> None:
    """Credentials in the URL would be shown to everyone who lists the clinic's webhooks."""
    from webhooks.models import WebhookEndpoint

    hook = receiver()
    with_password = hook.url.replace("://", "://ops:hunter2@", 1)
    response = register(admin_ann, with_password, ["plan.agreed"])
    assert response.status_code == 400
    assert "user name and password" in response.json()["errors"]["url"][0]
    assert "hunter2" not in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    assert register(admin_ann, hook.url, ["plan.agreed"]).status_code == 201
