"""The bulk export task: an id in, one service call."""

from celery import shared_task

from .services import export_run, exports_expire


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500)
def run_export(job_id: str) -> str:
    return export_run(job_id=job_id)


@shared_task
def expire_exports() -> int:
    return exports_expire()
