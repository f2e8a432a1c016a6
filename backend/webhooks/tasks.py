"""Webhook delivery: one attempt per run, retried with exponential backoff until it lands."""

from celery import shared_task

from .models import WebhookDelivery
from .services import MAX_ATTEMPTS, WORKER_RETRY_MAX, retry_wait, webhook_deliver, webhooks_sweep


class DeliveryNotYet(Exception):
    pass


@shared_task(bind=True, max_retries=MAX_ATTEMPTS, acks_late=True)
def deliver_webhook(self, delivery_id: str) -> bool:  # type: ignore[no-untyped-def]
    if webhook_deliver(delivery_id=delivery_id):
        return True
    # The row counts the attempts (a sweep's sending included): the wait after the last one.
    attempts = WebhookDelivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True)
    wait = retry_wait(attempts.first() or 1)
    if wait > WORKER_RETRY_MAX:
        return False  # pending: webhooks_sweep sends it when it is due
    raise self.retry(exc=DeliveryNotYet(), countdown=wait)


@shared_task
def sweep_webhooks() -> int:
    return webhooks_sweep()
