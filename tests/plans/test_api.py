"""Plans and documents over the API: editing with If-Match, versions, scoping, errors."""

import uuid

import pytest
from django.utils import timezone

from documents import services
from documents.context import CopyOptions
from documents.models import PlanDocument
from plans.models import PlanGoal, PlanVersion, TreatmentPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


def url(plan, suffix: str = "") -> str:
    return f"/api/v1/plans/{plan.pk}/{suffix}"


def patch(persona, plan, body):
    """A PATCH as an integration sends it: with the ETag it last read in If-Match."""
    etag = persona.api.get(url(plan))["ETag"]
    return persona.api.patch(url(plan), body, format="json", HTTP_IF_MATCH=etag)


def test_plan_detail_has_goals_in_client_words_and_strengths(alice, plan) -> None:
    response = alice.api.get(url(plan))
    assert response.status_code == 200
    body = response.json()
    assert [g["client_words"] for g in body["goals"]] == ["Feel less drained after shifts"]
    assert {"source": "precautions", "code": "peer_support", "label": "Support from peers"} in (
        body["strengths"]
    )
    assert response["ETag"]


def test_outsider_gets_404_on_every_plan_path(charlie, plan) -> None:
    assert charlie.api.get(url(plan)).status_code == 404
    assert charlie.api.patch(url(plan), {"safety_plan": "x"}, format="json").status_code == 404
    assert charlie.api.get(url(plan, "preview")).status_code == 404
    assert charlie.api.post(url(plan, "documents/")).status_code == 404


def test_edit_goals_with_steps_keeps_goal_ids(alice, plan) -> None:
    goal = alice.api.get(url(plan)).json()["goals"][0]
    body = {
        "goals": [
            {
                "id": goal["id"],
                "client_words": goal["client_words"],
                "clinical_restatement": "Reduce fatigue",
                "steps": [{"description": "Rest day", "who": "client", "frequency": "weekly"}],
            },
            {"client_words": "see my friends more"},
        ],
        "review_date": "2027-02-01",
    }
    response = patch(alice, plan, body)
    assert response.status_code == 200
    goals = response.json()["goals"]
    assert goals[0]["id"] == goal["id"]
    assert [{k: v for k, v in s.items() if k != "id"} for s in goals[0]["steps"]] == [
        {"description": "Rest day", "who": "client", "frequency": "weekly"}
    ]
    assert goals[1]["client_words"] == "see my friends more"


def test_stale_if_match_is_412(alice, bob, plan) -> None:
    plan.client.care_team.add(bob.user)
    etag = alice.api.get(url(plan))["ETag"]
    assert (
        bob.api.patch(
            url(plan), {"safety_plan": "Bob's edit"}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 200
    )
    stale = alice.api.patch(
        url(plan), {"safety_plan": "Alice's edit"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    assert alice.api.get(url(plan)).json()["safety_plan"] == "Bob's edit"


def test_a_weak_etag_is_412_saying_why_not_that_someone_changed_it(alice, plan) -> None:
    etag = alice.api.get(url(plan))["ETag"]
    weak = alice.api.patch(
        url(plan), {"safety_plan": "Call Jo"}, format="json", HTTP_IF_MATCH=f"W/{etag}"
    )
    assert weak.status_code == 412
    assert "weak ETag (W/...) never matches" in weak.json()["detail"]
    assert "changed by someone else" not in weak.json()["detail"]
    assert alice.api.get(url(plan)).json()["safety_plan"] == ""


def test_agreeing_freezes_a_version_and_editing_opens_the_next(alice, plan) -> None:
    agree = {"agreement": {"client_decision": "agrees", "client_signed_name": "R."}}
    body = patch(alice, plan, agree).json()
    assert (body["status"], body["version"]) == ("agreed", 1)
    edited = patch(alice, plan, {"safety_plan": "new"}).json()
    assert (edited["status"], edited["version"]) == ("draft", 2)
    assert edited["versions"][0]["version"] == 1
    snapshot = PlanVersion.objects.get(plan=plan, version=1).snapshot
    assert snapshot["safety_plan"] == ""
    assert snapshot["status"] == "agreed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"safety_plan": 5}, "safety_plan"),
        ({"safety_plan": "x" * 4001}, "safety_plan"),
        ({"review_date": "soon"}, "review_date"),
        ({"supports": ["unicorns"]}, "supports"),
        ({"goals": [{"client_words": ""}]}, "goals.0.client_words"),
        (
            {"goals": [{"client_words": "x", "steps": [{"description": "y", "who": "boss"}]}]},
            "goals.0.steps.0.who",
        ),
        ({"strengths": [{"source": "coping", "code": "screening_clients"}]}, "strengths.0.code"),
        ({"agreement": {"client_decision": "maybe"}}, "agreement.client_decision"),
        ({"status": "agreed"}, "status"),
    ],
)
def test_bad_plan_edits_are_400_naming_the_field(alice, plan, body, field) -> None:
    response = patch(alice, plan, body)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert any(key.startswith(field.split(".")[0]) for key in errors), errors


def test_preview_is_the_html_the_pdf_is_made_from(alice, plan) -> None:
    response = alice.api.get(url(plan, "preview"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.content.decode() == services.plan_html(plan)
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_client_copys_preview_is_the_copy_that_goes_home(alice, plan) -> None:
    """`?copy=client`: exactly the HTML of the client's copy as they chose it, in their
    language; the default stays the clinic's complete copy; anything else is a 400 naming
    the parameter."""
    plan.client.language = "es"
    plan.client.save()
    plan.refresh_from_db()
    chosen = CopyOptions.of(copy="client", discreet=False, sections=plan.client_copy_sections)
    preview = alice.api.get(url(plan, "preview") + "?copy=client").content.decode()
    assert preview == services.plan_html(plan, chosen)
    assert 'lang="es"' in preview
    assert "strengths" not in plan.client_copy_sections
    assert "What you already do to stay safe" in services.plan_html(plan)  # the clinic's has it
    clinic = alice.api.get(url(plan, "preview")).content.decode()
    assert clinic == services.plan_html(plan)
    assert alice.api.get(url(plan, "preview") + "?copy=clinic").content.decode() == clinic
    wrong = alice.api.get(url(plan, "preview") + "?copy=home")
    assert wrong.status_code == 400
    assert wrong.json()["errors"]["copy"] == ["Use clinic or client."]


def test_document_request_is_202_with_location_and_idempotent(alice, plan, monkeypatch) -> None:
    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    first = alice.api.post(url(plan, "documents/"))
    assert first.status_code == 202
    assert first["Location"] == f"/api/v1/documents/{first.json()['id']}/"
    assert first.json()["status"] == "queued"
    again = alice.api.post(url(plan, "documents/"))
    assert again.json()["id"] == first.json()["id"]
    pdf = alice.api.get(f"/api/v1/documents/{first.json()['id']}/pdf")
    assert pdf.status_code == 409


def test_ready_pdf_downloads_with_a_neutral_name(alice, charlie, plan, monkeypatch) -> None:
    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    doc_id = alice.api.post(url(plan, "documents/")).json()["id"]
    services.document_render(document_id=doc_id, worker="w:1")
    detail = alice.api.get(f"/api/v1/documents/{doc_id}/").json()
    assert detail["status"] == "ready"
    assert detail["size"] > 0
    response = alice.api.get(f"/api/v1/documents/{doc_id}/pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="care-plan.pdf"'
    assert response.content.startswith(b"%PDF")
    assert charlie.api.get(f"/api/v1/documents/{doc_id}/").status_code == 404
    assert charlie.api.get(f"/api/v1/documents/{doc_id}/pdf").status_code == 404
    assert alice.api.get(f"/api/v1/documents/{uuid.uuid4()}/").status_code == 404


def test_a_head_on_the_pdf_sends_its_headers_and_records_no_download(
    alice, plan, monkeypatch
) -> None:
    """A HEAD (a client checking the size, a link checker) on the API's or the web page's
    download: the download's headers, no file, and no download in the audit; a GET records one."""
    from django.test import Client

    from audit.models import AuditEvent

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    doc_id = alice.api.post(url(plan, "documents/")).json()["id"]
    services.document_render(document_id=doc_id, worker="w:1")
    size = PlanDocument.objects.get(pk=doc_id).size
    browser = Client()
    browser.force_login(alice.user)
    downloads = AuditEvent.objects.filter(object_id=doc_id, detail__download=True)
    for head in (
        alice.api.head(f"/api/v1/documents/{doc_id}/pdf"),
        browser.head(f"/documents/{doc_id}/download/"),
    ):
        assert head.status_code == 200
        assert head["Content-Type"] == "application/pdf"
        assert head["Content-Length"] == str(size)
        assert head["Content-Disposition"] == 'attachment; filename="care-plan.pdf"'
        assert head.content == b""
    assert downloads.count() == 0
    # Each HEAD is a read in the audit, as a status read is.
    reads = AuditEvent.objects.filter(object_id=doc_id, action="read")
    assert reads.count() == 2
    got = alice.api.get(f"/api/v1/documents/{doc_id}/pdf")
    assert len(got.content) == size
    assert downloads.count() == 1


@pytest.mark.parametrize("method", ["get", "head"])
@pytest.mark.parametrize("loss", ["deleted", "truncated", "bit_flipped", "swapped"])
def test_a_pdf_whose_stored_file_is_lost_answers_409_and_is_rendered_anew(
    alice, plan, monkeypatch, loss, method
) -> None:
    """Storage lost or damaged under a ready document: no 500 anywhere (API GET and HEAD, the
    web page's download, FHIR), the document says failed with what to do, no download is
    recorded, and asking for the same PDF again renders a new one that downloads. A HEAD finds
    the damage as a GET does: it never promises a download that would fail."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from audit.models import AuditEvent
    from common.crypto import fernet

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    body = {"copy": "clinic", "wording_reviewed": True}
    doc_id = alice.api.post(url(plan, "documents/"), body, format="json").json()["id"]
    services.document_render(document_id=doc_id, worker="w:1")
    name = PlanDocument.objects.get(pk=doc_id).file
    with default_storage.open(name, "rb") as handle:
        stored = handle.read()
    default_storage.delete(name)
    if loss == "truncated":
        default_storage.save(name, ContentFile(b"gAAAAAB-cut-short"))
    elif loss == "bit_flipped":  # still a whole token, under the server's own key
        token = bytearray(stored)
        token[len(token) // 2] = ord("A") if token[len(token) // 2] != ord("A") else ord("B")
        default_storage.save(name, ContentFile(bytes(token)))
    elif loss == "swapped":  # a valid token, but not this document's PDF
        default_storage.save(name, ContentFile(fernet().encrypt(b"%PDF-1.7 someone else's")))
    pdf_path = f"/api/v1/documents/{doc_id}/pdf"
    first = getattr(alice.api, method)(pdf_path)
    assert first.status_code == 409
    if method == "get":  # (a HEAD's 409 has no body)
        assert first.json()["code"] == "file_lost"
    row = PlanDocument.objects.get(pk=doc_id)
    assert row.status == "failed"
    assert row.error == services.FILE_LOST
    got = alice.api.get(pdf_path)
    assert got.status_code == 409
    assert (got.json()["code"], got.json()["detail"]) == ("file_lost", services.FILE_LOST)
    status = alice.api.get(f"/api/v1/documents/{doc_id}/").json()
    assert (status["status"], status["error"]) == ("failed", services.FILE_LOST)
    fhir = alice.api.get(f"/fhir/DocumentReference/{doc_id}")
    assert fhir.status_code == 200
    assert fhir.json()["docStatus"] == "preliminary"
    assert not AuditEvent.objects.filter(object_id=doc_id, detail__download=True).exists()
    # Asking again renders anew: a new document, ready, whose PDF downloads.
    again = alice.api.post(url(plan, "documents/"), body, format="json").json()
    assert again["id"] != doc_id
    services.document_render(document_id=again["id"], worker="w:1")
    pdf = alice.api.get(f"/api/v1/documents/{again['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_the_web_download_of_a_lost_file_says_so_on_the_plan_page(alice, plan, monkeypatch) -> None:
    from django.core.files.storage import default_storage
    from django.test import Client

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    doc_id = alice.api.post(url(plan, "documents/")).json()["id"]
    services.document_render(document_id=doc_id, worker="w:1")
    default_storage.delete(PlanDocument.objects.get(pk=doc_id).file)
    browser = Client()
    browser.force_login(alice.user)
    for _ in range(2):  # and again: a second click (or another tab) is told the same
        response = browser.get(f"/documents/{doc_id}/download/", follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == f"/plans/{plan.pk}/"
        assert services.FILE_LOST in response.content.decode()
    assert PlanDocument.objects.get(pk=doc_id).status == "failed"


def test_a_whole_pdf_the_keys_cannot_open_is_503_and_left_ready(alice, plan, monkeypatch) -> None:
    """A stored PDF that is whole but encrypted under a key this server no longer has (a key
    removed too early in a rotation): a temporary 503, nothing marked failed, nothing recorded
    as downloaded; with the key back, the same document downloads."""
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.test import override_settings

    from audit.models import AuditEvent

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    doc_id = alice.api.post(url(plan, "documents/")).json()["id"]
    services.document_render(document_id=doc_id, worker="w:1")
    pdf_path = f"/api/v1/documents/{doc_id}/pdf"
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        response = alice.api.get(pdf_path)
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert response["Retry-After"]
    assert PlanDocument.objects.get(pk=doc_id).status == "ready"
    assert not AuditEvent.objects.filter(object_id=doc_id, detail__download=True).exists()
    assert settings.FIELD_ENCRYPTION_KEYS  # the server's own keys again
    assert alice.api.get(pdf_path).content.startswith(b"%PDF")


def test_a_stored_pdf_storage_refuses_is_503_and_left_ready(alice, plan, monkeypatch) -> None:
    """Storage that refuses a stored PDF (here its path is a directory: a real OSError, even as
    root) is a temporary 503 on the API and a message on the web page, never a 500; the document
    is not marked lost and, once storage reads again, downloads."""
    from pathlib import Path

    from django.core.files.storage import default_storage
    from django.test import Client

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    doc_id = alice.api.post(url(plan, "documents/")).json()["id"]
    services.document_render(document_id=doc_id, worker="w:1")
    stored = Path(default_storage.path(PlanDocument.objects.get(pk=doc_id).file))
    kept = stored.read_bytes()
    stored.unlink()
    stored.mkdir()
    response = alice.api.get(f"/api/v1/documents/{doc_id}/pdf")
    assert response.status_code == 503
    assert (response.json()["code"], response.json()["detail"]) == (
        "unavailable",
        services.FILE_UNREADABLE,
    )
    assert response["Retry-After"]
    browser = Client()
    browser.force_login(alice.user)
    page = browser.get(f"/documents/{doc_id}/download/", follow=True)
    assert page.status_code == 200
    assert services.FILE_UNREADABLE in page.content.decode()
    assert PlanDocument.objects.get(pk=doc_id).status == "ready"
    stored.rmdir()
    stored.write_bytes(kept)
    assert alice.api.get(f"/api/v1/documents/{doc_id}/pdf").content.startswith(b"%PDF")


def test_a_token_without_export_scope_cannot_make_or_fetch_pdfs(alice, plan) -> None:
    from tests.conftest import make_persona

    writer = make_persona(alice.clinic, scopes=["read", "write"])
    assert writer.api.post(url(plan, "documents/")).status_code == 403
    assert PlanDocument.objects.count() == 0


def test_erasing_the_client_removes_plans_documents_and_files(
    alice, plan, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from django.core.files.storage import default_storage

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    doc_id = alice.api.post(url(plan, "documents/")).json()["id"]
    services.document_render(document_id=doc_id, worker="w:1")
    name = PlanDocument.objects.get(pk=doc_id).file
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.api.delete(f"/api/v1/clients/{plan.client_id}/").status_code == 204
    assert not PlanDocument.objects.exists()
    assert not default_storage.exists(name)


def test_one_line_fields_hold_one_line_and_line_breaks_are_stored_as_newlines(alice, plan) -> None:
    """The contract the web editor is built from: a step is one line (a browser's one-line box
    cannot hold a line break, so the editor would drop it on the next save), and a textarea's
    CRLF (how browsers and some clients send line breaks) is stored as "\n", word for word."""
    step = {"description": "Walk\nin the park", "who": "client"}
    refused = patch(alice, plan, {"goals": [{"client_words": "Rest", "steps": [step]}]})
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"]["goals.0.steps.0.description"] == [
        "This is one line: leave out line breaks."
    ]
    saved = patch(alice, plan, {"safety_plan": "Call Jo\r\nThen the peer line  \r\n"})
    assert saved.status_code == 200, saved.content
    plan.refresh_from_db()
    assert plan.safety_plan == "Call Jo\nThen the peer line"


def test_a_save_that_changes_nothing_keeps_the_etag_and_a_real_change_moves_it(alice, plan) -> None:
    """An integration re-sending what it read (a sync, a retry) does not make the next editor's
    If-Match stale, nor start a new PDF; a change to anything, the copy's choices included, does."""
    read = alice.api.get(url(plan))
    etag, body = read["ETag"], read.json()
    same = {"safety_plan": body["safety_plan"], "goals": [{"id": g["id"]} for g in body["goals"]]}
    resent = alice.api.patch(url(plan), same, format="json", HTTP_IF_MATCH=etag)
    assert resent.status_code == 200, resent.content
    assert resent["ETag"] == etag
    assert alice.api.get(url(plan))["ETag"] == etag
    changed = alice.api.patch(
        url(plan), {"client_copy_sections": ["goals"]}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != etag
    assert changed.json()["client_copy_sections"] == ["goals"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"review_date": "1900-01-01"}, "review_date"),
        ({"goals": [{"client_words": "x", "target_date": "0202-05-01"}]}, "goals.0.target_date"),
    ],
)
def test_a_date_with_a_slipped_year_is_asked_about(alice, plan, body, field) -> None:
    response = patch(alice, plan, body)
    assert response.status_code == 400, response.content
    last = timezone.localdate().year + 20
    assert response.json()["errors"] == {field: [f"Check the year: a date from 2000 to {last}."]}


def test_text_sent_back_as_read_keeps_an_agreed_plan_agreed(alice, plan) -> None:
    """Text from a browser intake is stored with "\r\n" line breaks. An EHR that writes back
    what it read (with those, or with "\n") changes nothing: the client's agreement stands, the
    version and ETag stay, and the stored words keep their line breaks as they were."""
    words = "I laugh it off.\r\n\r\nSometimes I don't."
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        strengths_notes=words, safety_plan="Call Jo\r\n"
    )
    goal = plan.goals.first()
    PlanGoal.objects.filter(pk=goal.pk).update(client_words="Sleep\r\nmore")
    agree = {"agreement": {"client_decision": "agrees", "client_signed_name": "Ana"}}
    assert patch(alice, plan, agree).status_code == 200
    read = alice.api.get(url(plan))
    body, etag = read.json(), read["ETag"]
    assert (body["status"], body["strengths_notes"]) == ("agreed", words)
    for notes in (words, words.replace("\r\n", "\n")):
        back = {
            "strengths_notes": notes,
            "safety_plan": body["safety_plan"],
            "goals": [{"id": g["id"], "client_words": g["client_words"]} for g in body["goals"]],
        }
        sent = alice.api.patch(url(plan), back, format="json", HTTP_IF_MATCH=etag)
        assert sent.status_code == 200, sent.content
        assert (sent.json()["status"], sent.json()["version"], sent["ETag"]) == (
            "agreed",
            body["version"],
            etag,
        )
    plan.refresh_from_db()
    assert plan.strengths_notes == words
    assert plan.goals.get(pk=goal.pk).client_words == "Sleep\r\nmore"
    edited = alice.api.patch(
        url(plan), {"safety_plan": "Call Sam"}, format="json", HTTP_IF_MATCH=etag
    )
    assert (edited.json()["status"], edited.json()["version"]) == ("draft", body["version"] + 1)


def test_a_plan_patched_back_as_read_is_taken_as_no_change(alice, plan) -> None:
    """An integration that reads a plan and PATCHes the same body back (supports as {code,
    label}, the agreement block with its nulls) gets a 200 and no change, before and after an
    agreement; a real decision sent in the same shape is still recorded."""
    for _ in ("draft", "agreed"):
        read = alice.api.get(url(plan))
        body = {k: v for k, v in read.json().items() if k in {"supports", "agreement", "goals"}}
        sent = alice.api.patch(url(plan), body, format="json", HTTP_IF_MATCH=read["ETag"])
        assert sent.status_code == 200, sent.content
        assert sent["ETag"] == read["ETag"]
        agreement = {**read.json()["agreement"], "client_decision": "agrees"}
        agreed = alice.api.patch(
            url(plan), {"agreement": agreement}, format="json", HTTP_IF_MATCH=read["ETag"]
        )
        assert agreed.status_code == 200, agreed.content
        assert agreed.json()["status"] == "agreed"
