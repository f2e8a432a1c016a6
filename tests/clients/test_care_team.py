"""Who may see what: only a client's care team reads their clinical records (DESIGN, second
round). Clinic admins manage the team, and read clinical content only when on it."""

import importlib

import pytest
from django.test import Client as Browser

from clients.models import Client
from documents import services as document_services
from intake.models import Intake
from tests.factories import IntakeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(alice, persona_plan, monkeypatch):
    """alice's client with a completed intake, a plan and a rendered PDF."""
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    plan = persona_plan("continuing")
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    document_services.document_render(document_id=doc_id, worker="w:1")
    return plan, doc_id


def clinical_paths(plan, doc_id) -> list[str]:
    return [
        f"/api/v1/intakes/{plan.intake_id}/",
        f"/api/v1/plans/{plan.pk}/",
        f"/api/v1/plans/{plan.pk}/preview",
        f"/api/v1/plans/{plan.pk}/referral-suggestions",
        f"/api/v1/documents/{doc_id}/",
        f"/api/v1/documents/{doc_id}/pdf",
        f"/fhir/QuestionnaireResponse/{plan.intake_id}",
        f"/fhir/Consent/{plan.intake_id}",
        f"/fhir/CarePlan/{plan.pk}",
        f"/fhir/Goal/{plan.goals.first().pk}",
        f"/fhir/DocumentReference/{doc_id}",
    ]


def web_paths(plan, doc_id) -> list[str]:
    return [
        f"/plans/{plan.pk}/",
        f"/documents/{doc_id}/download/",
        f"/intakes/{plan.intake_id}/",
        f"/intakes/{plan.intake_id}/summary/",
        f"/intakes/{plan.intake_id}/step/goals/",
    ]


def browser_for(persona) -> Browser:
    browser = Browser()
    browser.force_login(persona.user)
    return browser


def start_intake(persona, client_id):
    return persona.api.post(
        "/api/v1/intakes/", {"client": str(client_id), "kind": "individual"}, format="json"
    )


@pytest.mark.parametrize("who", ["bob", "admin_ann"])
def test_off_the_team_gets_404_until_added(request, who, alice, record) -> None:
    plan, doc_id = record
    persona = request.getfixturevalue(who)
    browser = browser_for(persona)
    for path in clinical_paths(plan, doc_id):
        response = persona.api.get(path)
        assert response.status_code == 404, path
        assert "River" not in response.content.decode()
        assert alice.api.get(path).status_code == 200, path
    for path in web_paths(plan, doc_id):
        assert browser.get(path).status_code == 404, path
    # Writes too.
    patch = persona.api.patch(f"/api/v1/plans/{plan.pk}/", {"safety_plan": "x"}, format="json")
    assert patch.status_code == 404
    assert persona.api.post(f"/api/v1/plans/{plan.pk}/documents/").status_code == 404
    step = f"/api/v1/intakes/{plan.intake_id}/steps/goals/"
    assert persona.api.put(step, {"client_goals": ["x"]}, format="json").status_code == 404
    # Starting an intake needs the team too: API (the documented 400 naming `client`, as for
    # another clinic's client) and web.
    refused = start_intake(persona, plan.client_id)
    assert (refused.status_code, list(refused.json()["errors"])) == (400, ["client"])
    web_start = browser.post("/intakes/start/", {"client": plan.client_id, "kind": "individual"})
    assert web_start.status_code == 404
    assert Intake.objects.filter(client_id=plan.client_id).count() == 1
    # List endpoints do not leak either.
    assert persona.api.get("/api/v1/clients/").status_code == 200
    home = browser.get("/").content.decode()
    assert f"/plans/{plan.pk}/" not in home
    assert f"/intakes/{plan.intake_id}/" not in home
    # The demographic record stays clinic-wide.
    client = persona.api.get(f"/api/v1/clients/{plan.client_id}/").json()
    assert client["display_name"] == "River"
    assert client["care_team"] == [alice.user.username]

    Client.objects.get(pk=plan.client_id).care_team.add(persona.user)
    for path in clinical_paths(plan, doc_id):
        assert persona.api.get(path).status_code == 200, path
    for path in web_paths(plan, doc_id):
        assert browser.get(path).status_code in (200, 302), path
    assert start_intake(persona, plan.client_id).status_code == 201
    assert f"/plans/{plan.pk}/" in browser.get("/").content.decode()


def test_an_admin_manages_the_team_over_the_api(alice, bob, admin_ann, charlie, record) -> None:
    plan, _ = record
    url = f"/api/v1/clients/{plan.client_id}/"
    names = sorted([alice.user.username, bob.user.username])
    response = admin_ann.api.patch(url, {"care_team": names}, format="json")
    assert response.status_code == 200
    assert response.json()["care_team"] == names
    assert bob.api.get(f"/api/v1/plans/{plan.pk}/").status_code == 200
    # The admin is not on it, so still reads nothing clinical.
    assert admin_ann.api.get(f"/api/v1/plans/{plan.pk}/").status_code == 404
    # Unknown names and other clinics' users: 400 naming the field, nothing changed.
    for bad in (["nobody-by-this-name"], [charlie.user.username], "alice", [1]):
        response = admin_ann.api.patch(url, {"care_team": bad}, format="json")
        assert response.status_code == 400, bad
        assert set(response.json()["errors"]) == {"care_team"} or any(
            k.startswith("care_team") for k in response.json()["errors"]
        )
    assert admin_ann.api.get(url).json()["care_team"] == names
    # Nobody on the team would leave the records unreadable to every clinician.
    emptied = admin_ann.api.patch(url, {"care_team": []}, format="json")
    assert emptied.status_code == 400
    assert emptied.json()["errors"]["care_team"][0].startswith("Name at least one clinician")
    assert admin_ann.api.get(url).json()["care_team"] == names
    # Removing someone takes their access away.
    admin_ann.api.patch(url, {"care_team": [alice.user.username]}, format="json")
    assert bob.api.get(f"/api/v1/plans/{plan.pk}/").status_code == 404
    # Another clinic's admin-like caller gets 404, not a team.
    assert charlie.api.patch(url, {"care_team": []}, format="json").status_code == 404


def test_only_admins_change_the_team(alice, bob, record) -> None:
    plan, _ = record
    url = f"/api/v1/clients/{plan.client_id}/"
    response = alice.api.patch(
        url, {"care_team": [alice.user.username, bob.user.username]}, format="json"
    )
    assert response.status_code == 403
    assert bob.api.get(f"/api/v1/plans/{plan.pk}/").status_code == 404
    # Demographic edits stay open to clinicians, with the team unchanged.
    assert alice.api.patch(url, {"pronouns": "she/her"}, format="json").status_code == 200
    assert alice.api.get(url).json()["care_team"] == [alice.user.username]


def test_whoever_creates_a_client_is_on_the_team(bob, admin_ann) -> None:
    created = bob.api.post("/api/v1/clients/", {"display_name": "Ash"}, format="json").json()
    assert created["care_team"] == [bob.user.username]
    assert start_intake(bob, created["id"]).status_code == 201
    assert start_intake(admin_ann, created["id"]).status_code == 400
    browser = browser_for(admin_ann)
    browser.post("/intakes/start/", {"display_name": "Fern", "kind": "individual"})
    fern = Client.objects.exclude(pk=created["id"]).get()
    assert list(fern.care_team.all()) == [admin_ann.user]


def test_tokens_follow_their_users_team(alice, bob, record) -> None:
    from accounts.services import api_token_create
    from tests.conftest import make_persona

    plan, _ = record
    reader = make_persona(alice.clinic, scopes=["read"])
    assert reader.api.get(f"/api/v1/plans/{plan.pk}/").status_code == 404
    plan.client.care_team.add(reader.user)
    assert reader.api.get(f"/api/v1/plans/{plan.pk}/").status_code == 200
    assert api_token_create  # the token is the user's; nothing else to configure


def test_admins_manage_the_team_on_the_web(alice, bob, admin_ann, record) -> None:
    plan, _ = record
    url = f"/clients/{plan.client_id}/care-team/"
    assert browser_for(alice).get(url).status_code == 403
    admin = browser_for(admin_ann)
    assert f"/clients/{plan.client_id}/care-team/" in admin.get("/").content.decode()
    page = admin.get(url).content.decode()
    assert bob.user.username in page
    response = admin.post(url, {"members": [alice.user.username, bob.user.username]})
    assert response.status_code == 302
    assert set(plan.client.care_team.values_list("username", flat=True)) == {
        alice.user.username,
        bob.user.username,
    }
    assert admin.post(url, {"members": ["someone-else"]}).status_code == 200  # form error
    nobody = admin.post(url, {})
    assert nobody.status_code == 200
    assert "Tick at least one person" in nobody.content.decode()
    assert plan.client.care_team.count() == 2


def test_home_shows_start_intake_only_for_team_clients(alice, bob, alices_client) -> None:
    alices_page = browser_for(alice).get("/").content.decode()
    bobs_page = browser_for(bob).get("/").content.decode()
    hidden = f'name="client" value="{alices_client.pk}"'
    assert hidden in alices_page
    assert hidden not in bobs_page
    assert "River" in bobs_page  # the alias list stays clinic-wide


def test_migration_puts_creators_and_intake_authors_on_the_team(alice, bob, admin_ann) -> None:
    from django.apps import apps

    client = Client.objects.create(clinic=alice.clinic, display_name="Old", created_by=alice.user)
    IntakeFactory(client=client, created_by=bob.user)
    untouched = Client.objects.create(clinic=alice.clinic, display_name="Nobody's")
    migration = importlib.import_module("clients.migrations.0003_care_team_from_creators")
    migration.fill_care_teams(apps, None)
    assert set(client.care_team.all()) == {alice.user, bob.user}
    assert untouched.care_team.count() == 0
