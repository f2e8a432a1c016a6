"""Periodic: erase quick-exit drafts nobody came back to (ids only through the broker)."""

from celery import shared_task

from .services import plan_drafts_purge


@shared_task
def purge_plan_drafts() -> int:
    return plan_drafts_purge()
