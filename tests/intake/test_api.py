"""The REST step API validates with the same forms as the wizard."""

import uuid

import pytest

from intake.models import Intake, Reflection
from plans.models import TreatmentPlan
from tests.intake.helpers import CONSENT, GOALS

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake_id(alice, alices_client) -> str:
    response = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "individual"}, format="json"
    )
    assert response.status_code == 201
    return response.json()["id"]


def put(persona, intake_id: str, step: str, body):
    return persona.api.put(f"/api/v1/intakes/{intake_id}/steps/{step}/", body, format="json")


FULL_CONSENT = {**CONSENT, "recording_preference": "full"}


@pytest.fixture
def consented(alice, intake_id) -> str:
    """An intake whose consent step is saved: every other step's answers wait for it."""
    assert put(alice, intake_id, "consent", FULL_CONSENT).status_code == 200
    return intake_id


def test_no_answer_is_kept_before_confidentiality_is_confirmed(alice, intake_id) -> None:
    """DESIGN: the consent step "must be true to continue". A step sent first is refused (409,
    saying what to do), nothing stored; consent not confirmed refuses too; once confirmed, the
    same step is saved."""
    about = {"work_focus": "central", "work_term": "dancing"}
    refused = put(alice, intake_id, "about", about)
    assert refused.status_code == 409
    assert "confidentiality_explained" in refused.json()["detail"]
    assert put(alice, intake_id, "goals", {"client_goals": ["Rest"]}).status_code == 409
    assert Intake.objects.get(pk=intake_id).answers == {}
    not_yet = put(alice, intake_id, "consent", {"recording_preference": "full"})
    assert list(not_yet.json()["errors"]) == ["confidentiality_explained"]
    assert put(alice, intake_id, "about", about).status_code == 409
    assert put(alice, intake_id, "consent", FULL_CONSENT).status_code == 200
    assert put(alice, intake_id, "about", about).status_code == 200
    assert Intake.objects.get(pk=intake_id).answers["about"] == about


def test_form_definition_lists_steps_fields_and_codes(alice) -> None:
    body = alice.api.get("/api/v1/forms/individual/").json()
    steps = [s["name"] for s in body["steps"]]
    assert "partner" not in steps
    assert steps[0] == "consent"
    assert steps[-1] == "review"
    work_plans = next(s for s in body["steps"] if s["name"] == "work_plans")
    assert work_plans["enabled_when"] == {
        "all": [
            {"field": "about.work_focus", "in": ["central", "part"]},
            {"field": "consent.recording_preference", "not_in": ["no_work_details"]},
        ]
    }
    direction = work_plans["fields"][0]
    assert direction["initial"] is None
    assert direction["optional"] is True
    assert [c["code"] for c in direction["choices"]][:4] == [
        "continue",
        "change_conditions",
        "reduce",
        "leave",
    ]
    couple = alice.api.get("/api/v1/forms/couple/").json()
    assert "partner" in [s["name"] for s in couple["steps"]]
    assert alice.api.get("/api/v1/forms/group/").status_code == 404


def test_start_returns_steps_with_state(alice, intake_id) -> None:
    body = alice.api.get(f"/api/v1/intakes/{intake_id}/").json()
    assert body["status"] == "in_progress"
    states = {s["name"]: s for s in body["steps"]}
    assert states["consent"] == {
        "name": "consent",
        "enabled": True,
        "complete": False,
        "clinician_only": False,
    }
    assert states["work_context"]["enabled"] is False
    assert body["answers"] == {}


def test_start_with_another_clinics_client_is_400_naming_client(charlie, alices_client) -> None:
    response = charlie.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "individual"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["client"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client": "nope", "kind": "individual"}, "client"),
        ({"client": str(uuid.uuid4()), "kind": "group"}, "kind"),
        ({"kind": "individual"}, "client"),
    ],
)
def test_start_validation(alice, body, field) -> None:
    response = alice.api.post("/api/v1/intakes/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_outsider_gets_404_everywhere(charlie, intake_id) -> None:
    assert charlie.api.get(f"/api/v1/intakes/{intake_id}/").status_code == 404
    assert put(charlie, intake_id, "consent", CONSENT).status_code == 404
    assert charlie.api.post(f"/api/v1/intakes/{intake_id}/complete/").status_code == 404
    assert Intake.objects.get(pk=intake_id).answers == {}


def test_a_step_saves_and_marks_complete(alice, intake_id) -> None:
    response = put(alice, intake_id, "consent", CONSENT)
    assert response.status_code == 200
    body = response.json()
    assert body["answers"]["consent"] == CONSENT
    assert {s["name"]: s["complete"] for s in body["steps"]}["consent"] is True


@pytest.mark.parametrize(
    ("step", "body", "field"),
    [
        (
            "consent",
            {"confidentiality_explained": False, "recording_preference": "full"},
            "confidentiality_explained",
        ),
        (
            "consent",
            {"confidentiality_explained": "yes", "recording_preference": "full"},
            "confidentiality_explained",
        ),
        (
            "consent",
            {"confidentiality_explained": True, "recording_preference": "everything"},
            "recording_preference",
        ),
        ("about", {"work_focus": 3}, "work_focus"),
        ("about", {"nickname": "x"}, "nickname"),
        ("about", {"preferred_name": "x" * 101}, "preferred_name"),
        ("goals", {"client_goals": "one goal"}, "client_goals"),
        ("goals", {"client_goals": []}, "client_goals"),
        ("goals", {"client_goals": ["g"] * 11}, "client_goals"),
        ("goals", {"client_goals": ["g"] * 10_000}, "client_goals"),
        ("goals", {"client_goals": ["x" * 501]}, "client_goals.0"),
        ("goals", {"client_goals": ["ok", "x" * 501]}, "client_goals.1"),
        ("goals", {"client_goals": ["nul\x00"]}, "client_goals"),
        ("goals", {"client_goals": ["ok"], "what_brings_you": "x" * 4001}, "what_brings_you"),
        ("supports", {"referral_needs": ["housing", 7]}, "referral_needs"),
        ("stigma_coping", {"stigma_experiences": ["none", "police"]}, "stigma_experiences"),
    ],
)
def test_bad_answers_are_400_naming_the_field(alice, intake_id, step, body, field) -> None:
    response = put(alice, intake_id, step, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_errors_never_echo_what_was_typed(alice, intake_id) -> None:
    response = put(alice, intake_id, "about", {"work_focus": "my secret words"})
    assert response.status_code == 400
    assert "my secret words" not in response.content.decode()


def test_a_body_that_is_not_an_object_is_400(alice, intake_id) -> None:
    assert put(alice, intake_id, "consent", ["not", "an", "object"]).status_code == 400


def test_a_step_put_with_no_body_saves_nothing_and_deletes_nothing(alice, consented) -> None:
    """Sending nothing is not {}: it would skip every question, and delete the steps the stored
    answers switched on. A 400 says what to send; {} still skips a page on purpose."""
    intake_id = consented
    put(alice, intake_id, "about", {"work_focus": "part", "work_term": "escorting"})
    assert put(alice, intake_id, "work_context", {"work_types": ["agency"]}).status_code == 200
    before = Intake.objects.get(pk=intake_id).answers
    for content_type in ("application/json", None):
        extra = {"content_type": content_type} if content_type else {}
        response = alice.api.put(f"/api/v1/intakes/{intake_id}/steps/about/", **extra)
        assert response.status_code == 400, response.content
        assert "nothing was sent" in response.json()["errors"]["non_field_errors"][0]
    assert Intake.objects.get(pk=intake_id).answers == before
    skipped = put(alice, intake_id, "supports", {})
    assert skipped.status_code == 200
    assert Intake.objects.get(pk=intake_id).answers["supports"] == {}


def test_pronouns_given_in_about_you_become_the_ones_on_record(alice, consented) -> None:
    """Given, they replace the record's; sent blank, they clear it; left out, the record stays."""
    intake_id = consented
    from clients.models import Client

    client = Client.objects.get(intakes__pk=intake_id)
    assert client.pronouns == "they/them"
    put(alice, intake_id, "about", {"preferred_name": "Wren"})
    assert Client.objects.get(pk=client.pk).pronouns == "they/them"
    put(alice, intake_id, "about", {"pronouns": "she/her"})
    assert alice.api.get(f"/api/v1/clients/{client.pk}/").json()["pronouns"] == "she/her"
    put(alice, intake_id, "about", {"pronouns": ""})
    assert Client.objects.get(pk=client.pk).pronouns == ""


def test_an_older_intake_saved_again_as_it_was_keeps_newer_pronouns(
    alice, alices_client, consented
) -> None:
    """Only a change made in an intake reaches the record: "About you" of an older intake still
    in progress, saved again unchanged, never puts back the pronouns it was given."""
    intake_id = consented
    put(alice, intake_id, "about", {"pronouns": "ze/hir"})
    newer = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "individual"}, format="json"
    ).json()["id"]
    put(alice, newer, "consent", FULL_CONSENT)
    put(alice, newer, "about", {"pronouns": "she/her"})
    alices_client.refresh_from_db()
    assert alices_client.pronouns == "she/her"
    assert put(alice, intake_id, "about", {"pronouns": "ze/hir"}).status_code == 200
    alices_client.refresh_from_db()
    assert alices_client.pronouns == "she/her"


def test_unknown_step_is_404(alice, intake_id) -> None:
    assert put(alice, intake_id, "diagnosis", {}).status_code == 404


def test_step_not_enabled_is_409(alice, consented) -> None:
    intake_id = consented
    response = put(alice, intake_id, "work_context", {"work_types": ["massage"]})
    assert response.status_code == 409
    assert "because of an earlier answer" in str(response.json())
    couples_only = put(alice, intake_id, "partner", {})
    assert couples_only.status_code == 409
    # A couple's step on an individual intake: said as it is, not as an answer to change.
    assert "is not part of individual intakes" in str(couples_only.json())
    assert "earlier answer" not in str(couples_only.json())


def test_turning_work_off_deletes_work_answers(alice, consented) -> None:
    intake_id = consented
    put(alice, intake_id, "about", {"work_focus": "part", "work_term": "escorting"})
    assert put(alice, intake_id, "work_context", {"work_types": ["agency"]}).status_code == 200
    assert put(alice, intake_id, "work_plans", {"work_direction": "reduce"}).status_code == 200
    assert put(alice, intake_id, "exit_planning", {"exit_stage": "thinking"}).status_code == 200
    body = put(alice, intake_id, "about", {"work_focus": "not_now"}).json()
    assert set(body["answers"]) == {"consent", "about"}
    assert body["progress"] == {"complete": 2, "total": 6}  # the client's steps only
    stored = Intake.objects.get(pk=intake_id).answers
    assert set(stored) == {"consent", "about"}


def test_a_question_an_earlier_answer_switched_off_is_refused_by_name(alice, consented) -> None:
    intake_id = consented
    # "Keep going as I am": what they would change about how or where they work is not asked.
    put(alice, intake_id, "about", {"work_focus": "part"})
    assert put(alice, intake_id, "work_plans", {"work_direction": "continue"}).status_code == 200
    refused = put(alice, intake_id, "harm_reduction", {"change_what": "Work with a friend"})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["change_what"]
    assert "harm_reduction" not in Intake.objects.get(pk=intake_id).answers
    # The form definition says when it is asked, as the wizard and FHIR do.
    steps = alice.api.get("/api/v1/forms/individual/").json()["steps"]
    fields = next(s for s in steps if s["name"] == "harm_reduction")["fields"]
    change_what = next(f for f in fields if f["name"] == "change_what")
    assert change_what["enabled_when"] == {
        "field": "work_plans.work_direction",
        "in": ["change_conditions", "undecided"],
    }
    # Asked once they choose to change how or where they work; let go if they choose to keep
    # going as they are after all, with the rest of the step kept.
    put(alice, intake_id, "work_plans", {"work_direction": "change_conditions"})
    body = {"change_what": "Work with a friend", "rights": ["police"]}
    assert put(alice, intake_id, "harm_reduction", body).status_code == 200
    switched = put(alice, intake_id, "work_plans", {"work_direction": "continue"})
    assert Intake.objects.get(pk=intake_id).answers["harm_reduction"] == {"rights": ["police"]}
    assert switched.json()["removed"] == ["harm_reduction.change_what"]  # said, as on screen
    again = put(alice, intake_id, "work_plans", {"work_direction": "continue"})
    assert again.json()["removed"] == []
    # A whole step switched off is named as a step.
    put(alice, intake_id, "work_context", {"work_types": ["massage"]})
    off = put(alice, intake_id, "about", {"work_focus": "no"})
    assert "work_context" in off.json()["removed"]
    assert "work_context" not in Intake.objects.get(pk=intake_id).answers


def test_complete_lists_what_is_still_needed(alice, intake_id) -> None:
    response = alice.api.post(f"/api/v1/intakes/{intake_id}/complete/")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "consent.confidentiality_explained",
        "goals.client_goals",
    }


def test_complete_drafts_a_plan_with_the_clients_goals_verbatim(alice, intake_id) -> None:
    put(alice, intake_id, "consent", CONSENT)
    put(alice, intake_id, "goals", GOALS)
    response = alice.api.post(f"/api/v1/intakes/{intake_id}/complete/")
    assert response.status_code == 201
    plan = TreatmentPlan.objects.get(pk=response.json()["plan"])
    assert [g.client_words for g in plan.goals.all()] == GOALS["client_goals"]
    again = alice.api.post(f"/api/v1/intakes/{intake_id}/complete/")
    assert again.json()["plan"] == str(plan.pk)
    assert TreatmentPlan.objects.count() == 1
    assert put(alice, intake_id, "goals", GOALS).status_code == 409


def test_reflection_is_visible_to_its_author_only(alice, bob, intake_id) -> None:
    note = {"reflection_notes": "I notice I feel protective", "consultation_wanted": True}
    Intake.objects.get(pk=intake_id).client.care_team.add(bob.user)  # bob may read the intake
    assert put(alice, intake_id, "reflection", note).status_code == 200
    assert alice.api.get(f"/api/v1/intakes/{intake_id}/").json()["answers"]["reflection"] == note
    bobs_view = bob.api.get(f"/api/v1/intakes/{intake_id}/")
    assert "reflection" not in bobs_view.json()["answers"]
    assert "protective" not in bobs_view.content.decode()
    assert Reflection.objects.get().author == alice.user


def test_starting_an_intake_for_a_client_one_does_not_work_with_is_one_400(
    alice, bob, charlie, alices_client
) -> None:
    """Off the client's care team (a colleague in the clinic) or in another clinic: the same
    400 naming `client` (documented; a generated client meets no undocumented 404), and the
    answer says nothing about whether the client exists elsewhere."""
    body = {"client": str(alices_client.pk), "kind": "individual"}
    colleague = bob.api.post("/api/v1/intakes/", body, format="json")
    elsewhere = charlie.api.post("/api/v1/intakes/", body, format="json")
    assert colleague.status_code == elsewhere.status_code == 400
    assert colleague.json() == elsewhere.json()
    assert list(colleague.json()["errors"]) == ["client"]
    assert not Intake.objects.exists()
