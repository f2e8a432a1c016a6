"""Reads are audited in one place (selectors + a middleware), so that no view can forget, and
the gaps found in the security review are recorded."""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import pytest
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver
from exports import services as export_services

from audit.models import AuditEvent
from documents import services as document_services
from tests.conftest import make_persona, run_export_now

pytestmark = pytest.mark.django_db


def browser_for(persona) -> Browser:
    browser = Browser()
    browser.force_login(persona.user)
    return browser


def events_of(response) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(request_id=response["X-Request-ID"]))


@pytest.fixture
def world(alice, alices_client, persona_plan, monkeypatch, django_capture_on_commit_callbacks):
    """One of everything for alice's client: intake, plan, goal, ready PDF, ready export."""
    plan = persona_plan("leaving")
    with django_capture_on_commit_callbacks(execute=True):
        doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", {}, format="json").json()[
            "id"
        ]
    document_services.document_render(document_id=doc_id, worker="w:1")
    monkeypatch.setattr(export_services, "_enqueue", lambda job_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        job = alice.api.post(
            "/api/v1/exports/", {"date_from": "2020-01-01", "date_to": "2029-12-31"}, format="json"
        ).json()
    run_export_now(job["id"])
    # A FHIR bulk export of alice's clinic, for its file's address.
    kick = alice.api.get(
        "/fhir/$export", HTTP_PREFER="respond-async", HTTP_ACCEPT="application/fhir+json"
    )
    manifest = alice.api.get(urlsplit(kick["Content-Location"]).path).json()
    bulk_file = next(o["url"] for o in manifest["output"] if o["type"] == "CarePlan")
    AuditEvent.objects.all().delete()  # start each test from an empty trail
    return {
        "client": alices_client,
        "intake": plan.intake,
        "plan": plan,
        "goal": plan.goals.first(),
        "document": doc_id,
        "job": job["id"],
        "bulk_file": urlsplit(bulk_file).path + "?" + urlsplit(bulk_file).query
        if urlsplit(bulk_file).query
        else urlsplit(bulk_file).path,
    }


@dataclass
class Read:
    path: str
    browser: bool = False
    admin: bool = False


# Every URL pattern, by route: how to read it for alice's client, or None when it shows no
# client's data. A new route that is in neither list fails the walk below until it is added.
def reads(w: dict) -> dict[str, Read | None]:
    client, intake, plan, goal = w["client"].pk, w["intake"].pk, w["plan"].pk, w["goal"].pk
    doc, job = w["document"], w["job"]
    return {
        "fhir/Questionnaire/<str:pk>": None,  # the form, no answers
        "fhir/Binary/<str:pk>": Read(f"/fhir/Binary/{doc}"),  # the PDF: a download
        "fhir/metadata": None,  # the CapabilityStatement
        "fhir/$export": None,  # kick-off: nothing but an address comes back
        "fhir/Patient/$export": None,
        "fhir/$export-poll/<str:pk>": None,  # the manifest: addresses and counts
        "fhir/$export-file/<str:pk>/<str:resource_type>.ndjson": Read(w["bulk_file"]),
        "fhir/<str:resource_type>/<str:pk>": Read(f"/fhir/Patient/{client}"),
        "fhir/<str:resource_type>": Read(f"/fhir/CarePlan?patient={client}"),
        "fhir/<str:resource_type>/_search": Read(f"/fhir/CarePlan/_search?patient={client}"),
        "fhir/": None,  # unknown FHIR paths: an OperationOutcome
        "^fhir$": None,
        ".well-known/smart-configuration": None,
        "oauth/token": None,
        "fhir/QuestionnaireResponse/<str:pk>": Read(f"/fhir/QuestionnaireResponse/{intake}"),
        "fhir/CarePlan/<str:pk>": Read(f"/fhir/CarePlan/{plan}"),
        "fhir/Goal/<str:pk>": Read(f"/fhir/Goal/{goal}"),
        "fhir/DocumentReference/<str:pk>": Read(f"/fhir/DocumentReference/{doc}"),
        "fhir/Consent/<str:pk>": Read(f"/fhir/Consent/{intake}"),
        "healthz": None,
        "api/v1/me": None,
        "api/v1/clients/": Read("/api/v1/clients/"),
        "api/v1/clients/<str:pk>/": Read(f"/api/v1/clients/{client}/"),
        "api/v1/forms/<str:kind>/": None,
        "api/v1/intakes/": Read("/api/v1/intakes/"),
        "api/v1/intakes/<str:pk>/private-checks/": Read(
            f"/api/v1/intakes/{intake}/private-checks/"
        ),
        "api/v1/plans/": Read("/api/v1/plans/"),
        "api/v1/plans/<str:pk>/reviews/": Read(f"/api/v1/plans/{plan}/reviews/"),
        "api/v1/documents/": Read("/api/v1/documents/"),
        "api/v1/webhooks/<str:pk>/ping": None,  # POST only
        "api/v1/webhooks/<str:pk>/rotate-secret": None,  # POST only
        "away/save/": None,  # POST only
        "clients/<uuid:client_id>/care-team/": None,  # names of clinicians: no clinical data
        "intakes/<uuid:intake_id>/paused/": Read(f"/intakes/{intake}/paused/", browser=True),
        "intakes/<uuid:intake_id>/private/<str:step>/": Read(
            f"/intakes/{intake}/private/reflection/", browser=True
        ),
        "api/v1/intakes/<str:pk>/": Read(f"/api/v1/intakes/{intake}/"),
        "api/v1/intakes/<str:pk>/steps/<str:step>/": None,  # PUT only
        "api/v1/intakes/<str:pk>/complete/": None,  # POST only
        "api/v1/plans/<str:pk>/": Read(f"/api/v1/plans/{plan}/"),
        "api/v1/plans/<str:pk>/preview": Read(f"/api/v1/plans/{plan}/preview"),
        "api/v1/plans/<str:pk>/documents/": None,  # POST only
        "api/v1/documents/<str:pk>/": Read(f"/api/v1/documents/{doc}/"),
        "api/v1/documents/<str:pk>/pdf": Read(f"/api/v1/documents/{doc}/pdf"),
        "api/v1/language-check/": None,
        "api/v1/language-check/dismissals/": None,
        "api/v1/referral-agencies/": None,  # the directory, no client
        "api/v1/referral-agencies/<str:pk>/": None,
        "api/v1/plans/<str:pk>/referral-suggestions": Read(
            f"/api/v1/plans/{plan}/referral-suggestions"
        ),
        "api/v1/audit-events/": None,  # ids of events, for admins
        "api/v1/webhooks/": None,
        "api/v1/webhooks/<str:pk>/": None,
        "api/v1/webhooks/<str:pk>/deliveries/<str:delivery>/redeliver": None,  # POST only
        "api/v1/exports/": None,  # POST only
        "api/v1/exports/<str:pk>/": None,  # progress counts only
        "api/v1/exports/<str:pk>/zip": Read(f"/api/v1/exports/{job}/zip"),
        "api/v1/schema/": None,
        "api/v1/docs/": None,
        "referrals/": None,
        "exports/": None,  # the admin's jobs: dates and counts
        "exports/<uuid:job_id>/download/": Read(f"/exports/{job}/download/", True, True),
        "referrals/<uuid:agency_id>/": None,
        "": Read("/", browser=True),
        "login/": None,
        "logout/": None,
        "away/": None,
        "account/two-factor/": None,
        "intakes/start/": None,  # POST only
        "clients/<uuid:client_id>/erase/": Read(f"/clients/{client}/erase/", browser=True),
        "intakes/<uuid:intake_id>/": Read(f"/intakes/{intake}/", browser=True),
        "intakes/<uuid:intake_id>/summary/": Read(f"/intakes/{intake}/summary/", browser=True),
        "intakes/<uuid:intake_id>/step/<str:step>/": None,  # completed: see the wizard test
        "plans/<uuid:plan_id>/": Read(f"/plans/{plan}/", browser=True),
        "plans/<uuid:plan_id>/pdf/": None,  # POST only
        "plans/away/save/": None,  # POST only (quick exit's draft)
        "plans/<uuid:plan_id>/draft/discard/": None,  # POST only
        "documents/<uuid:document_id>/download/": Read(f"/documents/{doc}/download/", browser=True),
    }


def routes(patterns=None, prefix: str = ""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern) != "admin/":  # Django's admin: staff only, read-only audit
                yield from routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def test_every_route_that_shows_client_data_records_a_read(alice, world) -> None:
    table = reads(world)
    unknown = [r for r in routes() if r not in table]
    assert unknown == [], f"say whether these routes show client data: {unknown}"
    # The web export download belongs to an admin's own job.
    admin = make_persona(alice.clinic, role="clinic_admin")
    admin.membership.clinic.refresh_from_db()
    missing = []
    for route, read in table.items():
        if read is None:
            continue
        if read.admin:
            job = export_services.export_request(
                membership=admin.membership,
                actor=admin.user,
                day_from=date(2020, 1, 1),
                day_to=date(2029, 12, 31),
            )
            run_export_now(str(job.pk))
            response = browser_for(admin).get(f"/exports/{job.pk}/download/")
        elif read.browser:
            response = browser_for(alice).get(read.path)
        else:
            response = alice.api.get(read.path)
        assert response.status_code < 400, (route, response.status_code)
        recorded = events_of(response)
        clients = {str(e.client_id) for e in recorded} | {
            c for e in recorded for c in e.detail.get("clients", [])
        }
        if read.admin:
            if not recorded:
                missing.append(route)
        elif str(world["client"].pk) not in clients:
            missing.append(route)
    assert missing == []


def test_a_read_says_where_it_was_shown(alice, world) -> None:
    response = alice.api.get(f"/api/v1/plans/{world['plan'].pk}/referral-suggestions")
    assert response.status_code == 200
    (event,) = events_of(response)
    assert (event.action, event.object_id) == ("read", str(world["plan"].pk))
    assert event.client_id == world["client"].pk
    assert event.detail["via"] == "referral-suggestions"


def test_the_home_page_lists_are_recorded(alice, world, bob) -> None:
    response = browser_for(alice).get("/")
    assert response.status_code == 200
    (event,) = [e for e in events_of(response) if e.action == "list"]
    assert event.detail["clients"] == [str(world["client"].pk)]
    assert event.actor_id == alice.user.pk


def test_an_export_appears_when_filtering_by_client(alice, world) -> None:
    admin = make_persona(alice.clinic, role="clinic_admin")
    # The fixture ran the export before clearing the trail: run it again.
    job = export_services.ExportJob.objects.get(pk=world["job"])
    job.status = "queued"
    job.save(update_fields=["status"])
    job.items.all().delete()
    run_export_now(str(job.pk))
    body = admin.api.get(f"/api/v1/audit-events/?client={world['client'].pk}").json()
    exports = [e for e in body["results"] if e["action"] == "export"]
    assert exports
    assert exports[0]["object_id"] == str(job.pk)
    assert exports[0]["detail"]["plans"] == [f"{world['plan'].pk}:v{world['plan'].version}"]


def test_downloading_an_export_zip_is_recorded_per_client(alice, world) -> None:
    response = alice.api.get(f"/api/v1/exports/{world['job']}/zip")
    assert response.status_code == 200
    recorded = events_of(response)
    assert {(e.action, e.client_id) for e in recorded} == {
        ("export", None),
        ("export", world["client"].pk),
    }
    assert all(e.detail["download"] is True for e in recorded)


def test_creating_a_webhook_is_recorded(admin_ann, settings) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # no name resolution needed for this test
    response = admin_ann.api.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hooks-in", "events": ["plan.agreed"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="create", object_type="webhookendpoint")
    assert (event.object_id, event.actor_id) == (response.json()["id"], admin_ann.user.pk)
    assert "hooks-in" not in str(event.detail)


def test_editing_a_referral_agency_is_recorded(admin_ann) -> None:
    created = admin_ann.api.post(
        "/api/v1/referral-agencies/",
        {"name": "Harbour Legal", "services": ["legal"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    agency_id = created.json()["id"]
    response = admin_ann.api.patch(
        f"/api/v1/referral-agencies/{agency_id}/", {"notes": "Walk-in on Tuesdays"}, format="json"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="update", object_id=agency_id)
    assert event.detail["fields"] == ["notes"]
    assert event.actor_id == admin_ann.user.pk
    assert "Tuesdays" not in str(event.detail)
    page = browser_for(admin_ann).post(
        f"/referrals/{agency_id}/",
        {"name": "Harbour Legal Aid", "services": ["legal"], "notes": "Walk-in on Tuesdays"},
    )
    assert page.status_code == 302
    web = AuditEvent.objects.filter(action="update", object_id=agency_id).last()
    assert "name" in web.detail["fields"]
