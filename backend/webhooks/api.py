"""/api/v1/webhooks/: clinic admins register endpoints and read their deliveries."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ClinicAdmin
from common.api import caller_membership
from common.selectors import get_or_404

from .models import DELIVERY_EVENTS, EVENTS, WebhookDelivery, WebhookEndpoint
from .services import UnsafeEndpoint, endpoint_create, endpoint_rotate_secret, webhook_ping


class EndpointSerializer(serializers.Serializer):
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

    @extend_schema(request=EndpointSerializer, responses={201: EndpointCreatedSerializer})
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
