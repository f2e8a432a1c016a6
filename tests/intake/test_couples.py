"""Couples as two people (DESIGN "Couples: two people"): the worker's own account is kept
unless a save sends it again, through the service and the step API; plain-word messages."""

import pytest

from forms import STEPS_BY_NAME, form_kwargs
from forms.django_forms import validate_payload
from intake.services import intake_start, intake_submit_step
from tests.conftest import take_private_checks
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
    take_private_checks(intake, alice.user)  # before any joint question about work
    return intake


def consented(alice, client, kind: str) -> dict:
    """A new intake through the API, its consent step saved (the first step)."""
    created = alice.api.post(
        "/api/v1/intakes/", {"client": str(client.pk), "kind": kind}, format="json"
    ).json()
    consent = {"confidentiality_explained": True, "recording_preference": "full"}
    url = f"/api/v1/intakes/{created['id']}/steps/consent/"
    assert alice.api.put(url, consent, format="json").status_code == 200
    for check in ("private_check_a", "private_check_b") if kind == "couple" else ():
        url = f"/api/v1/intakes/{created['id']}/steps/{check}/"
        assert alice.api.put(url, {"feels_safe": "yes"}, format="json").status_code == 200
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


def test_a_couples_work_questions_wait_for_each_partners_private_check(
    alice, alices_client
) -> None:
    """GUIDELINES: each partner gets a private check before joint questions about work. Until
    both are taken, the work steps and the worker's own account are refused with a 409 that
    says why, and nothing of them is kept; the couple's other answers are not held up."""
    created = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "couple"}, format="json"
    ).json()
    steps = f"/api/v1/intakes/{created['id']}/steps"
    consent = {"confidentiality_explained": True, "recording_preference": "full"}
    assert alice.api.put(f"{steps}/consent/", consent, format="json").status_code == 200
    assert alice.api.put(f"{steps}/partner/", CHOSE_WORK, format="json").status_code == 200
    account = {**CHOSE_WORK, "worker_description": "My words"}
    for path, body in (("partner", account), ("work_context", {"work_types": ["massage"]})):
        refused = alice.api.put(f"{steps}/{path}/", body, format="json")
        assert refused.status_code == 409, path
        assert "private check comes before the joint questions about work" in str(refused.json())
    a_only = alice.api.put(f"{steps}/private_check_a/", {"feels_safe": "yes"}, format="json")
    assert a_only.status_code == 200
    still = alice.api.put(f"{steps}/work_context/", {"work_types": ["massage"]}, format="json")
    assert still.status_code == 409  # one partner's check is not both
    intake = alices_client.intakes.get()
    assert "work_context" not in intake.answers
    assert "worker_description" not in intake.answers["partner"]
    assert alice.api.put(f"{steps}/private_check_b/", {}, format="json").status_code == 200
    assert alice.api.put(f"{steps}/partner/", account, format="json").status_code == 200
    work = alice.api.put(f"{steps}/work_context/", {"work_types": ["massage"]}, format="json")
    assert work.status_code == 200
    intake.refresh_from_db()
    assert intake.answers["work_context"] == {"work_types": ["massage"]}
    assert intake.answers["partner"]["worker_description"] == "My words"


@pytest.mark.parametrize(
    ("kind", "lang", "shown", "not_shown"),
    [
        ("couple", "en", "Write down what we share, so our plan can reflect it", "what I share"),
        (
            "couple",
            "es",
            "Escribir lo que compartimos, para que nuestro plan lo refleje",
            "lo que comparto",
        ),
        ("individual", "en", "Write down what I share, so my plan can reflect it", "what we share"),
    ],
)
def test_a_couples_answers_speak_for_both(alice, alices_client, kind, lang, shown, not_shown):
    """Asked "How much would you both like written down?", a couple are not offered answers
    in one person's voice ("my plan"): on the page, in its review, and in the form definition."""
    from django.test import Client as Browser

    from tests.intake.test_wizard import step_url, visible_text

    alices_client.language = lang
    alices_client.save()
    intake = intake_start(
        membership=alice.membership, actor=alice.user, client=alices_client, kind=kind
    )
    browser = Browser()
    browser.force_login(alice.user)
    page = visible_text(browser.get(step_url(intake, "consent")).content.decode())
    assert shown in page
    assert not_shown not in page
    definition = alice.api.get(f"/api/v1/forms/{kind}/?lang={lang}").json()
    (preference,) = [
        f for s in definition["steps"] for f in s["fields"] if f["name"] == "recording_preference"
    ]
    assert preference["choices"][0]["label"].startswith(shown)
    save(alice, intake, "consent", {**CONSENT, "recording_preference": "full"})
    review = visible_text(browser.get(step_url(intake, "review")).content.decode())
    assert shown in review
