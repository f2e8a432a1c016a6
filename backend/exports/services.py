"""Bulk export: every plan agreed or updated in a date range that the requester may read,
one PDF each (reused when unchanged, else rendered here), zipped with a manifest of ids and
hashes, and stored encrypted."""

import io
import json
import logging
import zipfile
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Membership
from audit.services import audit_read, audit_record, audit_record_per_client
from common.crypto import fernet
from documents.models import DocStatus, PlanDocument
from documents.services import content_key, document_pdf, document_render, worker_identity
from plans.models import TreatmentPlan
from plans.selectors import plans_for, with_contents

from .models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)


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
    exported: dict[Any, dict[str, Any]] = {}
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
                exported.setdefault(plan.client_id, {"plans": []})["plans"].append(
                    f"{plan.pk}:v{plan.version}"
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
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(fernet().encrypt(data)))
    ExportJob.objects.filter(pk=job_id).update(status=ExportStatus.READY, file=name, size=len(data))
    audit_record_per_client(
        actor_id=job.requested_by_id,
        clinic_id=job.clinic_id,
        action="export",
        obj=job,
        clients=exported,
    )
    return ExportStatus.READY


def export_zip(job: ExportJob) -> bytes:
    """The zip, for its requester: every download is audited, once per client in it."""
    with default_storage.open(job.file, "rb") as handle:
        data = fernet().decrypt(handle.read())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        plan_ids = [p["plan"] for p in json.loads(archive.read("manifest.json"))["plans"]]
    clients = TreatmentPlan.objects.filter(pk__in=plan_ids).values_list("client_id", flat=True)
    for client_id in [None, *sorted(set(clients), key=str)]:
        audit_read(
            actor_id=job.requested_by_id,
            clinic_id=job.clinic_id,
            obj=job,
            client_id=client_id,
            action="export",
            download=True,
        )
    return data
