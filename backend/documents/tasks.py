"""Celery tasks: ids in, one service call, retries only on temporary database errors."""

from celery import shared_task
from celery.signals import worker_init
from django.db import InterfaceError, OperationalError

from .services import document_render, documents_sweep, worker_identity


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    max_retries=5,
)
def render_plan_document(document_id: str) -> str:
    return document_render(document_id=document_id, worker=worker_identity())


@shared_task
def sweep_documents() -> int:
    return documents_sweep()


@worker_init.connect
def _warm_up(**kwargs: object) -> None:
    """Import and exercise WeasyPrint in the worker parent, so forked children start warm."""
    from .render import warm_up

    warm_up()
