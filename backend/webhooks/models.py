"""Webhook endpoints a clinic registers, and each delivery's record. Payloads: ids and URLs."""

from django.db import models

from common.crypto import EncryptedTextField
from common.models import BaseModel

# What each event's `data` holds: ids and links, never client text. One definition for the
# emitters (webhook_emit checks each payload against it) and the OpenAPI document (the
# callbacks of POST /api/v1/webhooks/). Kinds: "id" a UUID, "number" an integer, "link" an
# absolute URL under PUBLIC_BASE_URL.
_PLAN = {"plan": "id", "client": "id", "version": "number", "url": "link", "fhir": "link"}
_DOCUMENT = {
    "document": "id",
    "plan": "id",
    "plan_version": "number",
    "url": "link",
    "fhir": "link",
}
EVENT_DATA: dict[str, dict[str, str]] = {
    "document.ready": {**_DOCUMENT, "pdf": "link"},
    # Its PDF could not be made, or its stored file was lost: `url` says why; ask again.
    "document.failed": _DOCUMENT,
    "plan.agreed": _PLAN,
    "plan.updated": _PLAN,
    "intake.completed": {
        "intake": "id",
        "client": "id",
        "plan": "id",
        "url": "link",
        "fhir": "link",
    },
    "client.erased": {"client": "id"},
}
EVENTS = tuple(EVENT_DATA)
PING = "ping"  # sent on request only; nobody subscribes to it
PING_DATA = {"endpoint": "id"}
DELIVERY_EVENTS = (*EVENTS, PING)  # what a delivery can carry


class WebhookEndpoint(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    secret = EncryptedTextField()
    # After a rotation the old secret still signs, beside the new one, until this time.
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"Webhook {self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(BaseModel):
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    payload = models.JSONField()  # ids and URLs only, never client text
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Delivery {self.pk} ({self.status})"
