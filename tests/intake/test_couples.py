"""Couples as two people (DESIGN "Couples: two people"): the worker's own account is kept
unless a save sends it again, through the service and the step API; plain-word messages."""

import pytest

from forms import STEPS_BY_NAME, form_kwargs
from forms.django_forms import validate_payload
from intake.services import intake_start, intake_submit_step
from tests.intake.helpers import CONSENT

pytestmark = pytest.mark.django_db
CHOSE_WORK = {"couple_topics": ["communication", "sex_work"]}


def save(persona, intake, step: str, payload: dict) -> None:
    answers = validate_payload(
        STEPS_BY_NAME[step], payload, **form_kwargs(intake.kind, intake.answers)
    )
    intake_submit_step(intake=intake, step=STEPS_BY_NAME[step], answers=answers, actor=persona.user)


@pytest.fixture
def couple(alice, alices_client):
    intake = intake_start(
        membership=alice.membership, actor=alice.user, client=alices_client, kind="couple"
    )
    # Nothing else is kept before it; everything written down (partner_concerns included).
    save(alice, intake, "consent", {**CONSENT, "recording_preference": "full"})
    return intake


def consented(alice, client, kind: str) -> dict:
    """A new intake through the API, its consent step saved (the first step)."""
    created = alice.api.post(
        "/api/v1/intakes/", {"client": str(client.pk), "kind": kind}, format="json"
    ).json()
    consent = {"confidentiality_explained": True, "recording_preference": "full"}
    url = f"/api/v1/intakes/{created['id']}/steps/consent/"
    assert alice.api.put(url, consent, format="json").status_code == 200
    return created


def test_service_keeps_the_workers_account_when_a_joint_save_leaves_it_out(alice, couple) -> None:
    save(alice, couple, "partner", {**CHOSE_WORK, "worker_description": "My words"})
    save(alice, couple, "partner", {**CHOSE_WORK, "partner_concerns": "Theirs"})
    assert couple.answers["partner"]["worker_description"] == "My words"
    assert couple.answers["partner"]["partner_concerns"] == "Theirs"
    save(alice, couple, "partner", {**CHOSE_WORK, "worker_description": "New words"})
    assert couple.answers["partner"]["worker_description"] == "New words"
    save(alice, couple, "partner", {**CHOSE_WORK, "worker_description": ""})
    assert "worker_description" not in couple.answers["partner"]


def test_service_drops_the_workers_account_when_work_is_no_longer_a_topic(alice, couple) -> None:
    save(alice, couple, "partner", {**CHOSE_WORK, "worker_description": "My words"})
    save(alice, couple, "work_context", {"work_types": ["massage"]})
    save(alice, couple, "partner", {"couple_topics": ["trust"]})
    assert couple.answers["partner"] == {"couple_topics": ["trust"]}
    assert "work_context" not in couple.answers


def test_step_api_keeps_the_workers_account(alice, alices_client) -> None:
    created = consented(alice, alices_client, "couple")
    url = f"/api/v1/intakes/{created['id']}/steps/partner/"
    first = alice.api.put(url, {**CHOSE_WORK, "worker_description": "My words"}, format="json")
    assert first.status_code == 200
    joint = alice.api.put(url, {**CHOSE_WORK, "relationship_structure": ["open"]}, format="json")
    assert joint.status_code == 200
    assert joint.json()["answers"]["partner"]["worker_description"] == "My words"
    refused = alice.api.put(
        url, {"couple_topics": ["trust"], "worker_description": "x"}, format="json"
    )
    assert refused.status_code == 400
    assert "worker_description" in refused.json()["errors"]


def test_step_api_asks_each_person_of_a_couple(alice, alices_client) -> None:
    created = consented(alice, alices_client, "couple")
    url = f"/api/v1/intakes/{created['id']}/steps/about/"
    body = {"partner_a_name": "Sam", "partner_b_name": "Alex", "partner_b_pronouns": "they/them"}
    assert alice.api.put(url, body, format="json").status_code == 200
    single = alice.api.put(url, {"preferred_name": "Sam"}, format="json")
    assert single.status_code == 400
    assert "preferred_name" in single.json()["errors"]
    work = alice.api.put(f"/api/v1/intakes/{created['id']}/steps/work_context/", {}, format="json")
    assert work.status_code == 409  # the couple has not chosen work as a topic


def test_a_step_that_does_not_apply_is_named_in_plain_words(alice, alices_client) -> None:
    created = consented(alice, alices_client, "individual")
    response = alice.api.put(
        f"/api/v1/intakes/{created['id']}/steps/exit_planning/", {}, format="json"
    )
    assert response.status_code == 409
    text = str(response.json())
    assert "exit_planning" not in text
    assert "Making a change, at your pace" in text


def test_not_sure_yet_completes_and_the_plan_says_so(alice, alices_client) -> None:
    created = consented(alice, alices_client, "individual")
    base = f"/api/v1/intakes/{created['id']}"
    assert alice.api.put(f"{base}/steps/consent/", CONSENT, format="json").status_code == 200
    goals = alice.api.put(f"{base}/steps/goals/", {"goals_unsure": True}, format="json")
    assert goals.status_code == 200
    assert goals.json()["answers"]["goals"] == {"goals_unsure": True}
    done = alice.api.post(f"{base}/complete/")
    assert done.status_code == 201
    preview = alice.api.get(f"/api/v1/plans/{done.json()['plan']}/preview")
    assert "not sure yet what you would like to work on" in preview.content.decode()
