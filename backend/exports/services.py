"""Bulk export: every plan agreed or updated in a date range that the requester may read, one
PDF each, zipped with a manifest of ids and hashes, and stored encrypted.

The export fans out over the workers. Starting it fixes the list of plans (one ExportItem each)
and points every item at the document for the plan's current content: an existing one is
reused, a missing one is requested through the document pipeline, whose claim guarantees that
nothing renders twice. Each finished render updates the progress of the exports waiting for it;
when every PDF is ready, one worker claims the export and writes the zip, streaming, PDF by PDF,
through an encrypting writer. A sweeper finishes whatever a killed worker or a lost message left.
"""

import json
import logging
import os
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership
from audit.services import audit_read, audit_record, audit_record_per_client
from common.crypto import EncryptingWriter, decrypt_chunks
from documents.models import DocStatus, PlanDocument
from documents.services import DocumentFileLost, DocumentUnreadable, content_key, document_pdf
from plans.models import TreatmentPlan
from plans.selectors import plans_for

from .models import ExportItem, ExportJob, ExportStatus

logger = logging.getLogger(__name__)

LIVE = (DocStatus.QUEUED, DocStatus.RENDERING, DocStatus.READY)
MAX_RENDER_REQUESTS = 3  # per plan and export, before the export gives up
QUEUED_GRACE = timedelta(seconds=60)
ASSEMBLY_LEASE = timedelta(minutes=10)
BATCH = 500  # ids per IN (...) query
# Export ranges stay well inside what dates and time zones can represent (year 9999 overflows).
EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 12, 31)


def _bounds(day_from: date, day_to: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day_from, time.min))
    return start, timezone.make_aware(datetime.combine(day_to + timedelta(days=1), time.min))


def plans_in_range(
    *, membership: Membership, day_from: date, day_to: date
) -> QuerySet[TreatmentPlan]:
    start, end = _bounds(day_from, day_to)
    return (
        plans_for(membership=membership)
        .filter(
            Q(agreed_at__gte=start, agreed_at__lt=end)
            | Q(updated_at__gte=start, updated_at__lt=end)
        )
        .order_by("created_at")
    )


def _send(task_name: str, object_id: str) -> None:
    """Enqueue by name; with the broker down the row stays as it is and the sweeper sends it."""
    from . import tasks

    try:
        getattr(tasks, task_name).delay(object_id)
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("broker unavailable for %s %s: %s", task_name, object_id, type(exc).__name__)


def _enqueue(job_id: str) -> None:
    _send("run_export", job_id)


@transaction.atomic
def export_request(
    *, membership: Membership, actor: User, day_from: date, day_to: date
) -> ExportJob:
    total = plans_in_range(membership=membership, day_from=day_from, day_to=day_to).count()
    job = ExportJob.objects.create(
        clinic_id=membership.clinic_id,
        requested_by=actor,
        date_from=day_from,
        date_to=day_to,
        total=total,
    )
    audit_record(
        actor=actor,
        clinic_id=membership.clinic_id,
        action="export",
        obj=job,
        date_from=day_from.isoformat(),
        date_to=day_to.isoformat(),
    )
    job_id = str(job.pk)
    transaction.on_commit(lambda: _enqueue(job_id))
    return job


def _documents_for(plans: list[TreatmentPlan]) -> dict[TreatmentPlan, PlanDocument]:
    """Each plan's live document for its current content: found in one query per batch, or
    created (queued) here; renders are sent once the transaction commits."""
    keys = {plan.pk: content_key(plan) for plan in plans}
    found = {
        (doc.plan_id, doc.content_hash): doc
        for doc in PlanDocument.objects.filter(plan_id__in=list(keys), status__in=LIVE).only(
            "id", "plan_id", "content_hash", "status"
        )
    }
    out = {}
    for plan in plans:
        document = found.get((plan.pk, keys[plan.pk]))
        if document is None:
            document = _new_document(plan, keys[plan.pk])
        out[plan] = document
    return out


def _new_document(plan: TreatmentPlan, key: str) -> PlanDocument:
    from documents.services import _enqueue as enqueue_render

    try:
        with transaction.atomic():
            document = PlanDocument.objects.create(
                clinic_id=plan.clinic_id,
                plan_id=plan.pk,
                plan_version=plan.version,
                plan_saved_at=plan.updated_at,
                plan_status=plan.status,
                content_hash=key,
            )
    except IntegrityError:  # a concurrent request created it first
        return PlanDocument.objects.filter(plan_id=plan.pk, content_hash=key, status__in=LIVE).get()
    transaction.on_commit(partial(enqueue_render, str(document.pk)))
    return document


def export_run(*, job_id: str) -> str:
    """Start an export: fix its plans and point each at its document. Stays thin: the renders
    run on every worker, and the zip is written once they are all done."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING,
        updated_at=timezone.now(),  # exports_sweep reads it
    )
    if not claimed:
        return "not queued"
    job = ExportJob.objects.select_related("requested_by__membership").get(pk=job_id)
    membership = job.requested_by.membership
    plans = (
        plans_in_range(membership=membership, day_from=job.date_from, day_to=job.date_to)
        .select_related("client", "intake")
        # What content_key reads, and nothing encrypted: no client text is decrypted here.
        .only(
            "id", "clinic_id", "version", "updated_at", "client__updated_at", "intake__updated_at"
        )
    )
    position = 0
    batch: list[TreatmentPlan] = []
    for plan in plans.iterator(chunk_size=BATCH):
        batch.append(plan)
        if len(batch) == BATCH:
            position = _add_items(job, batch, position)
            batch = []
    position = _add_items(job, batch, position)
    ExportJob.objects.filter(pk=job_id).update(total=position)
    export_progress(job_id=job_id)
    return ExportStatus.RUNNING


@transaction.atomic
def _add_items(job: ExportJob, plans: list[TreatmentPlan], start: int) -> int:
    if not plans:
        return start
    documents = _documents_for(plans)
    ExportItem.objects.bulk_create(
        [
            ExportItem(
                job=job,
                plan=plan,
                position=start + i,
                plan_version=plan.version,
                document=documents[plan],
            )
            for i, plan in enumerate(plans)
        ],
        ignore_conflicts=True,  # a redelivered start adds nothing twice
    )
    return start + len(plans)


def export_progress(*, job_id: str) -> str:
    """Count the ready PDFs; ask again for failed ones; when all are ready, let one worker
    claim the assembly."""
    items = ExportItem.objects.filter(job_id=uuid.UUID(str(job_id)))
    states: dict[str | None, int] = {
        row["document__status"]: row["n"]
        for row in items.values("document__status").annotate(n=Count("id"))
    }
    ready = states.get(DocStatus.READY, 0)
    total = sum(states.values())
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING, done__lt=ready).update(
        done=ready
    )
    if states.get(DocStatus.FAILED) or states.get(None):
        if not _rerequest(job_id):
            ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
                status=ExportStatus.FAILED,
                error="Some plans could not be rendered; please start the export again.",
            )
            return ExportStatus.FAILED
        return ExportStatus.RUNNING
    if ready < total:
        return ExportStatus.RUNNING
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.ASSEMBLING, assembling_since=timezone.now(), done=total, total=total
    )
    if claimed:
        transaction.on_commit(partial(_send, "assemble_export", str(job_id)))
    return ExportStatus.ASSEMBLING


def _rerequest(job_id: str) -> bool:
    """A new document for each item whose render failed (or was deleted); False when an item
    has been asked for too often."""
    stuck = ExportItem.objects.filter(job_id=uuid.UUID(str(job_id))).filter(
        Q(document__isnull=True) | Q(document__status=DocStatus.FAILED)
    )
    for item in stuck.select_related("plan__client", "plan__intake"):
        if item.renders_requested >= MAX_RENDER_REQUESTS:
            return False
        plan = item.plan
        document = _new_document(plan, content_key(plan))
        ExportItem.objects.filter(pk=item.pk).update(
            document=document, renders_requested=item.renders_requested + 1
        )
    return True


def exports_document_finished(*, document_id: str) -> None:
    """Called by the document pipeline when a render ends: move the waiting exports on."""
    jobs = (
        ExportItem.objects.filter(
            document_id=uuid.UUID(str(document_id)), job__status=ExportStatus.RUNNING
        )
        .values_list("job_id", flat=True)
        .distinct()
    )
    for job_id in jobs:
        export_progress(job_id=str(job_id))


def _manifest_entry(item: ExportItem, name: str) -> dict[str, object]:
    return {
        "file": name,
        "plan": str(item.plan_id),
        "version": item.plan_version,
        "document": str(item.document_id),
        "sha256": item.document.sha256 if item.document else None,
    }


def export_assemble(*, job_id: str) -> str:
    """Write the zip: each PDF decrypted, added and let go in turn, the archive encrypted in
    chunks on its way to storage. Safe to run again: the file is replaced whole."""
    job = ExportJob.objects.filter(pk=job_id, status=ExportStatus.ASSEMBLING).first()
    if job is None:
        return "not assembling"
    items = _items(job_id)
    if any(i.document is None or i.document.status != DocStatus.READY for i in items):
        # Something changed under us (a document deleted): back to rendering.
        ExportJob.objects.filter(pk=job_id).update(status=ExportStatus.RUNNING)
        return export_progress(job_id=job_id)
    try:
        name, size = _write_zip(job, items)
    except DocumentFileLost:
        # A stored PDF is gone or damaged (its document is failed now): render it again.
        if ExportJob.objects.filter(pk=job_id, status=ExportStatus.ASSEMBLING).update(
            status=ExportStatus.RUNNING
        ):
            return export_progress(job_id=job_id)
        return "not assembling"
    except Exception as exc:
        logger.error("export %s failed: %s", job_id, type(exc).__name__)
        ExportJob.objects.filter(pk=job_id, status=ExportStatus.ASSEMBLING).update(
            status=ExportStatus.FAILED, error="The export could not be completed."
        )
        return ExportStatus.FAILED
    done = ExportJob.objects.filter(pk=job_id, status=ExportStatus.ASSEMBLING).update(
        status=ExportStatus.READY, file=name, size=size, assembling_since=None
    )
    # A client erased while the zip was written: write it again without them (or drop it).
    erased_meanwhile = done and {i.pk for i in _items(job_id)} != {i.pk for i in items}
    if erased_meanwhile and not _rewrite_or_drop(job):
        return ExportStatus.FAILED
    if done:
        # Which clients' plans left in this export: it shows when the audit is read by client.
        exported: dict[Any, dict[str, Any]] = {}
        for item in _items(job_id):
            exported.setdefault(item.client_id, {"plans": []})["plans"].append(  # type: ignore[attr-defined]
                f"{item.plan_id}:v{item.plan_version}"
            )
        audit_record_per_client(
            actor_id=job.requested_by_id,
            clinic_id=job.clinic_id,
            action="export",
            obj=job,
            clients=exported,
        )
    return ExportStatus.READY


def _items(job_id: object) -> list[ExportItem]:
    return list(
        ExportItem.objects.filter(job_id=uuid.UUID(str(job_id)))
        .select_related("document")
        .annotate(client_id=F("plan__client_id"))
        .order_by("position")
    )


def _write_zip(job: ExportJob, items: list[ExportItem]) -> tuple[str, int]:
    """The zip of these items, written streaming into chunked encryption and stored under the
    export's one name; returns the name and the plaintext size."""
    folder = settings.DATA_DIR / "tmp"
    folder.mkdir(mode=0o700, exist_ok=True)
    manifest = []
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".enc", delete=False) as handle:
        tmp_name = handle.name
        try:
            writer = EncryptingWriter(handle)
            with zipfile.ZipFile(writer, "w", zipfile.ZIP_STORED) as archive:  # type: ignore[arg-type]
                for item in items:
                    name = f"plans/{item.plan_id}-v{item.plan_version}.pdf"  # ids only, no names
                    archive.writestr(name, document_pdf(item.document))  # type: ignore[arg-type]
                    manifest.append(_manifest_entry(item, name))
                archive.writestr(
                    "manifest.json",
                    json.dumps(
                        {
                            "export": str(job.pk),
                            "from": job.date_from.isoformat(),
                            "to": job.date_to.isoformat(),
                            "plans": manifest,
                        },
                        indent=1,
                    ),
                )
            writer.close()
        except Exception:
            handle.close()
            os.unlink(tmp_name)
            raise
    name = f"exports/{job.pk}.zip.enc"
    try:
        if default_storage.exists(name):
            default_storage.delete(name)
        with open(tmp_name, "rb") as encrypted:
            default_storage.save(name, File(encrypted))
    finally:
        os.unlink(tmp_name)
    return name, writer.size


def _rewrite(job: ExportJob) -> None:
    items = _items(job.pk)
    name, size = _write_zip(job, items)
    ExportJob.objects.filter(pk=job.pk).update(
        file=name, size=size, total=len(items), done=len(items)
    )


UNWRITABLE = (
    "A plan's PDF could not be read when this export had to be rewritten; please start the "
    "export again."
)


def _rewrite_or_drop(job: ExportJob) -> bool:
    """Write the export again from its items; if one of their PDFs cannot be read (gone,
    damaged, unreadable), delete the export's file instead and say so: either way nothing of an
    erased client stays in it, and the erasure goes on. If even the delete fails, it raises."""
    try:
        _rewrite(job)
    except (DocumentFileLost, DocumentUnreadable, OSError) as exc:
        logger.error("export %s could not be rewritten: %s", job.pk, type(exc).__name__)
        if job.file and default_storage.exists(job.file):
            default_storage.delete(job.file)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=UNWRITABLE, file="", size=None
        )
        return False
    return True


def exports_without_plans(*, clinic_id: uuid.UUID, plan_ids: set[str]) -> list[str]:
    """Rewrite every stored export of the clinic that holds one of these plans without them.

    Called inside an erasure's transaction, before the plans are deleted: if a file cannot be
    rewritten, the erasure fails rather than leaving the client in an export. Exports still
    rendering or assembling lose the plans with their items (deleted with the plans), and an
    assembly that finishes meanwhile writes its zip again. Returns the ids of the exports
    changed.
    """
    if not plan_ids:
        return []
    ids = [uuid.UUID(str(p)) for p in plan_ids]
    changed = []
    holding = (
        ExportItem.objects.filter(job__clinic_id=clinic_id, plan_id__in=ids)
        .values_list("job_id", flat=True)
        .distinct()
    )
    # Locked by id: PostgreSQL refuses FOR UPDATE together with DISTINCT.
    jobs = ExportJob.objects.select_for_update().filter(pk__in=list(holding)).order_by("created_at")
    for job in jobs:
        ExportItem.objects.filter(job=job, plan_id__in=ids).delete()
        if job.status == ExportStatus.READY and job.file:
            _rewrite_or_drop(job)
        changed.append(str(job.pk))
    return changed


def exports_expire(*, now: datetime | None = None) -> int:
    """Delete the files of exports older than EXPORT_RETENTION_DAYS and mark them expired.

    The row stays (ids, dates and status only) so the admin sees the export has gone.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    count = 0
    for job in ExportJob.objects.filter(created_at__lt=cutoff).exclude(status=ExportStatus.EXPIRED):
        with transaction.atomic():
            locked = ExportJob.objects.select_for_update().get(pk=job.pk)
            if locked.file and default_storage.exists(locked.file):
                default_storage.delete(locked.file)
            ExportJob.objects.filter(pk=job.pk).update(
                status=ExportStatus.EXPIRED, file="", size=None
            )
            ExportItem.objects.filter(job=job).delete()
        count += 1
    return count


def _read(name: str) -> Iterator[bytes]:
    with default_storage.open(name, "rb") as handle:
        yield from decrypt_chunks(handle)


EXPORT_FILE_LOST = "The export's file could not be found; please start the export again."


def export_file_present(job: ExportJob) -> bool:
    """Whether the ready export's file is in storage, checked before a download starts (a
    stream that breaks half-way would leave a partial zip and a download in the audit). When it
    is not, the export is failed with what to do."""
    if job.file and default_storage.exists(job.file):
        return True
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.READY).update(
        status=ExportStatus.FAILED, error=EXPORT_FILE_LOST, file="", size=None
    )
    job.status, job.error = ExportStatus.FAILED, EXPORT_FILE_LOST
    logger.error("export %s: its stored file is missing", job.pk)
    return False


def export_zip_chunks(job: ExportJob) -> Iterator[bytes]:
    """The zip, decrypted chunk by chunk, for a streaming download by its requester. Every
    download is audited, once for the export and once per client in it."""
    clients = (
        ExportItem.objects.filter(job=job).values_list("plan__client_id", flat=True).distinct()
    )
    for client_id in [None, *sorted(set(clients), key=str)]:
        audit_read(
            actor_id=job.requested_by_id,
            clinic_id=job.clinic_id,
            obj=job,
            client_id=client_id,
            action="export",
            download=True,
        )
    return _read(job.file)


def export_zip(job: ExportJob) -> bytes:
    return b"".join(export_zip_chunks(job))


def exports_sweep(*, now: datetime | None = None) -> int:
    """Finish what a killed worker or a lost message left: start exports queued too long,
    move running ones on, take over assemblies whose lease ran out."""
    now = now or timezone.now()
    count = 0
    for job_id in ExportJob.objects.filter(
        status=ExportStatus.QUEUED, created_at__lt=now - QUEUED_GRACE
    ).values_list("pk", flat=True):
        _enqueue(str(job_id))
        count += 1
    for job_id in ExportJob.objects.filter(status=ExportStatus.RUNNING).values_list(
        "pk", flat=True
    ):
        export_progress(job_id=str(job_id))
        count += 1
    stale = ExportJob.objects.filter(
        status=ExportStatus.ASSEMBLING, assembling_since__lt=now - ASSEMBLY_LEASE
    )
    for job_id in stale.values_list("pk", flat=True):
        if ExportJob.objects.filter(
            pk=job_id, status=ExportStatus.ASSEMBLING, assembling_since__lt=now - ASSEMBLY_LEASE
        ).update(assembling_since=now):
            _send("assemble_export", str(job_id))
            count += 1
    return count
