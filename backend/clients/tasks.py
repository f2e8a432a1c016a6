"""Periodic retention purge (ids only; nothing about clients travels through the broker)."""

from celery import shared_task

from .services import retention_purge


@shared_task
def purge_expired_records() -> int:
    return retention_purge()
