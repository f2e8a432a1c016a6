"""/api/v1/clients/: thin views over the client selectors and services."""

from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from audit.services import audit_record
from common.api import caller, caller_membership
from common.serializers import StrictCharField

from .models import DISPLAY_NAME_MAX, EXTERNAL_ID_MAX, PRONOUNS_MAX, Client
from .selectors import client_get, client_list
from .services import client_create, client_erase, client_update


class ClientSerializer(serializers.ModelSerializer):
    display_name = StrictCharField(max_length=DISPLAY_NAME_MAX)
    pronouns = StrictCharField(max_length=PRONOUNS_MAX, required=False, allow_blank=True)
    external_id = StrictCharField(max_length=EXTERNAL_ID_MAX, required=False, allow_blank=True)

    class Meta:
        model = Client
        fields = ["id", "display_name", "pronouns", "external_id", "created_at", "updated_at"]
        fields += ["language"]  # DESIGN "Languages"
        read_only_fields = ["id", "created_at", "updated_at"]


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="Changed at or after."
            ),
            OpenApiParameter("external_id", str, description="The EHR's id for the client."),
        ]
    )
)
class ClientListCreate(generics.ListCreateAPIView):
    serializer_class = ClientSerializer

    def get_queryset(self) -> Any:
        raw = self.request.query_params.get("updated_since")
        since = None
        if raw:
            since = parse_datetime(raw)
            if since is None or since.tzinfo is None:
                raise ValidationError(
                    {"updated_since": ["Use an ISO 8601 date-time with a time zone."]}
                )
        external_id = self.request.query_params.get("external_id")
        if external_id is not None and not external_id.strip():
            raise ValidationError({"external_id": ["Give the EHR's id to look up."]})
        return client_list(
            membership=caller_membership(self.request),
            updated_since=since,
            external_id=external_id,
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        membership, actor = caller(request)
        # One event per page read, naming the clients on it (ids only).
        audit_record(
            actor=actor,
            clinic_id=membership.clinic_id,
            action="list",
            obj=membership.clinic,
            clients=[row["id"] for row in response.data.get("results", [])],
        )
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, actor = caller(request)
        client = client_create(membership=membership, actor=actor, **serializer.validated_data)
        return Response(ClientSerializer(client).data, status=201)


class ClientDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = ClientSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self) -> Client:
        return client_get(membership=caller_membership(self.request), client_id=self.kwargs["pk"])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        client = self.get_object()
        _, actor = caller(request)
        audit_record(
            actor=actor,
            clinic_id=client.clinic_id,
            action="read",
            obj=client,
            client_id=client.pk,
        )
        return Response(ClientSerializer(client).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        client = self.get_object()
        _, actor = caller(request)
        serializer = self.get_serializer(client, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        client = client_update(client=client, actor=actor, **serializer.validated_data)
        return Response(ClientSerializer(client).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _, actor = caller(request)
        client_erase(client=self.get_object(), actor=actor)
        return Response(status=204)
