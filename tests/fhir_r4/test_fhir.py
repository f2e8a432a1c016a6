"""FHIR R4 resources: valid per fhir.resources.R4B, scoped, and never carrying the reflection."""

import base64
import hashlib
import json

import pytest
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from documents import services as document_services
from forms import STEPS

pytestmark = pytest.mark.django_db


def fetch(persona, path: str, model):
    response = persona.api.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    body = json.loads(response.content)
    model.model_validate(body)  # raises on anything invalid for R4B
    return body


@pytest.fixture
def plan(persona_plan):
    return persona_plan("not_a_topic")


def test_questionnaire_comes_from_forms_with_every_condition(alice) -> None:
    body = fetch(alice, "/fhir/Questionnaire/individual", Questionnaire)
    groups = {g["linkId"]: g for g in body["item"]}
    expected = [s.name for s in STEPS if s.name != "partner" and not s.clinician_only]
    assert list(groups) == expected
    for step in STEPS:
        if step.name in groups and step.enabled_when is not None:
            assert groups[step.name]["enableWhen"], step.name
            assert groups[step.name]["enableBehavior"] == "all"
    work_plans = groups["work_plans"]["enableWhen"]
    assert {"question": "work_focus", "operator": "exists", "answerBoolean": True} in work_plans
    direction = groups["work_plans"]["item"][1]
    assert direction["linkId"] == "work_direction"
    assert [o["valueCoding"]["code"] for o in direction["answerOption"]][-1] == (
        "prefer_not_to_say"
    )
    assert groups["consent"]["item"][1]["required"] is True
    assert body["url"] == "http://testserver/fhir/Questionnaire/individual"
    couple = fetch(alice, "/fhir/Questionnaire/couple", Questionnaire)
    assert "partner" in [g["linkId"] for g in couple["item"]]
    assert alice.api.get("/fhir/Questionnaire/group").status_code == 404


def test_questionnaire_response_keeps_prefer_not_to_say_and_never_the_reflection(
    alice, persona_plan
) -> None:
    plan = persona_plan("not_a_topic")
    body = fetch(alice, f"/fhir/QuestionnaireResponse/{plan.intake_id}", QuestionnaireResponse)
    assert body["status"] == "completed"
    text = json.dumps(body)
    assert "PRIVATE-REFLECTION" not in text
    assert "reflection" not in [g["linkId"] for g in body["item"]]
    about = next(g for g in body["item"] if g["linkId"] == "about")
    focus = next(i for i in about["item"] if i["linkId"] == "work_focus")
    assert focus["answer"][0]["valueCoding"]["code"] == "no"


def test_care_plan_and_goals(alice, plan) -> None:
    body = fetch(alice, f"/fhir/CarePlan/{plan.pk}", CarePlan)
    assert (body["status"], body["intent"]) == ("draft", "plan")
    assert body["contributor"][0] == {"reference": f"Patient/{plan.client_id}"}
    assert "Get my sleep back" in body["text"]["div"]
    goal_ref = body["goal"][0]["reference"]
    goal = fetch(alice, f"/fhir/{goal_ref}", Goal)
    assert goal["description"]["text"] == "Get my sleep back"
    assert goal["expressedBy"] == {"reference": f"Patient/{plan.client_id}"}
    assert goal["lifecycleStatus"] == "proposed"


def test_document_reference_with_hash_and_replaced_versions(alice, plan, monkeypatch) -> None:
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    first = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    document_services.document_render(document_id=first, worker="w:1")
    alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"safety_plan": "new"},
        format="json",
        HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
    )
    second = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    document_services.document_render(document_id=second, worker="w:1")
    body = fetch(alice, f"/fhir/DocumentReference/{second}", DocumentReference)
    assert body["type"]["coding"][0]["code"] == "18776-5"
    assert body["docStatus"] == "preliminary"  # a draft's PDF (agreed plans': test_content)
    assert body["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{first}"}}
    ]
    pdf = alice.api.get(f"/api/v1/documents/{second}/pdf").content
    attachment = body["content"][0]["attachment"]
    assert attachment["size"] == len(pdf)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()  # noqa: S324


def test_consent_records_the_recording_preference(alice, persona_plan) -> None:
    plan = persona_plan("continuing")  # recording_preference: full
    body = fetch(alice, f"/fhir/Consent/{plan.intake_id}", Consent)
    assert body["status"] == "active"
    assert body["provision"]["code"][0]["coding"][0]["code"] == "full"


@pytest.mark.parametrize("kind", ["QuestionnaireResponse", "Consent"])
def test_outsiders_get_404_on_intake_resources(charlie, plan, kind) -> None:
    response = charlie.api.get(f"/fhir/{kind}/{plan.intake_id}")
    assert response.status_code == 404
    assert json.loads(response.content)["resourceType"] == "OperationOutcome"


def test_outsiders_get_404_on_plan_goal_and_document(charlie, alice, plan) -> None:
    goal = plan.goals.first()
    for path in (
        f"/fhir/CarePlan/{plan.pk}",
        f"/fhir/Goal/{goal.pk}",
        "/fhir/DocumentReference/not-an-id",
        "/fhir/CarePlan/123",
    ):
        assert charlie.api.get(path).status_code == 404, path


def test_fhir_needs_credentials(client, plan) -> None:
    assert client.get(f"/fhir/CarePlan/{plan.pk}").status_code == 401
