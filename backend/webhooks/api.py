"""/api/v1/webhooks/: clinic admins register endpoints and read their deliveries."""

from typing import Any

from drf_spectacular.utils import (
    OpenApiCallback,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ClinicAdmin
from common.api import caller_membership
from common.errors import Conflict
from common.selectors import get_or_404
from common.serializers import RefusesUnknownFields

from .models import (
    DELIVERY_EVENTS,
    EVENT_DATA,
    EVENTS,
    PING,
    PING_DATA,
    WebhookDelivery,
    WebhookEndpoint,
)
from .services import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    NotRedeliverable,
    UnsafeEndpoint,
    delivery_redeliver,
    endpoint_create,
    endpoint_rotate_secret,
    webhook_ping,
)


class EndpointSerializer(RefusesUnknownFields, serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENTS), min_length=1, max_length=len(EVENTS)
    )


class EndpointOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS))
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class EndpointCreatedSerializer(EndpointOutSerializer):
    secret = serializers.CharField(help_text="Shown once, here: keep it to verify signatures.")


class DeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event = serializers.ChoiceField(choices=DELIVERY_EVENTS, help_text="An event, or a ping.")
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    response_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)


class EndpointDetailSerializer(EndpointOutSerializer):
    deliveries = DeliverySerializer(many=True, help_text="The 50 newest deliveries.")


# The deliveries, described as callbacks of the registration (OpenAPI 3.0's way of describing
# requests this service makes), one per event, built from the payload contract in models.

EVENT_HELP = {
    "document.ready": "A plan document's PDF is ready to download.",
    "document.failed": "A plan document's PDF could not be made, or its stored file was found "
    "lost: `url` says why. Ask for the PDF again.",
    "plan.agreed": "A plan version was agreed with the client.",
    "plan.updated": "A plan was edited.",
    "intake.completed": "An intake was completed and its plan drafted.",
    "client.erased": "A client's records were erased here: erase your copy too.",
    PING: "A test delivery, sent when you ask for one (POST /api/v1/webhooks/{id}/ping).",
}
DATA_HELP = {
    "document": "The plan document.",
    "plan": "The treatment plan.",
    "client": "The client record.",
    "intake": "The intake.",
    "endpoint": "This endpoint's registration.",
    "version": "The plan's version.",
    "plan_version": "The plan version the document shows.",
    "url": "The object in this API (GET it with your token).",
    "fhir": "The same object as a FHIR R4 resource.",
    "pdf": "The PDF (GET it with a token that has the export scope).",
}
KIND_FIELDS = {
    "id": serializers.UUIDField,
    "number": serializers.IntegerField,
    "link": serializers.URLField,
}


def _constant(value: str) -> serializers.Field:
    @extend_schema_field({"type": "string", "enum": [value]})
    class Constant(serializers.CharField):
        pass

    return Constant(help_text=f"Always `{value}` here; also in {EVENT_HEADER}.")


def delivery_serializer(event: str, data: dict[str, str]) -> type[serializers.Serializer]:
    """The body of a delivery of this event, as a serializer (named for the schema)."""
    name = "".join(part.title() for part in event.replace("_", ".").split("."))
    data_fields = {key: KIND_FIELDS[kind](help_text=DATA_HELP[key]) for key, kind in data.items()}
    body = {
        "id": serializers.UUIDField(
            help_text=f"The delivery, also in {DELIVERY_HEADER}: a retry repeats it, so "
            "deduplicate on it."
        ),
        "event": _constant(event),
        "created_at": serializers.DateTimeField(help_text="When the event happened."),
        "data": type(f"Webhook{name}DataSerializer", (serializers.Serializer,), data_fields)(
            help_text="Ids and links only, never client text."
        ),
    }
    return type(f"Webhook{name}Serializer", (serializers.Serializer,), body)


DELIVERY_CALLBACKS = [
    OpenApiCallback(
        event,
        "{$request.body#/url}",
        extend_schema(
            summary=event,
            description=f"{EVENT_HELP[event]} Signed: verify {SIGNATURE_HEADER} against the raw "
            "body with your secret (README, Webhooks).",
            request=delivery_serializer(event, data),
            responses={
                200: OpenApiResponse(
                    description="Any 2xx answer within 10 s acknowledges the delivery; "
                    f"anything else is retried, {MAX_ATTEMPTS} attempts over about two days "
                    "(README, Webhooks); a failed one can be sent again (`redeliver`)."
                )
            },
        ),
    )
    for event, data in {**EVENT_DATA, PING: PING_DATA}.items()
]
DELIVERY_HEADERS = [
    (EVENT_HEADER, "The event.", {"type": "string", "enum": list(DELIVERY_EVENTS)}),
    (DELIVERY_HEADER, "The delivery's id (the body's `id`).", {"type": "string", "format": "uuid"}),
    (
        SIGNATURE_HEADER,
        "`t=<unix time>,v1=<hex>[,v1=<hex>]`: HMAC-SHA256 of `<t>.<raw body>` under each live "
        "secret. Refuse a delivery whose `t` is more than 300 s from your clock.",
        {"type": "string"},
    ),
]


def delivery_headers(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook, on each callback operation: the headers every
    delivery carries (a callback's decorator cannot declare parameters), and only the receiver's
    answer (not this API's own error responses, which the schema adds to every operation)."""
    headers = [
        {"name": name, "in": "header", "required": True, "description": text, "schema": schema}
        for name, text, schema in DELIVERY_HEADERS
    ]
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for callback in operation.get("callbacks", {}).values():
                for item in callback.values():
                    for delivery in item.values():
                        delivery["parameters"] = headers
                        delivery["responses"] = {
                            code: answer
                            for code, answer in delivery["responses"].items()
                            if code.startswith("2")
                        }
    return result


def _endpoint(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": str(e.pk),
        "url": e.url,
        "events": e.events,
        "active": e.active,
        "created_at": e.created_at.isoformat(),
    }


class WebhookList(APIView):
    permission_classes = [ClinicAdmin]

    @extend_schema(responses=EndpointOutSerializer(many=True))
    def get(self, request: Request) -> Response:
        clinic = caller_membership(request).clinic_id
        return Response([_endpoint(e) for e in WebhookEndpoint.objects.filter(clinic_id=clinic)])

    @extend_schema(
        request=EndpointSerializer,
        responses={201: EndpointCreatedSerializer},
        callbacks=DELIVERY_CALLBACKS,
        description="Register an endpoint for some events. Each delivery is a signed POST to "
        "`url`, described per event under this operation's callbacks.",
    )
    def post(self, request: Request) -> Response:
        serializer = EndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            membership = caller_membership(request)
            endpoint, secret = endpoint_create(
                clinic_id=membership.clinic_id,
                actor=membership.user,
                **serializer.validated_data,
            )
        except UnsafeEndpoint as exc:
            raise serializers.ValidationError({"url": [str(exc)]}) from None
        # The secret is shown once, here; only its encrypted form is kept.
        return Response({**_endpoint(endpoint), "secret": secret}, status=201)


class WebhookDetail(APIView):
    permission_classes = [ClinicAdmin]

    def _get(self, request: Request, pk: str) -> WebhookEndpoint:
        clinic = caller_membership(request).clinic_id
        return get_or_404(WebhookEndpoint.objects.filter(clinic_id=clinic), pk)

    @extend_schema(responses=EndpointDetailSerializer)
    def get(self, request: Request, pk: str) -> Response:
        endpoint = self._get(request, pk)
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at")[:50]
        return Response(
            {
                **_endpoint(endpoint),
                "deliveries": [
                    {
                        "id": str(d.pk),
                        "event": d.event,
                        "status": d.status,
                        "attempts": d.attempts,
                        "response_code": d.response_code,
                        "error": d.error or None,
                        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
                    }
                    for d in deliveries
                ],
            }
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: str) -> Response:
        self._get(request, pk).delete()
        return Response(status=204)


class DeliveryQueuedSerializer(serializers.Serializer):
    delivery = serializers.UUIDField()
    status = serializers.CharField()


class WebhookPing(APIView):
    permission_classes = [ClinicAdmin]

    @extend_schema(request=None, responses={202: DeliveryQueuedSerializer})
    def post(self, request: Request, pk: str) -> Response:
        """Send a signed `ping` delivery now; its result shows in the endpoint's deliveries."""
        clinic = caller_membership(request).clinic_id
        endpoint = get_or_404(WebhookEndpoint.objects.filter(clinic_id=clinic), pk)
        delivery = webhook_ping(endpoint=endpoint)
        return Response({"delivery": str(delivery.pk), "status": delivery.status}, status=202)


class WebhookRedeliver(APIView):
    permission_classes = [ClinicAdmin]
    error_statuses = (409,)

    @extend_schema(request=None, responses={202: DeliveryQueuedSerializer})
    def post(self, request: Request, pk: str, delivery: str) -> Response:
        """Send a failed delivery again (same id, attempts from the first); 409 for one still
        being tried or delivered."""
        clinic = caller_membership(request).clinic_id
        endpoint = get_or_404(WebhookEndpoint.objects.filter(clinic_id=clinic), pk)
        found = get_or_404(WebhookDelivery.objects.filter(endpoint=endpoint), delivery)
        try:
            sent = delivery_redeliver(delivery=found, actor=caller_membership(request).user)
        except NotRedeliverable as exc:
            raise Conflict(str(exc)) from None
        return Response({"delivery": str(sent.pk), "status": sent.status}, status=202)


class SecretRotatedSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new secret, shown once.")
    previous_valid_until = serializers.DateTimeField(
        help_text="Until then every delivery carries a signature with each secret."
    )


class WebhookRotateSecret(APIView):
    permission_classes = [ClinicAdmin]

    @extend_schema(request=None, responses={200: SecretRotatedSerializer})
    def post(self, request: Request, pk: str) -> Response:
        clinic = caller_membership(request).clinic_id
        endpoint = get_or_404(WebhookEndpoint.objects.filter(clinic_id=clinic), pk)
        secret = endpoint_rotate_secret(endpoint=endpoint)
        endpoint.refresh_from_db()
        return Response({"secret": secret, "previous_valid_until": endpoint.previous_secret_until})
