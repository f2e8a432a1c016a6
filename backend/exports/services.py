"""Bulk export: every plan agreed or updated in a date range that the requester may read,
one PDF each (reused when unchanged, else rendered here), zipped with a manifest of ids and
hashes, and stored encrypted."""

import io
import json
import logging
import uuid
import zipfile
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership
from audit.services import audit_record
from common.crypto import fernet
from documents.models import DocStatus, PlanDocument
from documents.services import content_key, document_pdf, document_render, worker_identity
from plans.models import TreatmentPlan
from plans.selectors import plans_for, with_contents

from .models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)


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


def _enqueue(job_id: str) -> None:
    from .tasks import run_export

    try:
        run_export.delay(job_id)
    except Exception as exc:
        logger.warning("broker unavailable for export %s: %s", job_id, type(exc).__name__)


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


def _pdf_for(plan: TreatmentPlan) -> tuple[PlanDocument, bytes]:
    """The plan's PDF for its current content: reused when it exists, else rendered now."""
    key = content_key(plan)
    document = PlanDocument.objects.filter(
        plan=plan, content_hash=key, status=DocStatus.READY
    ).first()
    if document is None:
        document, _ = PlanDocument.objects.get_or_create(
            plan=plan,
            content_hash=key,
            status=DocStatus.QUEUED,
            defaults={"clinic_id": plan.clinic_id, "plan_version": plan.version},
        )
        document_render(document_id=str(document.pk), worker=worker_identity())
        document.refresh_from_db()
    return document, document_pdf(document)


def export_run(*, job_id: str) -> str:
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING
    )
    if not claimed:
        return "not queued"
    job = ExportJob.objects.select_related("requested_by__membership").get(pk=job_id)
    membership = job.requested_by.membership
    plans = with_contents(
        plans_in_range(membership=membership, day_from=job.date_from, day_to=job.date_to)
    )
    ExportJob.objects.filter(pk=job_id).update(total=plans.count())
    buffer = io.BytesIO()
    manifest = []
    try:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for done, plan in enumerate(plans.iterator(chunk_size=50), start=1):
                document, pdf = _pdf_for(plan)
                name = f"plans/{plan.pk}-v{plan.version}.pdf"  # ids only, no names
                archive.writestr(name, pdf)
                manifest.append(
                    {
                        "file": name,
                        "plan": str(plan.pk),
                        "version": plan.version,
                        "document": str(document.pk),
                        "sha256": document.sha256,
                    }
                )
                ExportJob.objects.filter(pk=job_id).update(done=done)
            archive.writestr(
                "manifest.json",
                json.dumps(
                    {
                        "export": job_id,
                        "from": job.date_from.isoformat(),
                        "to": job.date_to.isoformat(),
                        "plans": manifest,
                    },
                    indent=1,
                ),
            )
    except Exception as exc:
        logger.error("export %s failed: %s", job_id, type(exc).__name__)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.FAILED, error="The export could not be completed."
        )
        return ExportStatus.FAILED
    data = buffer.getvalue()
    name = f"exports/{job_id}.zip.enc"
    with transaction.atomic():
        # Locked, so an erasure that committed while this ran is seen here (or waits, then
        # strips its client from the stored file itself).
        ExportJob.objects.select_for_update().get(pk=job_id)
        erased: set[str] = {str(p["plan"]) for p in manifest} - {
            str(pk)
            for pk in TreatmentPlan.objects.filter(
                pk__in=[p["plan"] for p in manifest]
            ).values_list("pk", flat=True)
        }
        if erased:
            data, _ = _zip_without(data, erased)
        _store(name, data)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.READY, file=name, size=len(data)
        )
    return ExportStatus.READY


def _store(name: str, data: bytes) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(fernet().encrypt(data)))


def _zip_without(data: bytes, plan_ids: set[str]) -> tuple[bytes, int]:
    """The zip rebuilt without the given plans' PDFs and manifest entries; and how many left."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        manifest = json.loads(source.read("manifest.json"))
        dropped = [p for p in manifest["plans"] if p["plan"] in plan_ids]
        manifest["plans"] = [p for p in manifest["plans"] if p["plan"] not in plan_ids]
        dropped_files = {p["file"] for p in dropped}
        for info in source.infolist():
            if info.filename == "manifest.json" or info.filename in dropped_files:
                continue
            archive.writestr(info.filename, source.read(info.filename))
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    return out.getvalue(), len(dropped)


def exports_without_plans(*, clinic_id: uuid.UUID, plan_ids: set[str]) -> list[str]:
    """Rewrite every stored export of the clinic that holds one of these plans without them.

    Called inside an erasure's transaction: if a file cannot be rewritten, the erasure fails
    rather than leaving the client in an export. Returns the ids of the exports changed.
    """
    if not plan_ids:
        return []
    changed = []
    # Running exports are locked too: one finishing now waits for this erasure to commit, then
    # leaves out the plans it finds gone (see export_run).
    jobs = list(
        ExportJob.objects.select_for_update()
        .filter(
            clinic_id=clinic_id,
            status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.READY],
        )
        .order_by("created_at")
    )
    for job in jobs:
        if job.status != ExportStatus.READY or not job.file:
            continue
        data, dropped = _zip_without(export_zip(job), plan_ids)
        if not dropped:
            continue
        _store(job.file, data)
        ExportJob.objects.filter(pk=job.pk).update(
            size=len(data), total=F("total") - dropped, done=F("done") - dropped
        )
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
        count += 1
    return count


def export_zip(job: ExportJob) -> bytes:
    with default_storage.open(job.file, "rb") as handle:
        return fernet().decrypt(handle.read())
