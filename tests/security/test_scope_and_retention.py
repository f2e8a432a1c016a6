"""Admins and clinical records; erasure from the web; retention."""

from datetime import timedelta

import pytest
from django.test import Client as Browser
from django.utils import timezone

from clients.models import Client
from clients.services import retention_purge
from intake.models import Intake
from plans.models import TreatmentPlan
from tests.factories import ClientFactory, IntakeFactory

pytestmark = pytest.mark.django_db


def test_a_clinic_admin_does_not_read_other_clinicians_clinical_records(
    admin_ann, persona_plan
) -> None:
    plan = persona_plan("continuing")  # alice's
    assert admin_ann.api.get(f"/api/v1/plans/{plan.pk}/").status_code == 404
    assert admin_ann.api.get(f"/api/v1/intakes/{plan.intake_id}/").status_code == 404
    assert admin_ann.api.get(f"/api/v1/plans/{plan.pk}/preview").status_code == 404
    # They still manage the clinic: the client list (aliases only) and the audit trail.
    assert admin_ann.api.get(f"/api/v1/clients/{plan.client_id}/").status_code == 200


def test_a_clinic_admin_reads_the_records_of_their_own_clients(admin_ann) -> None:
    client = admin_ann.api.post("/api/v1/clients/", {"display_name": "Ash"}, format="json").json()[
        "id"
    ]
    intake = admin_ann.api.post(
        "/api/v1/intakes/", {"client": client, "kind": "individual"}, format="json"
    ).json()["id"]
    assert admin_ann.api.get(f"/api/v1/intakes/{intake}/").status_code == 200


def test_erasing_from_the_web_needs_explicit_confirmation(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    browser = Browser()
    browser.force_login(alice.user)
    url = f"/clients/{plan.client_id}/erase/"
    assert "cannot be undone" in browser.get(url).content.decode()
    assert browser.post(url, {"confirm": "yes"}).status_code == 400
    assert Client.objects.filter(pk=plan.client_id).exists()
    assert browser.post(url, {"confirm": "ERASE"}).status_code == 302
    assert not Client.objects.filter(pk=plan.client_id).exists()
    assert not TreatmentPlan.objects.exists()


def test_only_admins_and_the_care_team_may_change_or_erase_a_client(
    alice, bob, admin_ann, persona_plan
) -> None:
    """Erasure destroys the clinical records only the care team may read, and a changed EHR id
    shares them with a connected system: a colleague off the team (not an admin) sees no erase
    link and is refused on the web and the API, with nothing changed; an admin (off the team)
    and the care team may do both."""
    plan = persona_plan("continuing")  # alice's client
    client_id = plan.client_id
    browser = Browser()
    browser.force_login(bob.user)
    home = browser.get("/").content.decode()
    assert "River" in home  # the list is clinic-wide
    assert f"/clients/{client_id}/erase/" not in home
    url = f"/clients/{client_id}/erase/"
    for response in (
        browser.get(url, follow=True),
        browser.post(url, {"confirm": "ERASE"}, follow=True),
    ):
        assert response.redirect_chain[-1][0] == "/"
        assert "care team can change or erase" in response.content.decode()
    refused = bob.api.delete(f"/api/v1/clients/{client_id}/")
    assert refused.status_code == 403
    assert "care team" in refused.json()["detail"]
    assert Client.objects.filter(pk=client_id).exists()
    # Nor may they change the record: its EHR id would share it with a connected system.
    for change in ({"external_id": "EHR-77"}, {"language": "es"}, {"display_name": "X"}):
        edit = bob.api.patch(f"/api/v1/clients/{client_id}/", change, format="json")
        assert edit.status_code == 403
    assert Client.objects.get(pk=client_id).external_id == ""
    assert (
        alice.api.patch(
            f"/api/v1/clients/{client_id}/", {"pronouns": "she/her"}, format="json"
        ).status_code
        == 200
    )
    assert (
        admin_ann.api.patch(
            f"/api/v1/clients/{client_id}/", {"pronouns": "they/them"}, format="json"
        ).status_code
        == 200
    )
    assert TreatmentPlan.objects.filter(pk=plan.pk).exists()
    # An admin handles erasure requests for the whole clinic, on the team or not.
    admin = Browser()
    admin.force_login(admin_ann.user)
    assert f"/clients/{client_id}/erase/" in admin.get("/").content.decode()
    assert admin_ann.api.delete(f"/api/v1/clients/{client_id}/").status_code == 204
    assert not Client.objects.filter(pk=client_id).exists()
    # The care team: alice erases a client of hers from the web (the test above) and the API.
    own = alice.api.post("/api/v1/clients/", {"display_name": "Ash"}, format="json").json()["id"]
    assert alice.api.delete(f"/api/v1/clients/{own}/").status_code == 204


def test_retention_erases_closed_records_past_the_period_only(alice, settings) -> None:
    settings.RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=40)
    closed = ClientFactory(clinic=alice.clinic)
    IntakeFactory(client=closed, status="completed")
    still_open = ClientFactory(clinic=alice.clinic)
    IntakeFactory(client=still_open, status="in_progress")
    recent = ClientFactory(clinic=alice.clinic)
    Client.objects.filter(pk__in=[closed.pk, still_open.pk]).update(updated_at=old)
    Intake.objects.filter(client__in=[closed, still_open]).update(updated_at=old)
    assert retention_purge() == 1
    assert set(Client.objects.values_list("pk", flat=True)) == {still_open.pk, recent.pk}


def test_retention_zero_keeps_everything(alice, settings) -> None:
    settings.RETENTION_DAYS = 0
    ClientFactory(clinic=alice.clinic)
    Client.objects.update(updated_at=timezone.now() - timedelta(days=9999))
    assert retention_purge() == 0
    assert Client.objects.count() == 1


def test_the_plan_preview_needs_the_export_scope_like_the_pdf(alice, persona_plan) -> None:
    from tests.conftest import make_persona

    plan = persona_plan("continuing")
    reader = make_persona(alice.clinic, scopes=["read"])
    exporter = make_persona(alice.clinic, scopes=["read", "export"])
    for persona in (reader, exporter):
        plan.client.care_team.add(persona.user)
    assert reader.api.get(f"/api/v1/plans/{plan.pk}/").status_code == 200
    assert reader.api.get(f"/api/v1/plans/{plan.pk}/preview").status_code == 403
    assert exporter.api.get(f"/api/v1/plans/{plan.pk}/preview").status_code == 200
    browser = Browser()
    browser.force_login(alice.user)
    assert browser.get(f"/api/v1/plans/{plan.pk}/preview").status_code == 200


def test_a_write_only_token_cannot_read_through_a_write(alice, persona_plan) -> None:
    """A change answers with what is stored (a step's save returns every answer of the intake,
    a client's PATCH the record): without `read`, a token is refused the write, not shown what
    a GET refuses it. Nothing is changed."""
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    plan = persona_plan("continuing")
    writer = APIClient()
    writer.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=alice.user, scopes=['write'])}"
    )
    intake, client = plan.intake, plan.client
    before = (Intake.objects.get(pk=intake.pk).updated_at, client.display_name)
    assert writer.get(f"/api/v1/intakes/{intake.pk}/").status_code == 403
    refused = [
        writer.put(f"/api/v1/intakes/{intake.pk}/steps/supports/", {}, format="json"),
        writer.patch(f"/api/v1/clients/{client.pk}/", {}, format="json"),
        writer.post("/api/v1/clients/", {"display_name": "Moss"}, format="json"),
    ]
    for response in refused:
        assert response.status_code == 403
        assert "needs both read and write" in response.json()["detail"]
        assert "continuing" not in response.content.decode()
    client.refresh_from_db()
    assert (Intake.objects.get(pk=intake.pk).updated_at, client.display_name) == before
    assert not Client.objects.filter(display_name="Moss").exists()
