"""Webhook delivery: one attempt per run, retried with exponential backoff until it lands."""

from celery import shared_task

from .services import MAX_ATTEMPTS, webhook_deliver, webhooks_sweep


class DeliveryNotYet(Exception):
    pass


@shared_task(bind=True, max_retries=MAX_ATTEMPTS, acks_late=True)
def deliver_webhook(self, delivery_id: str) -> bool:  # type: ignore[no-untyped-def]
    if webhook_deliver(delivery_id=delivery_id):
        return True
    # 2, 4, 8, 16, 32 seconds ... then the delivery is recorded as failed.
    raise self.retry(exc=DeliveryNotYet(), countdown=2 ** (self.request.retries + 1))


@shared_task
def sweep_webhooks() -> int:
    return webhooks_sweep()
