"""Export tasks: an id in, one service call. The renders themselves are document tasks."""

from celery import shared_task

from .services import export_assemble, export_run, exports_expire, exports_sweep


@shared_task(acks_late=True)
def run_export(job_id: str) -> str:
    return export_run(job_id=job_id)


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500)
def assemble_export(job_id: str) -> str:
    return export_assemble(job_id=job_id)


@shared_task
def sweep_exports() -> int:
    return exports_sweep()


@shared_task
def expire_exports() -> int:
    return exports_expire()
