"""/api/v1/clients/: thin views over the client selectors and services."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import caller, caller_membership, datetime_param
from common.crypto import keyed_hashes
from common.serializers import RefusesUnknownFields, StrictCharField

from .models import DISPLAY_NAME_MAX, EXTERNAL_ID_MAX, PRONOUNS_MAX, Client
from .selectors import client_for_change, client_get, client_list
from .services import (
    CareTeamError,
    client_care_team_set,
    client_create,
    client_erase,
    client_update,
)

CARE_TEAM_MAX = 100


class CareTeamField(serializers.ListField):
    """Usernames in, usernames out (prefetched in username order by the selector)."""

    def get_attribute(self, instance: Client) -> list[str]:
        return [user.username for user in instance.care_team.all()]


class ClientSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    display_name = StrictCharField(max_length=DISPLAY_NAME_MAX)
    pronouns = StrictCharField(max_length=PRONOUNS_MAX, required=False, allow_blank=True)
    external_id = StrictCharField(max_length=EXTERNAL_ID_MAX, required=False, allow_blank=True)
    care_team = CareTeamField(
        child=StrictCharField(max_length=150),
        max_length=CARE_TEAM_MAX,
        required=False,
        help_text="Usernames of the clinicians who work with the client. Only they read the "
        "client's clinical records. Clinic admins change it.",
    )

    class Meta:
        model = Client
        fields = [
            "id",
            "display_name",
            "pronouns",
            "external_id",
            "care_team",
            "language",  # DESIGN "Languages"
            "created_at",
            "updated_at",
        ]
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
        since = datetime_param(self.request, "updated_since")
        external_id = self.request.query_params.get("external_id")
        if external_id is not None and not external_id.strip():
            raise ValidationError({"external_id": ["Give the EHR's id to look up."]})
        return client_list(
            membership=caller_membership(self.request),
            updated_since=since,
            external_id=external_id,
        )

    @transaction.atomic
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, actor = caller(request)
        data = dict(serializer.validated_data)
        usernames = data.pop("care_team", None)
        _external_id_free(membership=membership, external_id=data.get("external_id", ""))
        client = client_create(membership=membership, actor=actor, **data)
        if usernames is not None:
            _set_care_team(client=client, membership=membership, usernames=usernames)
        client = client_get(membership=membership, client_id=client.pk)
        return Response(ClientSerializer(client).data, status=201)


def _external_id_free(*, membership: Any, external_id: str, client: Client | None = None) -> None:
    """One client per EHR id in a clinic, so that a lookup by it finds one client."""
    if not external_id:
        return
    taken = Client.objects.filter(
        clinic_id=membership.clinic_id,
        external_id_hash__in=keyed_hashes("external_id", external_id),
    )
    if client is not None:
        taken = taken.exclude(pk=client.pk)
    if taken.exists():
        raise ValidationError({"external_id": ["Another client in this clinic has this EHR id."]})


def _set_care_team(*, client: Client, membership: Any, usernames: list[str]) -> None:
    """Clinic admins manage care teams: one accountable role grants access to clinical records."""
    if not membership.is_admin:
        raise PermissionDenied("Only clinic admins can change a client's care team.")
    try:
        client_care_team_set(client=client, actor=membership.user, usernames=usernames)
    except CareTeamError as exc:
        raise ValidationError({"care_team": [str(exc)]}) from None


class ClientDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = ClientSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self) -> Client:
        return client_get(membership=caller_membership(self.request), client_id=self.kwargs["pk"])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        client = self.get_object()
        return Response(ClientSerializer(client).data)

    def _for_change(self, membership: Any) -> Client:
        try:
            return client_for_change(membership=membership, client_id=self.kwargs["pk"])
        except DjangoPermissionDenied as refused:
            raise PermissionDenied(str(refused)) from None

    @transaction.atomic
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership, actor = caller(request)
        client = self._for_change(membership)
        serializer = self.get_serializer(client, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        usernames = changes.pop("care_team", None)
        if usernames is not None:
            _set_care_team(client=client, membership=membership, usernames=usernames)
        if "external_id" in changes:
            _external_id_free(
                membership=membership, external_id=changes["external_id"], client=client
            )
        if changes:
            client_update(client=client, actor=actor, **changes)
        client = client_get(membership=membership, client_id=client.pk)
        return Response(ClientSerializer(client).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership, actor = caller(request)
        client_erase(client=self._for_change(membership), actor=actor)
        return Response(status=204)
