"""The clinician-only space: the reflection and the couple private checks live on pages of
their own, never in the client's wizard, its review, the plan, PDFs, FHIR or the joint API;
leaving the wizard lands on a page about this intake only."""

import json
import re

import pytest
from django.test import Client as Browser
from fhir_r4.mapping import questionnaire_response

from documents.render import html_to_pdf
from documents.services import plan_html
from intake.models import Intake, PrivateCheck
from tests.conftest import completed_plan
from tests.documents.helpers import pdf_text
from tests.factories import ClientFactory, IntakeFactory

pytestmark = pytest.mark.django_db

MARK = "PRIVATE-CHECK-WORDS"
REFLECTION_MARK = "REFLECTION-WORDS"


def signed_in(persona) -> Browser:
    browser = Browser()
    browser.force_login(persona.user)
    return browser


def step_url(intake, step: str) -> str:
    return f"/intakes/{intake.pk}/step/{step}/"


def private_url(intake, step: str) -> str:
    return f"/intakes/{intake.pk}/private/{step}/"


def post_step(browser, intake, step: str, fields: dict, **extra):
    data = {f"intake_{intake.pk}-current_step": step, **extra}
    for name, value in fields.items():
        data[f"{step}-{name}"] = value
    return browser.post(step_url(intake, step), data)


@pytest.fixture
def couple(alice, alices_client) -> Intake:
    return IntakeFactory(client=alices_client, kind="couple")


def take_private_check(browser, intake, step="private_check_a", **fields):
    data = {"feels_safe": "no", "pressure": "some", "private_notes": MARK, **fields}
    return browser.post(private_url(intake, step), data)


def test_the_wizard_has_no_clinician_only_step(alice, couple) -> None:
    browser = signed_in(alice)
    page = browser.get(step_url(couple, "consent")).content.decode()
    assert "reflection" not in page.lower()
    assert "Private check" not in page
    assert "Step 1 of 7" in page  # consent, about, goals, stigma, supports, partner, review
    # The step's own address is not a wizard page, and a forged post stores nothing.
    couple.current_step = "about"
    couple.save()
    response = browser.get(step_url(couple, "reflection"))
    assert response.url == step_url(couple, "about")  # the wizard stays where it was
    couple.current_step = "reflection"  # saved so by an older version
    couple.save()
    assert browser.get(step_url(couple, "reflection")).url == step_url(couple, "consent")
    post_step(browser, couple, "reflection", {"reflection_notes": REFLECTION_MARK})
    post_step(browser, couple, "private_check_a", {"private_notes": MARK})
    assert not couple.reflections.exists()
    assert not PrivateCheck.objects.exists()


def test_reflection_and_private_checks_never_reach_the_review(alice, couple) -> None:
    browser = signed_in(alice)
    browser.post(private_url(couple, "reflection"), {"reflection_notes": REFLECTION_MARK})
    assert take_private_check(browser, couple).status_code == 302
    post_step(
        browser,
        couple,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "full"},
    )
    review = browser.get(step_url(couple, "review")).content.decode()
    assert REFLECTION_MARK not in review
    assert MARK not in review
    assert "Private check" not in review
    assert "Clinician" not in review
    # ... and the clinician's own page has them.
    own = browser.get(private_url(couple, "private_check_a")).content.decode()
    assert MARK in own
    assert "Just between you and your clinician." in own


def test_private_checks_are_stored_apart_and_kept_out_of_every_joint_reader(
    alice, alices_client
) -> None:
    plan = completed_plan(
        alice,
        alices_client,
        "couple",
        {
            "consent": {"confidentiality_explained": True, "recording_preference": "full"},
            "private_check_a": {"feels_safe": "mostly", "private_notes": MARK},
            "private_check_b": {"pressure": "a_lot", "wants_individual_time": True},
            "goals": {"client_goals": ["Fight less"]},
        },
    )
    intake = plan.intake
    assert not {"private_check_a", "private_check_b"} & set(intake.answers)
    check = PrivateCheck.objects.get(intake=intake, step="private_check_a")
    assert check.answers["private_notes"] == MARK
    # The joint API representation, FHIR and the PDF never carry them.
    joint = alice.api.get(f"/api/v1/intakes/{intake.pk}/").json()
    assert MARK not in json.dumps(joint)
    assert "private_check_a" not in joint["answers"]
    assert MARK not in questionnaire_response(intake).model_dump_json()
    assert "private_check" not in questionnaire_response(intake).model_dump_json()
    assert MARK not in pdf_text(html_to_pdf(plan_html(plan)))
    assert "a_lot" not in alice.api.get(f"/api/v1/plans/{plan.pk}/preview").content.decode()
    # The care team reads them on their own endpoint.
    private = alice.api.get(f"/api/v1/intakes/{intake.pk}/private-checks/").json()
    assert private["private_check_a"]["private_notes"] == MARK
    assert private["private_check_b"] == {"pressure": "a_lot", "wants_individual_time": True}


def test_private_checks_outside_the_care_team_answer_404(alice, charlie, admin_ann, couple):
    take_private_check(signed_in(alice), couple)
    assert charlie.api.get(f"/api/v1/intakes/{couple.pk}/private-checks/").status_code == 404
    assert signed_in(charlie).get(private_url(couple, "private_check_a")).status_code == 404
    # A clinic admin who does not work with this client does not read them either.
    assert admin_ann.api.get(f"/api/v1/intakes/{couple.pk}/private-checks/").status_code == 404
    assert signed_in(admin_ann).get(private_url(couple, "private_check_a")).status_code == 404


def test_private_checks_are_for_couples_only(alice, alices_client) -> None:
    single = IntakeFactory(client=alices_client)
    assert signed_in(alice).get(private_url(single, "private_check_a")).status_code == 404
    assert signed_in(alice).get(private_url(single, "review")).status_code == 404
    response = alice.api.put(
        f"/api/v1/intakes/{single.pk}/steps/private_check_a/", {"feels_safe": "no"}, format="json"
    )
    assert response.status_code == 409


def test_the_api_writes_private_checks_apart_too(alice, couple) -> None:
    response = alice.api.put(
        f"/api/v1/intakes/{couple.pk}/steps/private_check_b/",
        {"feels_safe": "unsure", "private_notes": MARK},
        format="json",
    )
    assert response.status_code == 200
    assert MARK not in json.dumps(response.json())
    assert response.json()["progress"]["total"] == 7  # the client's steps only
    couple.refresh_from_db()
    assert set(couple.answers) == {"consent"}  # the private check is not among the answers
    assert couple.current_step == "consent"  # the wizard resumes on a client step


@pytest.mark.parametrize(
    ("answers", "prompted"),
    [
        ({"feels_safe": "no"}, True),
        ({"pressure": "a_lot"}, True),
        ({"feels_safe": "mostly", "pressure": "some"}, False),
        ({"feels_safe": "prefer_not_to_say"}, False),
    ],
)
def test_a_safety_answer_puts_a_prompt_on_the_clinicians_own_page(
    alice, admin_ann, couple, answers, prompted
) -> None:
    browser = signed_in(alice)
    browser.post(private_url(couple, "private_check_b"), answers)
    home = browser.get("/").content.decode()
    assert ("safety follow-up" in home) is prompted
    if prompted:
        assert private_url(couple, "private_check_b") in home
    # Not for a clinic admin who does not work with this client.
    assert "safety follow-up" not in signed_in(admin_ann).get("/").content.decode()


def test_the_prompt_names_the_partner_whose_check_asked_for_it(alice, couple) -> None:
    """The follow-up is taken up with that partner alone: the prompt names them (not the
    couple's record name, which is often the first person's), and links to their check."""
    couple.answers = {
        **couple.answers,
        "about": {"partner_a_name": "Lucía", "partner_b_name": "Marta"},
    }
    couple.save()
    browser = signed_in(alice)
    take_private_check(browser, couple, step="private_check_a", feels_safe="mostly")
    take_private_check(browser, couple, step="private_check_b", feels_safe="no")
    home = " ".join(browser.get("/").content.decode().split())
    prompt = re.search(r'<a href="([^"]+)">[^<]*: safety follow-up with ([^<]*)</a>', home)
    assert prompt.groups() == (private_url(couple, "private_check_b"), "Marta (the second person)")
    assert "safety follow-up with Lucía" not in home


def test_the_prompt_goes_away_when_the_answer_changes(alice, couple) -> None:
    browser = signed_in(alice)
    take_private_check(browser, couple)
    assert "safety follow-up" in browser.get("/").content.decode()
    take_private_check(browser, couple, feels_safe="yes")
    assert "safety follow-up" not in browser.get("/").content.decode()


def test_save_and_finish_later_lands_on_a_page_about_this_intake_only(alice, couple) -> None:
    other = ClientFactory(clinic=alice.clinic, display_name="Someone Else")
    IntakeFactory(client=other)
    browser = signed_in(alice)
    browser.post(private_url(couple, "reflection"), {"consultation_wanted": "on"})
    r = post_step(
        browser,
        couple,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "full"},
        save_and_leave="1",
    )
    assert r.url == f"/intakes/{couple.pk}/paused/"
    page = browser.get(r.url).content.decode()
    assert "Someone Else" not in page
    assert couple.client.display_name not in page
    assert "consultation" not in page.lower()
    assert "safety" not in page.lower()
    assert f"/intakes/{couple.pk}/" in page  # carry on from here
    couple.refresh_from_db()
    assert couple.answers["consent"]["recording_preference"] == "full"


@pytest.mark.parametrize(
    "step", ["consent", "about", "goals", "stigma_coping", "supports", "partner", "review"]
)
def test_every_wizard_page_has_a_neutral_title(alice, couple, step) -> None:
    page = signed_in(alice).get(step_url(couple, step)).content.decode()
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title == "Notes"


def test_private_checks_and_the_reflection_stay_open_after_the_intake_is_completed(
    alice, alices_client
) -> None:
    """A partner's check taken alone after the joint session is kept, with its safety prompt,
    and nothing joint changes: the joint answers stay closed and the plan's PDF content is the
    same. The home page links to these pages for completed intakes too."""
    from documents.services import content_key
    from tests.conftest import PERSONAS

    kind, steps = PERSONAS["couple"]
    plan = completed_plan(alice, alices_client, kind, steps)
    intake = plan.intake
    key = content_key(plan)
    answers = dict(intake.answers)
    browser = signed_in(alice)
    home = browser.get("/").content.decode()
    for step in ("private_check_a", "private_check_b", "reflection"):
        assert private_url(intake, step) in home
    saved = take_private_check(browser, intake, private_notes="他控制我的钱")
    assert saved.status_code == 302
    assert "can no longer change" not in browser.get(saved.url).content.decode()
    check = PrivateCheck.objects.get(intake=intake, step="private_check_a")
    assert check.answers["private_notes"] == "他控制我的钱"
    assert check.safety_prompt
    assert (
        browser.post(
            private_url(intake, "reflection"), {"reflection_notes": REFLECTION_MARK}
        ).status_code
        == 302
    )
    assert intake.reflections.get().notes == REFLECTION_MARK
    intake.refresh_from_db()
    assert (intake.status, intake.answers) == ("completed", answers)
    plan.refresh_from_db()
    assert content_key(plan) == key
    # The joint steps stay closed.
    joint = post_step(browser, intake, "goals", {"client_goals": "Something else"})
    intake.refresh_from_db()
    assert intake.answers == answers
    assert joint.status_code in (302, 400, 409)


def test_a_private_check_is_named_for_the_person_it_is_taken_with(alice, couple) -> None:
    browser = signed_in(alice)
    unnamed = browser.get(private_url(couple, "private_check_b")).content.decode()
    assert "<h1>Private check with the second person</h1>" in unnamed
    couple.answers = {"about": {"partner_a_name": "Ash", "partner_b_name": "Kit"}}
    couple.save()
    page = browser.get(private_url(couple, "private_check_b")).content.decode()
    assert "<h1>Private check with Kit (the second person)</h1>" in page
    assert "partner B" not in page


def test_a_partners_check_never_leads_to_the_other_partners_answers(alice, couple) -> None:
    """The partner reads the page: it links to neither the other partner's check nor the
    clinician's reflection, and once saved it gives way to a page with none of the answers on
    it, to hand the screen back on; the clinician goes on from there to the other check."""
    couple.answers = {**couple.answers, "about": {"partner_a_name": "Ash", "partner_b_name": "Kit"}}
    couple.save()
    browser = signed_in(alice)
    not_yet = browser.get(private_url(couple, "private_check_a") + "?saved=1").content.decode()
    assert "hand the screen back" not in not_yet  # "saved" is said only of a saved check
    page = browser.get(private_url(couple, "private_check_a")).content.decode()
    assert private_url(couple, "private_check_b") not in page
    assert private_url(couple, "reflection") not in page
    assert "Kit" not in page
    saved = take_private_check(browser, couple, step="private_check_a", private_notes=MARK)
    assert saved.status_code == 302
    assert saved.url == private_url(couple, "private_check_a") + "?saved=1"
    handover = browser.get(saved.url).content.decode()
    assert "Please hand the screen back to your clinician." in handover
    assert MARK not in handover
    assert "Ash" not in handover  # nothing of this partner's check but that it is saved
    assert f'<a href="{private_url(couple, "private_check_b")}">Private check with Kit' in handover
    assert (
        PrivateCheck.objects.get(intake=couple, step="private_check_a").answers["private_notes"]
        == MARK
    )
    # Both taken: no other check to go on to.
    take_private_check(browser, couple, step="private_check_b", feels_safe="yes")
    last = browser.get(private_url(couple, "private_check_b") + "?saved=1").content.decode()
    assert private_url(couple, "private_check_a") not in last
    # The reflection is the clinician's alone: it lists the clinician-only pages.
    reflection = browser.get(private_url(couple, "reflection")).content.decode()
    assert private_url(couple, "private_check_a") in reflection


def test_a_private_check_is_in_the_clients_language(alice, couple) -> None:
    couple.client.language = "es"
    couple.client.save()
    browser = signed_in(alice)
    page = browser.get(private_url(couple, "private_check_a")).content.decode()
    assert "<h1>Preguntas en privado con la primera persona</h1>" in page
    assert "¿Te sientes segura o seguro en la relación?" in page
    assert "Solo entre tú y la persona profesional que te atiende." in page
    for english in ("Do you feel safe", "Who sees this", "Why we ask", "Never the partner"):
        assert english not in page
    saved = take_private_check(browser, couple, step="private_check_a")
    handover = browser.get(saved.url).content.decode()
    assert "Por favor, devuelve la pantalla a la persona profesional que te atiende." in handover
    assert "Preguntas en privado con la segunda persona" in handover
