"""Render before anyone asks (issue 19.1): agreeing to a plan, or changing what goes in the
client's copy of an agreed plan, renders both copies in the background, once."""

import time

import pytest

from documents.models import PlanDocument
from tests.documents.helpers import pdf_text, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def patch(persona, plan_id, body):
    etag = persona.api.get(f"/api/v1/plans/{plan_id}/")["ETag"]
    response = persona.api.patch(
        f"/api/v1/plans/{plan_id}/", body, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    return response.json()


def all_ready(plan) -> bool:
    docs = PlanDocument.objects.filter(plan=plan)
    return docs.count() == 2 and all(d.status == "ready" for d in docs)


def test_agreeing_renders_both_copies_before_anyone_asks(alice, persona_plan, worker) -> None:
    plan = persona_plan("continuing")
    assert not PlanDocument.objects.exists()
    patch(alice, plan.pk, {"agreement": {"client_decision": "agrees"}})
    docs = {d.copy: d for d in PlanDocument.objects.filter(plan=plan)}
    assert set(docs) == {"client", "clinic"}  # rows at once, rendered after the commit
    assert docs["client"].sections == ["goals", "supports", "referrals", "review"]
    wait_for(lambda: all_ready(plan), what="both copies ready")
    # A request right after agreement is served from storage: the same document, 200.
    started = time.monotonic()
    response = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {"wording_reviewed": True}, format="json"
    )
    assert (response.status_code, response.json()["id"]) == (200, str(docs["client"].pk))
    pdf = alice.api.get(response.json()["pdf"])
    elapsed = time.monotonic() - started
    assert pdf.status_code == 200
    text = pdf_text(pdf.content)
    assert "Feel less drained after shifts" in text
    assert "cam work" not in text  # the client's copy, private by default
    clinic = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/",
        {"copy": "clinic", "wording_reviewed": True},
        format="json",
    )
    assert (clinic.status_code, clinic.json()["id"]) == (200, str(docs["clinic"].pk))
    assert "cam work" in pdf_text(alice.api.get(clinic.json()["pdf"]).content)
    assert PlanDocument.objects.filter(plan=plan).count() == 2  # nothing rendered twice
    assert elapsed < 5  # no render on the way (generous for a shared test machine)


def test_wording_the_check_flags_is_reviewed_before_any_copy_is_made(alice, persona_plan) -> None:
    """Agreed with a clinician's wording the language check flags: nothing is made before the
    clinician has seen the findings (the PDF request's review: the API's 409 here)."""
    plan = persona_plan("continuing")
    goal = patch(alice, plan.pk, {})["goals"][0]
    flagged = {"id": goal["id"], "clinical_restatement": "High-risk lifestyle affects sleep"}
    patch(alice, plan.pk, {"goals": [flagged]})
    patch(alice, plan.pk, {"agreement": {"client_decision": "agrees"}})
    assert not PlanDocument.objects.filter(plan=plan).exists()
    asked = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", {}, format="json")
    assert (asked.status_code, asked.json()["code"]) == (409, "wording_review")
    assert "High-risk" in str(asked.json()["findings"])


def test_a_new_client_copy_choice_on_an_agreed_plan_renders_again(
    alice, persona_plan, worker
) -> None:
    plan = persona_plan("continuing")
    patch(alice, plan.pk, {"agreement": {"client_decision": "agrees"}})
    wait_for(lambda: all_ready(plan), what="both copies ready")
    patch(alice, plan.pk, {"client_copy_sections": ["goals", "work"]})
    wait_for(
        lambda: PlanDocument.objects.filter(
            plan=plan, copy="client", sections=["goals", "work"], status="ready"
        ).exists(),
        what="the new client copy",
    )
    response = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {"wording_reviewed": True}, format="json"
    )
    assert response.status_code == 200
    assert "cam work" in pdf_text(alice.api.get(response.json()["pdf"]).content)


def test_a_draft_edit_renders_nothing(alice, persona_plan, worker) -> None:
    plan = persona_plan("continuing")
    patch(alice, plan.pk, {"safety_plan": "Call Jo", "client_copy_sections": ["goals"]})
    assert not PlanDocument.objects.exists()


def test_a_passphrase_never_reaches_the_broker_or_the_worker_log(alice, persona_plan, capfd):
    import io

    from pypdf import PdfReader

    from config.celery import app
    from tests.conftest import start_worker, stop_worker
    from tests.security.test_no_plaintext import broker_contents, database_rows

    passphrase = "Lantern-Quokka-4410"
    plan = persona_plan("continuing")
    app.control.purge()
    response = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/",
        {"passphrase": passphrase, "wording_reviewed": True},
        format="json",
    )
    doc_id = response.json()["id"]
    queued = broker_contents()
    assert doc_id.encode() in queued  # the scan sees the message ...
    assert passphrase.encode() not in queued  # ... which carries the id only
    worker = start_worker()
    try:
        wait_for(lambda: PlanDocument.objects.get(pk=doc_id).status == "ready", what="ready")
    finally:
        stop_worker(worker)
    out, err = capfd.readouterr()
    assert passphrase not in out + err
    assert passphrase not in database_rows()
    assert passphrase.encode() not in broker_contents()
    reader = PdfReader(io.BytesIO(alice.api.get(f"/api/v1/documents/{doc_id}/pdf").content))
    assert reader.decrypt(passphrase) != 0
    assert "Feel less drained after shifts" in "".join(p.extract_text() for p in reader.pages)


def test_agreeing_and_reviewing_in_one_web_save_prerenders_the_plan_as_saved(
    alice, persona_plan, monkeypatch
) -> None:
    from documents import services
    from tests.plans.test_web import save, shown_form, signed_in

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    plan = persona_plan("continuing")
    browser = signed_in(alice)
    goal = plan.goals.get()
    edits = {"agreement-client_decision": "agrees", f"review-{goal.pk}-progress": "2"}
    assert save(browser, plan, shown_form(browser, plan), **edits).status_code == 302
    prerendered = {str(d.pk) for d in PlanDocument.objects.filter(plan=plan)}
    assert len(prerendered) == 2
    response = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {"wording_reviewed": True}, format="json"
    )
    assert response.json()["id"] in prerendered  # the review saved after the agreement counts
    assert PlanDocument.objects.filter(plan=plan).count() == 2
