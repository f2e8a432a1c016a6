"""Issue 11 item 1: a session that passed only the password step reaches nothing but the
two-factor pages and sign-out, in a clinic that requires two-factor or for anyone with a device."""

import pytest
from django.test import Client as Browser
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import enrolment_code_issue
from documents import services as document_services

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def password_only(user) -> Browser:
    browser = Browser()
    assert browser.post("/login/", {"username": user.username, "password": PASSWORD}).status_code
    assert "_auth_user_id" in browser.session
    return browser


def finish_second_step(browser: Browser, user) -> None:
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        code = enrolment_code_issue(membership=user.membership)
        browser.post("/account/two-factor/", {"enrolment_code": code})
    browser.get("/account/two-factor/")  # creates the unconfirmed device when setting up
    device = TOTPDevice.objects.get(user=user)
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"
    assert browser.post("/account/two-factor/", {"code": code}).status_code == 302


@pytest.fixture
def ready_document(alice, persona_plan, monkeypatch):
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    plan = persona_plan("continuing")
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    document_services.document_render(document_id=doc_id, worker="w:1")
    return plan, doc_id


def api_paths(plan, doc_id) -> list[str]:
    return [
        "/api/v1/me",
        "/api/v1/clients/",
        f"/api/v1/clients/{plan.client_id}/",
        f"/api/v1/intakes/{plan.intake_id}/",
        f"/api/v1/plans/{plan.pk}/",
        f"/api/v1/plans/{plan.pk}/preview",
        f"/api/v1/documents/{doc_id}/",
        f"/api/v1/documents/{doc_id}/pdf",
        f"/fhir/CarePlan/{plan.pk}",
        f"/fhir/QuestionnaireResponse/{plan.intake_id}",
        f"/fhir/DocumentReference/{doc_id}",
    ]


def web_paths(plan, doc_id) -> list[str]:
    return [
        "/",
        f"/plans/{plan.pk}/",
        f"/documents/{doc_id}/download/",
        f"/intakes/{plan.intake_id}/summary/",
        "/exports/",
        "/referrals/",
        "/admin/",
    ]


def assert_refused(browser: Browser, plan, doc_id) -> None:
    for path in [*api_paths(plan, doc_id), "/api/v1/exports/", "/api/v1/audit-events/"]:
        response = browser.get(path)
        assert response.status_code == 401, path
        body = response.json()
        assert body["code"] == "two_factor_required", path
        assert set(body) == {"code", "detail", "errors"}
        assert "River" not in response.content.decode()
    for path in web_paths(plan, doc_id):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response.url == "/account/two-factor/", path
    # Writes too, with and without a CSRF token in play.
    writes = [
        ("post", "/api/v1/clients/", {"display_name": "Someone"}),
        ("patch", f"/api/v1/plans/{plan.pk}/", {"safety_plan": "changed"}),
        ("post", f"/api/v1/plans/{plan.pk}/documents/", {}),
        ("post", "/api/v1/intakes/", {"client": str(plan.client_id), "kind": "individual"}),
        ("delete", f"/api/v1/clients/{plan.client_id}/", None),
    ]
    for method, path, data in writes:
        response = getattr(browser, method)(path, data, content_type="application/json")
        assert response.status_code == 401, path
    assert browser.post("/intakes/start/", {"display_name": "X", "kind": "individual"}).url == (
        "/account/two-factor/"
    )


def test_a_password_only_session_reaches_nothing_when_the_clinic_requires_two_factor(
    alice, ready_document
) -> None:
    plan, doc_id = ready_document
    alice.clinic.require_two_factor = True
    alice.clinic.save()
    browser = password_only(alice.user)
    assert_refused(browser, plan, doc_id)
    plan.refresh_from_db()
    assert plan.safety_plan != "changed"
    # The two-factor pages and sign-out stay reachable.
    assert browser.get("/account/two-factor/").status_code == 200
    finish_second_step(browser, alice.user)
    for path in api_paths(plan, doc_id):
        assert browser.get(path).status_code == 200, path
    assert browser.get(f"/documents/{doc_id}/download/").status_code == 200
    assert browser.get(f"/plans/{plan.pk}/").status_code == 200


def test_a_user_with_a_confirmed_device_is_held_at_the_second_step_too(
    alice, ready_document
) -> None:
    plan, doc_id = ready_document
    TOTPDevice.objects.create(user=alice.user, name="phone", confirmed=True)
    assert not alice.clinic.require_two_factor
    browser = password_only(alice.user)
    assert_refused(browser, plan, doc_id)
    assert browser.post("/logout/").status_code in (200, 302)
    assert "_auth_user_id" not in browser.session


def test_bearer_tokens_are_unaffected_even_beside_a_password_only_session(
    alice, ready_document
) -> None:
    plan, doc_id = ready_document
    alice.clinic.require_two_factor = True
    alice.clinic.save()
    browser = password_only(alice.user)
    for path in api_paths(plan, doc_id):
        response = browser.get(path, HTTP_AUTHORIZATION=f"Bearer {alice.token}")
        assert response.status_code == 200, path
    # A made-up token does not fall back on the half-signed-in session.
    assert browser.get("/api/v1/clients/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_the_api_session_check_holds_without_the_middleware(alice, settings) -> None:
    """Defence in depth: DRF itself does not count a password-only session."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "accounts.middleware.SessionPolicyMiddleware"
    ]
    alice.clinic.require_two_factor = True
    alice.clinic.save()
    browser = password_only(alice.user)
    assert browser.get("/api/v1/clients/").status_code in (401, 403)


def test_the_first_enrolment_needs_the_admins_one_time_code(alice) -> None:
    """A stolen password alone cannot bind the thief's authenticator (SECURITY.md)."""
    alice.clinic.require_two_factor = True
    alice.clinic.save()
    code = enrolment_code_issue(membership=alice.membership)
    thief = password_only(alice.user)
    page = thief.get("/account/two-factor/").content.decode()
    assert "set-up code" in page
    assert "Scan this code" not in page
    assert "type this key" not in page
    assert not TOTPDevice.objects.filter(user=alice.user).exists()
    wrong = thief.post("/account/two-factor/", {"enrolment_code": "abcdef-abcdef-abcdef"})
    assert "isn&#x27;t right" in wrong.content.decode()
    assert thief.get("/api/v1/clients/").status_code == 401
    # The clinician, with the code: a fresh key, then a confirmed device; the code is spent.
    owner = password_only(alice.user)
    assert owner.post("/account/two-factor/", {"enrolment_code": code}).status_code == 302
    assert "Scan this code" in owner.get("/account/two-factor/").content.decode()
    finish_second_step(owner, alice.user)
    assert owner.get("/api/v1/clients/").status_code == 200
    alice.membership.refresh_from_db()
    assert alice.membership.enrolment_code == ""
    later = password_only(alice.user)
    later.post("/account/two-factor/", {"enrolment_code": code})
    assert "Scan this code" not in later.get("/account/two-factor/").content.decode()


def test_add_clinician_and_reset_print_an_enrolment_code(db) -> None:
    from io import StringIO

    from django.core.management import call_command

    from accounts.models import Membership
    from accounts.services import enrolment_code_valid

    out = StringIO()
    call_command("add_clinician", clinic="Reef Clinic", username="dana", stdout=out)
    code = out.getvalue().split("ENROLMENT_CODE=")[1].split()[0]
    membership = Membership.objects.get(user__username="dana")
    assert enrolment_code_valid(membership=membership, code=code)
    assert code not in membership.enrolment_code  # only a hash is kept
    TOTPDevice.objects.create(user=membership.user, name="lost phone", confirmed=True)
    out = StringIO()
    call_command("reset_two_factor", username="dana", stdout=out)
    new_code = out.getvalue().split("ENROLMENT_CODE=")[1].split()[0]
    membership.refresh_from_db()
    assert not TOTPDevice.objects.filter(user=membership.user).exists()
    assert enrolment_code_valid(membership=membership, code=new_code)
    assert not enrolment_code_valid(membership=membership, code=code)
