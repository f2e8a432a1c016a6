"""What goes home in the client's copy: chosen with the client in the editor and over the API,
from the one plan-edit contract; private by default."""

import pytest

from documents import services as document_services
from documents.models import PlanDocument
from plans.models import TreatmentPlan
from tests.plans.test_web import save, shown_form, signed_in

pytestmark = pytest.mark.django_db
DEFAULT = ["goals", "supports", "referrals", "review"]


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


def patch(persona, plan, body):
    etag = persona.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    return persona.api.patch(f"/api/v1/plans/{plan.pk}/", body, format="json", HTTP_IF_MATCH=etag)


def test_the_plan_shows_the_private_by_default_choice(alice, plan) -> None:
    assert alice.api.get(f"/api/v1/plans/{plan.pk}/").json()["client_copy_sections"] == DEFAULT


def test_the_client_chooses_sections_over_the_api(alice, plan) -> None:
    before = alice.api.get(f"/api/v1/plans/{plan.pk}/").json()
    response = patch(alice, plan, {"client_copy_sections": ["work", "goals", "work"]})
    assert response.status_code == 200, response.content
    assert response.json()["client_copy_sections"] == ["goals", "work"]  # contract order, once
    # A choice about the copy is not plan content: no new version, same content fingerprint.
    assert response.json()["content_sha256"] == before["content_sha256"]
    assert TreatmentPlan.objects.get(pk=plan.pk).client_copy_sections == ["goals", "work"]


@pytest.mark.parametrize("value", [["goals", "diary"], "goals", [1], None])
def test_an_unknown_section_is_400_naming_the_field(alice, plan, value) -> None:
    response = patch(alice, plan, {"client_copy_sections": value})
    assert response.status_code == 400, response.content
    assert any(k.startswith("client_copy_sections") for k in response.json()["errors"])
    assert TreatmentPlan.objects.get(pk=plan.pk).client_copy_sections == DEFAULT


def test_the_editor_shows_each_section_in_plain_words_and_saves_the_ticks(alice, plan) -> None:
    browser = signed_in(alice)
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert "A printed copy can be found by anyone the client lives with" in page
    assert "Your work: what you would like for your work" in page
    form = shown_form(browser, plan)
    assert form["client_copy_sections"] == DEFAULT
    response = save(browser, plan, form, client_copy_sections=["goals", "strengths"])
    assert response.status_code == 302
    assert TreatmentPlan.objects.get(pk=plan.pk).client_copy_sections == ["goals", "strengths"]


def test_the_pdf_form_asks_for_the_copy_the_client_chose(alice, plan, monkeypatch) -> None:
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    browser = signed_in(alice)
    response = browser.post(
        f"/plans/{plan.pk}/pdf/",
        {"copy": "client", "sections": ["goals", "work"], "discreet": "1", "proceed": "1"},
    )
    assert response.status_code == 302
    doc = PlanDocument.objects.get()
    assert (doc.copy, doc.discreet, doc.sections) == ("client", True, ["goals"])
    browser.post(f"/plans/{plan.pk}/pdf/", {"copy": "clinic", "proceed": "1"})
    assert PlanDocument.objects.filter(copy="clinic").count() == 1
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert "the clinic's copy, " in page
    assert "the client's copy, discreet" in page
    # The one choice the form refuses is said in the form's own words, never a field's code.
    refused = browser.post(
        f"/plans/{plan.pk}/pdf/", {"copy": "clinic", "discreet": "1", "proceed": "1"}, follow=True
    ).content.decode()
    assert "Discreet copy: The clinic&#x27;s copy is always complete" in refused
    assert "discreet: " not in refused
