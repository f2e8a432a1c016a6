"""The PDF pipeline: request a document, render it exactly once, store it encrypted.

A status row claims the work with a conditional update, so a redelivered message, a second
worker or the sweeper can never produce a second file or flip a finished document back.
"""

import hashlib
import io
import logging
import os
import secrets
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation

from audit.services import audit_record
from common.crypto import fernet
from plans.models import TreatmentPlan
from plans.selectors import with_contents

from . import wake
from .context import CLINIC_COPY, CopyOptions, plan_context
from .models import DocStatus, PlanDocument
from .render import html_to_pdf, render_html, template_for, templates_digest

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)
QUEUED_GRACE = timedelta(seconds=60)


def plan_html(plan: TreatmentPlan, options: CopyOptions = CLINIC_COPY) -> str:
    """Exactly the HTML the PDF is made from (also served as the preview): the client's copy in
    the client's language, the clinic's in the clinic's (the client's own words are never
    translated)."""
    language = plan.client.language if options.copy == "client" else settings.LANGUAGE_CODE
    with translation.override(language):
        return render_html(template_for(plan.intake.kind), plan_context(plan, options))


def document_options(document: PlanDocument) -> CopyOptions:
    return CopyOptions.of(
        copy=document.copy, discreet=document.discreet, sections=document.sections
    )


def protect_pdf(pdf: bytes, passphrase: str) -> bytes:
    """Standard PDF encryption, AES-256 (PDF 2.0 / ISO 32000-2): every reader asks for the
    passphrase. The owner password is random and forgotten: nothing else unlocks the file."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(
        user_password=passphrase, owner_password=secrets.token_urlsafe(32), algorithm="AES-256"
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _enqueue(document_id: str) -> None:
    """Send the id to the workers. With the broker down the row stays queued and the sweeper
    sends it once the broker is back: the request that created it still succeeds."""
    from .tasks import render_plan_document

    try:
        render_plan_document.apply_async(
            (document_id,), retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2}
        )
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning(
            "broker unavailable, document %s left for the sweeper: %s",
            document_id,
            type(exc).__name__,
        )


def content_key(
    plan: TreatmentPlan, options: CopyOptions = CLINIC_COPY, *, protected: bool = False
) -> str:
    """A hash of everything the PDF is made from: the plan as last saved, the client's alias,
    the intake (fixed once completed), the templates and the copy's options. Equal keys mean
    equal PDFs, found without rendering anything. A passphrase-protected copy gets a key of its
    own each time (a random part, never anything derived from the passphrase): it never dedupes
    with another copy, whose reader would not know its passphrase."""
    parts = [
        options.key,
        secrets.token_hex(16) if protected else "",
        str(plan.pk),
        str(plan.version),
        plan.updated_at.isoformat(),
        plan.client.updated_at.isoformat(),
        plan.intake.updated_at.isoformat(),
        templates_digest(),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def document_request(
    *,
    plan: TreatmentPlan,
    actor: User,
    options: CopyOptions = CLINIC_COPY,
    passphrase: str = "",
) -> tuple[PlanDocument, bool]:
    """The document for the plan as it is now, in the copy asked for: the existing one when the
    content and options are unchanged, else a new one, queued once the transaction commits.
    A new one's HTML is made here, from the plan held still while it is read, so the PDF shows
    exactly the content its key and version name, whatever is saved before it renders.
    A passphrase is kept only Fernet-encrypted on the row until the worker has used it."""
    digest = content_key(plan, options, protected=bool(passphrase))
    existing = _live(plan.pk, digest)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            # Saves take the same row lock (plans.services), so every part read below is of
            # one saved state; the key is that state's (a save may have come in meanwhile).
            current = with_contents(
                TreatmentPlan.objects.select_for_update(of=("self",)).filter(pk=plan.pk)
            ).get()
            # Unchanged since the look above, the answer stands: a document made meanwhile by a
            # concurrent request makes the insert below fail (the unique constraint), not twice.
            if not passphrase and (locked := content_key(current, options)) != digest:
                digest = locked
                existing = _live(plan.pk, digest)
                if existing is not None:
                    return existing, False
            document = PlanDocument.objects.create(
                clinic_id=current.clinic_id,
                plan=current,
                plan_version=current.version,
                plan_saved_at=current.updated_at,
                plan_status=current.status,
                content_hash=digest,
                html_token=fernet().encrypt(plan_html(current, options).encode()).decode(),
                created_by=actor,
                copy=options.copy,
                discreet=options.discreet,
                sections=list(options.sections),
                protected=bool(passphrase),
                passphrase_token=(
                    fernet().encrypt(passphrase.encode()).decode() if passphrase else ""
                ),
            )
            document_id = str(document.pk)
            # The job goes to the workers first; the audit event, appended now, is sealed
            # into the chain right after (still before the response), while the PDF renders.
            transaction.on_commit(lambda: _enqueue(document_id))
            audit_record(
                actor=actor,
                clinic_id=plan.clinic_id,
                action="export",
                obj=document,
                client_id=plan.client_id,
                seal_on_commit=True,
                plan=str(plan.pk),
            )
    except IntegrityError:  # a concurrent request created it first
        return PlanDocument.objects.exclude(status=DocStatus.FAILED).get(
            plan_id=plan.pk, content_hash=digest
        ), False
    return document, True


def _live(plan_id: Any, digest: str) -> PlanDocument | None:
    return (
        PlanDocument.objects.filter(plan_id=plan_id, content_hash=digest)
        .exclude(status=DocStatus.FAILED)
        .first()
    )


def documents_prerender(*, plan_id: str, actor: User | None) -> list[PlanDocument]:
    """Render before anyone asks: the client's copy (as the client chose it) and the clinic's
    copy, queued through the same rows and claim as a request, so nothing renders twice and a
    download right after agreement is served from storage. Called after the save commits."""
    from language.services import plan_findings

    plan = with_contents(TreatmentPlan.objects.filter(pk=plan_id)).first()
    if plan is None or plan_findings(plan):
        # Wording the check flags is shown to the clinician before any PDF is made of it (the
        # web's review page, the API's 409): a copy made here would skip that review.
        return []
    client = CopyOptions.of(copy="client", discreet=False, sections=plan.client_copy_sections)
    return [
        document_request(plan=plan, actor=actor, options=options)[0]  # type: ignore[arg-type]
        for options in (client, CLINIC_COPY)
    ]


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_is_dead(claimed_by: str) -> bool:
    """A claim by a process on this host that no longer exists (e.g. a SIGKILLed pool child)."""
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _fail(document: PlanDocument, worker: str, message: str) -> None:
    _finish(
        PlanDocument.objects.filter(pk=document.pk, status=DocStatus.RENDERING, claimed_by=worker),
        document,
        "document.failed",
        error=message,
        finished_at=timezone.now(),
        lease_until=None,
        passphrase_token="",
        html_token="",
    )
    _finished(str(document.pk))


def _finish(rows: QuerySet[PlanDocument], document: PlanDocument, event: str, **change: Any) -> int:
    """Marks the document ready or failed (`rows`: it, while still in the state the caller
    expects) and, when that changed it, records the webhook in the same transaction: the
    delivery is recorded with the change or not at all (a retry then makes both), never twice."""
    status = DocStatus.READY if event == "document.ready" else DocStatus.FAILED
    with transaction.atomic():
        changed = rows.update(status=status, **{"updated_at": timezone.now(), **change})
        if changed:
            _document_event(event, document)
    return changed


def _document_event(event: str, document: PlanDocument) -> None:
    """The webhook for a document now ready or failed: ids and links only (a failed one's
    message is at `url`)."""
    from webhooks.services import webhook_emit

    document_id = str(document.pk)
    data = {
        "document": document_id,
        "plan": str(document.plan_id),
        "plan_version": document.plan_version,
        "url": f"/api/v1/documents/{document_id}/",
        "fhir": f"/fhir/DocumentReference/{document_id}",
    }
    if event == "document.ready":
        data["pdf"] = f"/api/v1/documents/{document_id}/pdf"
    webhook_emit(clinic_id=document.clinic_id, event=event, data=data)


def _claim_queued(document_id: str, worker: str, now: datetime) -> PlanDocument | None:
    """The usual claim, of a queued row, in one statement: UPDATE ... RETURNING the row as
    claimed. None when the row is not queued (or has had its deliveries)."""
    meta = PlanDocument._meta
    fields = {f.name: f for f in meta.concrete_fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column or f.attname) for f in fields.values())
    when = fields["updated_at"].get_db_prep_value(now, connection)
    # Table and column names from the model; every value bound.
    sql = (
        f"UPDATE {quote(meta.db_table)} SET status = %s, claimed_by = %s, lease_until = %s, "  # noqa: S608
        "started_at = %s, updated_at = %s, attempts = attempts + 1 "
        f"WHERE id = %s AND status = %s AND attempts < %s RETURNING {columns}"
    )
    params = [
        DocStatus.RENDERING,
        worker,
        fields["lease_until"].get_db_prep_value(now + LEASE, connection),
        when,
        when,
        fields["id"].get_db_prep_value(uuid.UUID(str(document_id)), connection),
        DocStatus.QUEUED,
        settings.TASK_MAX_DELIVERIES,
    ]
    claimed = list(PlanDocument.objects.raw(sql, params))
    return claimed[0] if claimed else None


def _claim(document_id: str, worker: str) -> tuple[str | None, PlanDocument | None]:
    """Claim the row for this worker: (None, the document) when claimed, else (why not, None)."""
    now = timezone.now()
    try:
        document = _claim_queued(document_id, worker, now)
    except ValueError:  # not a UUID
        return "missing", None
    if document is not None:
        return None, document
    # Not queued: already claimed (is the claim still alive?), finished, gone, or out of tries.
    document = PlanDocument.objects.filter(pk=document_id).first()
    if document is None:
        return "missing", None
    status = document.status
    if status in (DocStatus.READY, DocStatus.FAILED):
        return status, None
    # This very process's own claim is a retry of its own task (after a database error): the
    # earlier attempt has ended, as a process runs one task at a time.
    if status == DocStatus.RENDERING and not (
        (document.lease_until and document.lease_until < now)
        or document.claimed_by == worker
        or _claim_is_dead(document.claimed_by)
    ):
        return "busy", None
    if document.attempts >= settings.TASK_MAX_DELIVERIES:
        _finish(
            PlanDocument.objects.filter(pk=document_id, status=status),
            document,
            "document.failed",
            finished_at=now,
            lease_until=None,
            passphrase_token="",
            html_token="",
            error=f"Rendering was interrupted {document.attempts} times; please try again.",
        )
        _finished(document_id)
        return "gave_up", None
    claimed = PlanDocument.objects.filter(
        pk=document_id, status=status, claimed_by=document.claimed_by
    ).update(
        status=DocStatus.RENDERING,
        claimed_by=worker,
        lease_until=now + LEASE,
        started_at=now,
        updated_at=now,
        attempts=F("attempts") + 1,
    )
    return (None, document) if claimed else ("busy", None)


def document_render(*, document_id: str, worker: str) -> str:
    """Render one document. Safe to call any number of times for the same id."""
    refused, document = _claim(document_id, worker)
    if document is None:
        return refused or "missing"
    try:
        if document.html_token:
            html = fernet().decrypt(document.html_token.encode()).decode()
        else:
            html = _html_now(document)
        pdf = html_to_pdf(html)
        if document.passphrase_token:
            passphrase = fernet().decrypt(document.passphrase_token.encode()).decode()
            pdf = protect_pdf(pdf, passphrase)
            del passphrase
    except SoftTimeLimitExceeded:
        _fail(document, worker, "Rendering took too long.")
        return DocStatus.FAILED
    except (PlanDocument.DoesNotExist, TreatmentPlan.DoesNotExist):
        return "missing"  # erased while queued
    except (OperationalError, InterfaceError):
        raise  # temporary database trouble: the task retries
    except Exception as exc:
        # The type only: a message could quote client text.
        logger.error("render failed for document %s: %s", document_id, type(exc).__name__)
        _fail(document, worker, "Rendering failed.")
        return DocStatus.FAILED
    name = f"documents/{document_id}.pdf.enc"
    if default_storage.exists(name):  # a partial write by an interrupted attempt
        default_storage.delete(name)
    default_storage.save(name, ContentFile(fernet().encrypt(pdf)))
    done = _finish(
        PlanDocument.objects.filter(pk=document_id, status=DocStatus.RENDERING, claimed_by=worker),
        document,
        "document.ready",
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        file=name,
        finished_at=timezone.now(),
        lease_until=None,
        error="",
        passphrase_token="",  # used: wiped in the same update that makes it ready
        html_token="",
    )
    if not done:
        if not PlanDocument.objects.filter(pk=document_id).exists():
            # Erased while it rendered (the client's erasure found no file to remove yet).
            default_storage.delete(name)
        return "superseded"
    _finished(document_id)
    return DocStatus.READY


def _html_now(document: PlanDocument) -> str:
    """The HTML of a document queued without it (a bulk export's): the plan of the document's
    own clinic as it is now, loaded in a fixed number of queries."""
    plan = with_contents(TreatmentPlan.objects.filter(clinic_id=document.clinic_id)).get(
        pk=document.plan_id
    )
    return plan_html(plan, document_options(document))


def _finished(document_id: str) -> None:
    """Tell the reads waiting for this document, and the bulk exports waiting for it (their
    progress, their zip)."""
    from exports.services import exports_document_finished

    wake.announce(document_id)

    exports_document_finished(document_id=document_id)


FILE_LOST = "The stored PDF could not be read; please ask for it again."
FILE_UNREADABLE = "The stored PDF cannot be read just now. Please try again later."


class DocumentFileLost(Exception):
    """A ready document whose stored file is gone or damaged. The document is now failed,
    so that asking for the same content again renders a new one."""


class DocumentUnreadable(Exception):
    """The stored file cannot be read just now: storage refuses it (permissions, a disk error),
    or this server's keys open no stored text (keys misconfigured, or an old key removed before
    a rotation). Nothing is changed, as the file may well be fine."""


def _keys_open_the_database(document: PlanDocument) -> bool:
    """Whether this server's keys still open the document's client's stored text. PDFs and
    rows are encrypted under the same keys and rotated together: when the row opens and the
    file does not, the file is damaged; when neither opens, the keys are wrong."""
    from clients.models import Client

    try:
        Client.objects.filter(pk=document.plan.client_id).values_list("display_name").first()
    except ValueError:  # common.crypto: "cannot be decrypted with FIELD_ENCRYPTION_KEYS"
        return False
    return True


def document_pdf(document: PlanDocument) -> bytes:
    """The ready document's PDF, decrypted and checked against the digest recorded when it was
    rendered. DocumentFileLost when its file is gone, damaged or not this document's (the
    document is then failed); DocumentUnreadable when this server's keys open nothing stored."""
    try:
        with default_storage.open(document.file, "rb") as handle:
            pdf = fernet().decrypt(handle.read())
    except FileNotFoundError:
        pdf = b""
    except OSError as exc:  # storage trouble (permissions, a disk error): the file may be fine
        logger.error(
            "stored PDF of document %s cannot be read: %s", document.pk, type(exc).__name__
        )
        raise DocumentUnreadable from None
    except InvalidToken:
        if not _keys_open_the_database(document):
            logger.error("stored PDF of document %s: the keys open no stored text", document.pk)
            raise DocumentUnreadable from None
        pdf = b""
    if not pdf or (document.sha256 and hashlib.sha256(pdf).hexdigest() != document.sha256):
        document_file_lost(document)
        raise DocumentFileLost
    return pdf


def document_file_lost(document: PlanDocument) -> None:
    """Mark a ready document whose file is gone or damaged as failed, with a message saying what
    to do. What is left of the file stays for whoever looks into it; erasure removes it."""
    now = timezone.now()
    _finish(
        PlanDocument.objects.filter(pk=document.pk, status=DocStatus.READY),
        document,
        "document.failed",
        error=FILE_LOST,
        finished_at=now,
        updated_at=now,
    )
    document.status, document.error, document.updated_at = DocStatus.FAILED, FILE_LOST, now
    logger.error("stored PDF of document %s is missing or damaged", document.pk)


def documents_sweep() -> int:
    """Re-enqueue documents whose message was lost (a killed worker, a restarted broker):
    queued for too long, or rendering under a lease that ran out or a claimant that died."""
    now = timezone.now()
    stuck = PlanDocument.objects.filter(
        Q(status=DocStatus.QUEUED, created_at__lt=now - QUEUED_GRACE)
        | Q(status=DocStatus.RENDERING)
    ).values_list("pk", "status", "lease_until", "claimed_by")
    count = 0
    for document_id, status, lease_until, claimed_by in stuck:
        if status == DocStatus.RENDERING and not (
            (lease_until and lease_until < now) or _claim_is_dead(claimed_by)
        ):
            continue
        _enqueue(str(document_id))
        count += 1
    return count


def document_files_delete(names: list[str]) -> None:
    for name in names:
        if name and default_storage.exists(name):
            default_storage.delete(name)
