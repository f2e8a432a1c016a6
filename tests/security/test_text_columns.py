"""Every text column in the database is encrypted, or on this list with the reason it holds no
client text (issue 11 item 12). Found by introspection: a new plaintext column fails here."""

import pytest
from django.apps import apps
from django.db import connection, models

from common.crypto import EncryptedJSONField, EncryptedTextField, encrypt_str
from tests.security.test_no_plaintext import database_rows

CODES = "a code from a fixed list, not free text"
HASH = "a hash or digest"
FILE = "a storage path made of ids"
ERROR = "an error message the service writes (never client text)"
PLAINTEXT_ALLOWED = {
    "clients.Client.language": "a language code (en, es)",
    "documents.PlanDocument.copy": CODES,
    "documents.PlanDocument.sections": CODES,
    "documents.PlanDocument.passphrase_token": "a Fernet token of the passphrase (encrypted "
    "under FIELD_ENCRYPTION_KEYS in code), wiped when the render ends",
    "documents.PlanDocument.html_token": "a Fernet token of the HTML to render (encrypted "
    "under FIELD_ENCRYPTION_KEYS in code), wiped when the render ends",
    "plans.TreatmentPlan.client_copy_sections": CODES,
    "audit.AuditChainHead.mac": "an HMAC of the chain head",
    "audit.AuditEvent.mac": "an HMAC of the event",
    # Added by the second round (lookup hashes, codes, integration records).
    "clients.Client.external_id_hash": "a keyed HMAC of the EHR id, for lookup; not reversible",
    "common.WorkerHeartbeat.name": "a Celery worker's node name (host and process)",
    "fhir_r4.BulkExport.types": "FHIR resource type names asked for (codes)",
    "fhir_r4.BulkExport.kick_off": "the export's path and parameters: type names, an instant",
    "intake.PrivateCheck.step": CODES,
    "plans.PlanAgreement.client_decision": CODES,
    "plans.PlanAgreement.content_sha256": HASH,
    "plans.TreatmentPlan.agreement_sha256": HASH,
    "plans.PlanReadCopy.stamp": HASH,
    "referrals.ReferralAgency.safety_services": CODES,
    "smart.AccessToken.digest": HASH,
    "smart.AccessToken.scopes": "SMART scope names (codes)",
    "smart.BackendClient.client_id": "a random id the service issues",
    "smart.BackendClient.jwks": "the integration's public keys (public by design)",
    "smart.BackendClient.name": "the name of an integration (an EHR), not a client",
    "smart.BackendClient.scopes": "SMART scope names (codes)",
    "smart.UsedAssertion.jti": "a JWT id, kept to refuse replays",
    # Django and libraries: staff and system data, no client text.
    "admin.LogEntry.object_id": "an id",
    "admin.LogEntry.object_repr": "str() of an object: models with client text print ids only",
    "admin.LogEntry.change_message": "names of changed fields only",
    "auth.Permission.name": CODES,
    "auth.Permission.codename": CODES,
    "auth.Group.name": "staff group names",
    "auth.User.password": HASH,
    "auth.User.username": "staff usernames, not clients",
    "auth.User.first_name": "staff names, not clients",
    "auth.User.last_name": "staff names, not clients",
    "auth.User.email": "staff addresses, not clients",
    "contenttypes.ContentType.app_label": CODES,
    "contenttypes.ContentType.model": CODES,
    "sessions.Session.session_key": HASH,
    "sessions.Session.session_data": "signed ids and timestamps; wizard data is kept in the "
    "encrypted Intake row, never the session",
    **{
        f"axes.{model}.{field}": "sign-in attempts: staff usernames, browser, path"
        for model in ("AccessFailureLog", "AccessAttempt", "AccessLog")
        for field in ("user_agent", "username", "http_accept", "path_info")
    },
    "axes.AccessAttempt.get_data": "sign-in query strings (passwords masked by axes)",
    "axes.AccessAttempt.post_data": "sign-in form fields (passwords masked by axes)",
    "axes.AccessLog.session_hash": HASH,
    "otp_totp.TOTPDevice.name": "a fixed device label",
    "otp_totp.TOTPDevice.key": "the staff member's TOTP secret (staff, not client data)",
    # This project.
    "accounts.Clinic.name": "the clinic's name, not a client's",
    "accounts.Membership.role": CODES,
    "accounts.Membership.enrolment_code": HASH,
    "accounts.ApiToken.digest": HASH,
    "accounts.ApiToken.token_key": "the token's public prefix",
    "accounts.ApiToken.name": "a staff-chosen token label",
    "accounts.ApiToken.scopes": CODES,
    "audit.AuditEvent.action": CODES,
    "audit.AuditEvent.object_type": CODES,
    "audit.AuditEvent.object_id": "an id",
    "audit.AuditEvent.request_id": "an id",
    "audit.AuditEvent.detail": "ids, field names and counts only",
    "audit.AuditEvent.prev_hash": HASH,
    "audit.AuditEvent.hash": HASH,
    "audit.AuditChainHead.hash": HASH,
    "intake.Intake.kind": CODES,
    "intake.Intake.status": CODES,
    "intake.Intake.form_version": CODES,
    "intake.Intake.current_step": CODES,
    "plans.TreatmentPlan.status": CODES,
    "plans.TreatmentPlan.client_decision": CODES,
    "plans.PlanStep.who": CODES,
    "documents.PlanDocument.content_hash": HASH,
    "documents.PlanDocument.status": CODES,
    "documents.PlanDocument.plan_status": CODES,
    "documents.PlanDocument.sha256": HASH,
    "documents.PlanDocument.file": FILE,
    "documents.PlanDocument.error": ERROR,
    "documents.PlanDocument.claimed_by": "a worker's host name",
    "language.ClinicLexiconEntry.term": "clinic configuration: words to flag, not client text",
    "language.ClinicLexiconEntry.forms": "clinic configuration: words to flag",
    "language.ClinicLexiconEntry.suggestion": "clinic configuration: suggested wording",
    "language.ClinicLexiconEntry.reason": "clinic configuration: why a word is flagged",
    "referrals.ReferralAgency.services": CODES,
    "referrals.PlanReferral.client_decision": CODES,
    "webhooks.WebhookEndpoint.url": "an integrator's address",
    "webhooks.WebhookEndpoint.events": CODES,
    "webhooks.WebhookDelivery.event": CODES,
    "webhooks.WebhookDelivery.payload": "event name and ids only",
    "webhooks.WebhookDelivery.status": CODES,
    "webhooks.WebhookDelivery.error": ERROR,
    "exports.ExportJob.status": CODES,
    "exports.ExportJob.file": FILE,
    "exports.ExportJob.error": ERROR,
}
ENCRYPTED = (EncryptedTextField, EncryptedJSONField)
TEXT = (models.CharField, models.TextField, models.JSONField)


def plaintext_columns() -> set[str]:
    found = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, ENCRYPTED) or not isinstance(field, TEXT):
                continue
            if field.is_relation:
                continue
            found.add(f"{model._meta.label}.{field.name}")
    return found


def test_every_plaintext_text_column_is_on_the_list_with_a_reason() -> None:
    unlisted = plaintext_columns() - set(PLAINTEXT_ALLOWED)
    assert not unlisted, f"encrypt these, or list them with a reason: {sorted(unlisted)}"
    assert all(reason.strip() for reason in PLAINTEXT_ALLOWED.values())


def test_the_list_names_no_column_that_is_gone_or_now_encrypted() -> None:
    assert set(PLAINTEXT_ALLOWED) <= plaintext_columns()


def test_the_columns_from_issue_11_are_encrypted() -> None:
    for label in (
        "language.Dismissal.term",
        "language.Dismissal.reason",
        "referrals.ReferralAgency.name",
        "referrals.ReferralAgency.contact",
        "referrals.ReferralAgency.notes",
        "referrals.ReferralAgency.vetted_by",
    ):
        app_model, field = label.rsplit(".", 1)
        assert isinstance(apps.get_model(app_model)._meta.get_field(field), EncryptedTextField)


MARK = "Quokka-Marmalade"


@pytest.mark.django_db
def test_agency_and_dismissal_text_is_not_stored_in_plaintext(alice, admin_ann) -> None:
    created = admin_ann.api.post(
        "/api/v1/referral-agencies/",
        {
            "name": f"{MARK} house",
            "services": ["legal"],
            "contact": f"{MARK} phone",
            "notes": f"{MARK} notes",
            "vetted_by": f"{MARK} vetter",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    admin_ann.api.post(
        "/api/v1/referral-agencies/", {"name": "Aardvark help", "services": []}, format="json"
    )
    dismissed = alice.api.post(
        "/api/v1/language-check/dismissals/",
        {"term": f"{MARK}term", "reason": f"{MARK} reason"},
        format="json",
    )
    assert dismissed.status_code < 300, dismissed.content
    assert MARK not in database_rows()
    # Still readable, and still listed by name (ordered in Python now).
    names = [a["name"] for a in alice.api.get("/api/v1/referral-agencies/").json()]
    assert names == ["Aardvark help", f"{MARK} house"]


@pytest.mark.django_db
def test_the_migration_encrypts_existing_rows(alice) -> None:
    from common.migration_helpers import encrypt_columns
    from language.models import Dismissal

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO language_dismissal (id, created_at, updated_at, user_id, term, reason) "
            "VALUES (%s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, %s, %s, %s)",
            ["0c4f9d52-6a0e-4b8e-9a57-2f6b8a1f0e11", alice.user.pk, "plainterm", "plain why"],
        )
        cursor.execute(
            "INSERT INTO language_dismissal (id, created_at, updated_at, user_id, term, reason) "
            "VALUES (%s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, %s, %s, %s)",
            [
                "1c4f9d52-6a0e-4b8e-9a57-2f6b8a1f0e11",
                alice.user.pk,
                encrypt_str("already"),
                encrypt_str("done"),
            ],
        )

    class Editor:  # what a migration's schema_editor offers the helper
        quote_name = staticmethod(connection.ops.quote_name)

    editor = Editor()
    editor.connection = connection
    encrypt_columns(editor, "language_dismissal", ["term", "reason"])
    encrypt_columns(editor, "language_dismissal", ["term", "reason"])  # twice is harmless
    assert "plainterm" not in database_rows()
    assert sorted(Dismissal.objects.values_list("term", "reason")) == [
        ("already", "done"),
        ("plainterm", "plain why"),
    ]
