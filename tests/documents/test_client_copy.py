"""The client's copy (DESIGN, "The client's copy"): the client chooses what goes home, a discreet
copy that anyone could pick up, and a passphrase that is never kept in clear."""

import io
import logging
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from documents import services
from documents.models import PlanDocument
from referrals.models import ReferralAgency
from tests.conftest import CONSENT, completed_plan
from tests.documents.helpers import pdf_text

pytestmark = pytest.mark.django_db

TERM = "dancing"
# A client who keeps their work from the people they live with.
HIDING = {
    "consent": CONSENT,
    "about": {"work_focus": "central", "work_term": TERM},
    "goals": {"client_goals": ["Sleep through the night"]},
    "work_context": {"work_types": ["webcam_online"]},
    "precautions": {
        "precautions_used": ["protecting_privacy"],
        "precautions_to_strengthen": "Telling a friend where I am",
    },
    "stigma_coping": {
        "stigma_experiences": ["violence"],
        "coping_strategies": ["concealment"],
        "coping_notes": "My family doesn't know and I want to keep it that way",
    },
    "work_plans": {"work_direction": "reduce"},
    "exit_planning": {
        "exit_stage": "planning",
        "exit_barriers": ["income"],
        "exit_goals": ["Finish my nursing course"],
    },
    "supports": {"current_supports": ["friends"], "safety_plan": "Call Jo on a bad night"},
}
PRIVATE_TEXTS = (
    "My family doesn't know",
    "Finish my nursing course",
    "Telling a friend where I am",
    "Call Jo on a bad night",
    "violent",
)


@pytest.fixture
def plan(alice, alices_client):
    # Safety services in the directory are offered on the plan (undecided) when it is drafted.
    ReferralAgency.objects.create(
        clinic=alice.clinic,
        name="Red Light Peer Outreach",
        services=["peer_support"],
        peer_led=True,
        sex_worker_led=True,
        affirming_commitment=True,
    )
    ReferralAgency.objects.create(
        clinic=alice.clinic,
        name="Harbour Peer Support",
        services=["peer_support"],
        peer_led=True,
        affirming_commitment=True,
    )
    return completed_plan(alice, alices_client, "individual", HIDING)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def request_pdf(persona, plan, body=None, monkeypatch=None) -> tuple[dict, bytes]:
    response = persona.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", body or {"wording_reviewed": True}, format="json"
    )
    assert response.status_code in (200, 202), response.content
    doc = response.json()
    services.document_render(document_id=doc["id"], worker="w:1")
    pdf = persona.api.get(f"/api/v1/documents/{doc['id']}/pdf").content
    return persona.api.get(f"/api/v1/documents/{doc['id']}/").json(), pdf


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda _id: None)


def test_a_new_plan_keeps_work_safety_and_stigma_out_of_the_client_copy(plan) -> None:
    assert plan.client_copy_sections == ["goals", "supports", "referrals", "review"]


def test_the_client_copy_by_default_leaves_out_what_the_client_hides(alice, plan) -> None:
    doc, pdf = request_pdf(alice, plan)
    assert (doc["copy"], doc["discreet"], doc["passphrase_protected"]) == ("client", False, False)
    assert doc["sections"] == ["goals", "supports", "referrals", "review"]
    text = squash(pdf_text(pdf))
    assert "Sleep through the night" in text  # the goals go home ...
    for private in PRIVATE_TEXTS:  # ... the work, the change, the safety follow-up do not
        assert private not in text
    assert TERM not in text.lower()
    assert "sex work" not in text.lower()


def test_a_section_the_client_chose_goes_home(alice, plan) -> None:
    body = {"sections": ["goals", "work", "change"], "wording_reviewed": True}
    doc, pdf = request_pdf(alice, plan, body)
    assert doc["sections"] == ["goals", "work", "change"]
    text = squash(pdf_text(pdf))
    assert TERM in text  # the client's own word, as they chose
    assert "Finish my nursing course" in text
    assert "My family doesn't know" not in text  # strengths were not chosen


def test_the_clinic_copy_is_complete(alice, plan) -> None:
    doc, pdf = request_pdf(alice, plan, {"copy": "clinic", "wording_reviewed": True})
    assert doc["copy"] == "clinic"
    assert len(doc["sections"]) == 9
    text = squash(pdf_text(pdf))
    for private in PRIVATE_TEXTS:
        assert private in text
    assert TERM in text


def test_a_discreet_copy_is_neutral(alice, plan) -> None:
    # Even with every section asked for, a discreet copy leaves out the sensitive ones.
    body = {
        "discreet": True,
        "sections": ["goals", "strengths", "work", "change", "safety_plan", "referrals"],
        "wording_reviewed": True,
    }
    doc, pdf = request_pdf(alice, plan, body)
    assert doc["discreet"] is True
    assert doc["sections"] == ["goals", "referrals"]
    text = squash(pdf_text(pdf))
    assert text.startswith("My plan")
    assert "Care plan" not in text
    assert "Sleep through the night" in text
    assert TERM not in text.lower()
    assert "sex work" not in text.lower()
    assert "Red Light Peer Outreach" not in text  # a name that says what it is about
    assert "Harbour Peer Support" in text
    for private in PRIVATE_TEXTS:
        assert private not in text
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "My plan"
    # Saved in the client's downloads, its name says no more than its title.
    download = alice.api.get(f"/api/v1/documents/{doc['id']}/pdf")
    assert download["Content-Disposition"] == 'attachment; filename="my-plan.pdf"'
    browser = Client()
    browser.force_login(alice.user)
    page_download = browser.get(f"/documents/{doc['id']}/download/")
    assert page_download["Content-Disposition"] == 'attachment; filename="my-plan.pdf"'
    assert page_download.content == download.content


def test_same_options_same_document_and_different_options_different_documents(alice, plan) -> None:
    def post(body):
        return alice.api.post(
            f"/api/v1/plans/{plan.pk}/documents/", {**body, "wording_reviewed": True}, format="json"
        ).json()["id"]

    default = post({})
    assert post({"copy": "client", "sections": ["review", "goals", "referrals", "supports"]}) == (
        default
    )
    others = {
        post({"copy": "clinic"}),
        post({"discreet": True}),
        post({"sections": ["goals"]}),
        post({"passphrase": "correct horse"}),
        post({"passphrase": "correct horse"}),  # a passphrase copy never dedupes
    }
    assert default not in others
    assert len(others) == 5
    assert PlanDocument.objects.filter(plan=plan).count() == 6


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"copy": "neighbour"}, "copy"),
        ({"discreet": "yes"}, "discreet"),
        ({"sections": ["goals", "diary"]}, "sections"),
        ({"sections": "goals"}, "sections"),
        ({"passphrase": "abc"}, "passphrase"),
        ({"passphrase": 12345678}, "passphrase"),  # a number is a wrong type, not text
        ({"copy": "clinic", "sections": ["goals"]}, "sections"),
    ],
)
def test_bad_document_options_are_400_naming_the_field(alice, plan, body, field) -> None:
    response = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {**body, "wording_reviewed": True}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in {key.split(".")[0] for key in response.json()["errors"]}
    assert not PlanDocument.objects.exists()


def test_a_passphrase_copy_opens_only_with_it_and_is_kept_nowhere(alice, plan, caplog) -> None:
    from tests.security.test_no_plaintext import database_rows

    passphrase = "Quokka-Lantern-7731"
    caplog.set_level(logging.DEBUG)
    response = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/",
        {"passphrase": passphrase, "wording_reviewed": True},
        format="json",
    )
    assert response.status_code == 202
    doc_id = response.json()["id"]
    assert passphrase not in response.content.decode()
    assert passphrase not in database_rows()  # only Fernet-encrypted until the worker uses it
    assert PlanDocument.objects.get(pk=doc_id).passphrase_token
    services.document_render(document_id=doc_id, worker="w:1")
    row = PlanDocument.objects.get(pk=doc_id)
    assert (row.status, row.protected, row.passphrase_token) == ("ready", True, "")  # wiped
    pdf = alice.api.get(f"/api/v1/documents/{doc_id}/pdf").content
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted
    assert "Sleep through the night" not in pdf.decode("latin-1")
    with pytest.raises(Exception):  # noqa: B017, PT011 - pypdf refuses to read it
        reader.pages[0].extract_text()
    assert reader.decrypt("wrong guess") == 0
    assert reader.decrypt(passphrase) != 0
    encrypt = reader.trailer["/Encrypt"].get_object()
    assert (encrypt["/V"], encrypt["/R"]) == (5, 6)  # AES-256, the PDF 2.0 standard handler
    assert "Sleep through the night" in squash("".join(p.extract_text() for p in reader.pages))
    assert passphrase not in database_rows()
    assert passphrase not in caplog.text
    assert alice.api.get(f"/api/v1/documents/{doc_id}/").json()["passphrase_protected"] is True


def test_a_discreet_copy_leaves_out_the_signatures(alice, plan) -> None:
    """Signed names are names: a discreet copy carries neither the client's nor the
    clinician's, though it keeps the agreement itself."""
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    agreed = alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {
            "agreement": {
                "client_decision": "agrees",
                "client_signed_name": "Wren Ashdown",
                "clinician_signed_name": "Dana Okafor",
            }
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert agreed.status_code == 200, agreed.json()
    _, plain = request_pdf(alice, plan, {"wording_reviewed": True})
    assert "Wren Ashdown" in squash(pdf_text(plain))  # the ordinary copy is signed
    _, pdf = request_pdf(alice, plan, {"discreet": True, "wording_reviewed": True})
    text = squash(pdf_text(pdf))
    assert "Wren Ashdown" not in text
    assert "Dana Okafor" not in text
    assert "Decision given on version 1" in text  # the agreement itself stays


def test_a_couples_relationship_section_says_nothing_about_work_unless_work_goes_in(
    alice, alices_client
) -> None:
    """Ticking "Your relationship" alone does not bring the work in with it: not the work topic
    (with the couple's word for it), not the worker's own account. With "Your work" ticked too,
    both go home, as the clinic's copy has them."""
    from tests.conftest import PERSONAS

    kind, steps = PERSONAS["couple_work"]
    plan = completed_plan(alice, alices_client, kind, steps)
    _, pdf = request_pdf(alice, plan, {"sections": ["goals", "couple"], "wording_reviewed": True})
    text = squash(pdf_text(pdf))
    assert "I want us to be honest" in text  # the relationship goes home ...
    assert "Communication" in text
    for work in ("It is a job I am good at", "the life", "Sex work", "your work"):
        assert work not in text, work  # ... the work does not
    body = {"sections": ["goals", "work", "couple"], "wording_reviewed": True}
    _, pdf = request_pdf(alice, plan, body)
    text = squash(pdf_text(pdf))
    assert "It is a job I am good at" in text
    assert "the life" in text
    _, pdf = request_pdf(alice, plan, {"copy": "clinic", "wording_reviewed": True})
    assert "It is a job I am good at" in squash(pdf_text(pdf))


def test_a_discreet_copy_leaves_out_free_text_that_names_the_work(alice, plan) -> None:
    """A goal, a step, a note or a comment in anyone's words that names the work (a revealing
    word, or the client's own word for it) stays out of a discreet copy, which says neutrally
    that some of it is kept at the clinic; every other copy keeps it, verbatim."""
    from plans.services import plan_update

    plan = plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "goals": [
                {
                    "client_words": "Sleep through the night",
                    "steps": [
                        {"description": "Walk after dinner", "who": "client"},
                        {"description": "Ask about the sex worker clinic", "who": "clinician"},
                    ],
                },
                {"client_words": "Keep Dancing, on my own terms"},  # their word, any case
                {"client_words": "Save more", "clinical_restatement": "Budget escort income"},
                {"client_words": "Visit my sister"},
                {"client_words": "Leave prostitution"},  # a word that says it, any form
                {"client_words": "Grow my OnlyFans"},
                # words that only contain one: kept
                {"client_words": "Move to Essex, and feel okay being bisexual there"},
                {"client_words": "Get a sexual health check"},
                {"client_words": "Find abundance"},  # the client's word only inside another
                # the client's word in its other forms ("dancing": "dance", "dancers")
                {"client_words": "Dance fewer nights", "steps": [{"description": "Rest"}]},
                {"client_words": "See friends", "steps": [{"description": "Call the dancers"}]},
            ],
            "supports_notes": "Met Jo at the dancing school",
        },
    )
    _, pdf = request_pdf(alice, plan, {"discreet": True, "wording_reviewed": True})
    text = squash(pdf_text(pdf))
    for kept in (
        "Sleep through the night",
        "Walk after dinner",
        "Visit my sister",
        "Save more",  # the client's words stay; the clinician's restatement naming it does not
        "Move to Essex, and feel okay being bisexual there",
        "Get a sexual health check",
        "Find abundance",
        "See friends",
    ):
        assert kept in text
    for left_out in (
        "sex worker clinic",
        "Keep Dancing",
        "escort",
        "dancing school",
        "prostitution",
        "OnlyFans",
        "Dance fewer nights",
        "Call the dancers",
    ):
        assert left_out not in text
    assert TERM not in text.lower()
    assert "Some of what was written down is kept only in the copy at your clinic." in text
    # The clinic's copy keeps every word, as written.
    _, clinic = request_pdf(alice, plan, {"copy": "clinic", "wording_reviewed": True})
    clinic_text = squash(pdf_text(clinic))
    for words in ("Ask about the sex worker clinic", "Keep Dancing, on my own terms", "Grow my"):
        assert words in clinic_text
    assert "kept only in the copy at your clinic" not in clinic_text


def test_a_discreet_copy_whose_goals_all_name_the_work_says_where_they_are(
    alice, alices_client
) -> None:
    """The client's term typed in quotes still counts, and a copy left with no goal says they
    are kept at the clinic, never "No goals written down yet"."""
    steps = {**HIDING, "about": {"work_focus": "central", "work_term": "“the life”"}}
    steps["goals"] = {"client_goals": ["Spend less time in the life"]}
    plan = completed_plan(alice, alices_client, "individual", steps)
    _, pdf = request_pdf(alice, plan, {"discreet": True, "wording_reviewed": True})
    text = squash(pdf_text(pdf))
    assert "the life" not in text
    assert "Your goals are kept in the copy at your clinic." in text
    assert "No goals written down yet" not in text
