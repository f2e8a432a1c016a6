"""/api/v1/exports/: bulk PDF export of a date range, with progress."""

from datetime import date
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.permissions import membership_of
from common.api import caller
from common.errors import Conflict
from common.schema import location_header
from common.selectors import get_or_404
from common.serializers import RefusesUnknownFields

from .models import ExportJob, ExportStatus
from .services import (
    EARLIEST,
    LATEST,
    export_file_present,
    export_request,
    export_zip_chunks,
)


def _in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError(
            f"Use a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
        )
    return value


class CanExport(BasePermission):
    """A clinic admin in the browser, or a token with the export scope."""

    def has_permission(self, request: Any, view: Any) -> bool:
        membership = membership_of(request.user)
        if membership is None:
            return False
        if isinstance(request.auth, ApiToken):
            return request.auth.has_scope("export")
        return membership.is_admin


class ExportRequestSerializer(RefusesUnknownFields, serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()

    def validate_date_from(self, value: date) -> date:
        return _in_range(value)

    def validate_date_to(self, value: date) -> date:
        return _in_range(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": ["Must not be before date_from."]})
        if (attrs["date_to"] - attrs["date_from"]).days > 3660:
            raise serializers.ValidationError({"date_to": ["Export at most ten years at once."]})
        return attrs


class ExportSerializer(serializers.ModelSerializer):
    """An export job as the API returns it: the response is made by this serializer."""

    error = serializers.SerializerMethodField(help_text="Why the export failed, or null.")
    zip = serializers.SerializerMethodField(
        help_text="Where to download the zip once the status is ready; null until then."
    )

    class Meta:
        model = ExportJob
        fields = ["id", "status", "done", "total", "date_from", "date_to", "size", "error", "zip"]
        read_only_fields = fields
        extra_kwargs = {
            "done": {"help_text": "Plans rendered so far."},
            "total": {"help_text": "Plans in the range."},
            "size": {"help_text": "The zip's size in bytes, once it is assembled."},
        }

    def get_error(self, job: ExportJob) -> str | None:
        return job.error or None

    def get_zip(self, job: ExportJob) -> str | None:
        return f"/api/v1/exports/{job.pk}/zip" if job.status == ExportStatus.READY else None


class ExportCreate(APIView):
    permission_classes = [CanExport]

    @extend_schema(
        request=ExportRequestSerializer,
        responses={202: OpenApiResponse(ExportSerializer, description="Queued; poll Location.")},
        parameters=[location_header(202, "Where to follow the export's progress.")],
    )
    def post(self, request: Request) -> Response:
        serializer = ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, actor = caller(request)
        job = export_request(
            membership=membership,
            actor=actor,
            day_from=serializer.validated_data["date_from"],
            day_to=serializer.validated_data["date_to"],
        )
        return Response(
            ExportSerializer(job).data,
            status=202,
            headers={"Location": f"/api/v1/exports/{job.pk}/"},
        )


def _job(request: Request, pk: str) -> ExportJob:
    membership, actor = caller(request)
    return get_or_404(
        ExportJob.objects.filter(clinic_id=membership.clinic_id, requested_by=actor), pk
    )


class ExportDetail(APIView):
    permission_classes = [CanExport]

    @extend_schema(responses=ExportSerializer)
    def get(self, request: Request, pk: str) -> Response:
        return Response(ExportSerializer(_job(request, pk)).data)


class ExportZip(APIView):
    permission_classes = [CanExport]
    error_statuses = (409,)  # not ready yet

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: str) -> StreamingHttpResponse:
        job = _job(request, pk)
        if job.status != ExportStatus.READY:
            raise Conflict(f"The export is {job.status}; the file is not ready.")
        if not export_file_present(job):
            raise Conflict(job.error, code="file_lost")
        response = StreamingHttpResponse(export_zip_chunks(job), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="care-plans-export.zip"'
        return response
