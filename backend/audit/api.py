"""GET /api/v1/audit-events/?client={id}: for clinic admins, ids only."""

from typing import Any

from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from accounts.permissions import ClinicAdmin
from common.api import caller_membership, parse_timestamp
from common.pagination import CursorPagination
from common.selectors import parse_uuid

from .models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    detail = serializers.DictField(
        help_text="What else the event names, by id or code only (never client text): e.g. "
        "`via` (the page or API operation), `download`, `plans`, `clients`. Keys vary by action."
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "client_id",
            "request_id",
            "detail",
            "hash",
        ]


class AuditPagination(CursorPagination):
    ordering = "-id"


class AuditEventList(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    permission_classes = [ClinicAdmin]
    pagination_class = AuditPagination

    def get_queryset(self) -> Any:
        qs = AuditEvent.objects.filter(clinic_id=caller_membership(self.request).clinic_id)
        params = self.request.query_params
        if "client" in params:
            try:
                qs = qs.filter(client_id=parse_uuid(params["client"]))
            except Exception:
                raise ValidationError({"client": ["Use a client id (UUID)."]}) from None
        if "since" in params:
            since = parse_timestamp(params["since"], require_tz=False)
            if since is None:
                raise ValidationError({"since": ["Use an ISO 8601 date-time."]})
            qs = qs.filter(at__gte=since)
        return qs
