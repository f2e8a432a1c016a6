"""GET /api/v1/me: who the caller is, for integrators checking a token."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import caller

from .models import ApiToken, Role, Scope


class MeSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    clinic = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Role.choices)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        allow_null=True,
        help_text="The token's scopes; null for a browser session.",
    )


class Me(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        membership, user = caller(request)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response(
            {
                "user": user.pk,
                "clinic": str(membership.clinic_id),
                "role": membership.role,
                "scopes": token.scopes if token else None,
            }
        )
