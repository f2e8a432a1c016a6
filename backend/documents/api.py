"""/api/v1/plans/{id}/documents/ and /api/v1/documents/: request, poll and fetch plan PDFs."""

import re
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from audit.services import audit_read
from common.api import caller, caller_again, caller_membership, datetime_param, uuid_param
from common.errors import Conflict
from common.serializers import RefusesUnknownFields, StrictBooleanField, StrictCharField
from language.api import LanguageFindingSerializer
from language.services import plan_findings_for_api
from plans.contract import SECTION_CODES
from plans.models import PlanStatus, TreatmentPlan
from plans.selectors import plan_get, with_contents

from .context import CopyOptions
from .models import Copy, DocStatus, PlanDocument
from .selectors import document_again, document_get, document_wait, documents_for
from .services import (
    FILE_LOST,
    FILE_UNREADABLE,
    DocumentFileLost,
    DocumentUnreadable,
    document_pdf,
    document_request,
)


def document_representation(document: PlanDocument) -> dict[str, Any]:
    return {
        "id": str(document.pk),
        "plan": str(document.plan_id),
        "plan_version": document.plan_version,
        "plan_saved_at": document.plan_saved_at.isoformat() if document.plan_saved_at else None,
        "plan_status": document.plan_status or None,
        "status": document.status,
        "copy": document.copy,
        "discreet": document.discreet,
        # The clinic's copy is complete (rows made by exports or before options existed too).
        "sections": list(SECTION_CODES if document.copy == Copy.CLINIC else document.sections),
        "passphrase_protected": document.protected,
        "sha256": document.sha256 or None,
        "size": document.size,
        "error": document.error or None,
        "created_at": document.created_at.isoformat(),
        "finished_at": document.finished_at.isoformat() if document.finished_at else None,
        "pdf": f"/api/v1/documents/{document.pk}/pdf" if document.status == "ready" else None,
    }


class DocumentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    plan = serializers.UUIDField(source="plan_id")
    plan_version = serializers.IntegerField()
    plan_saved_at = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "When the plan this PDF shows was saved (a draft keeps its version number through "
            "saves): the PDF is of the plan as it stood then. Null for documents made before "
            "this was recorded."
        ),
    )
    plan_status = serializers.ChoiceField(
        choices=PlanStatus.choices,
        allow_null=True,
        help_text=(
            "Whether the plan was agreed or a draft at that save, as the PDF says: a draft's PDF "
            "is never final. Null for documents made before this was recorded."
        ),
    )
    status = serializers.ChoiceField(choices=DocStatus.choices)
    copy = serializers.ChoiceField(choices=Copy.choices)
    discreet = serializers.BooleanField()
    sections = serializers.ListField(child=serializers.ChoiceField(choices=SECTION_CODES))
    passphrase_protected = serializers.BooleanField()
    sha256 = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    pdf = serializers.CharField(allow_null=True, help_text="Where to fetch the PDF once ready.")

    def to_representation(self, instance: PlanDocument) -> dict[str, Any]:
        return document_representation(instance)


class DocumentRequestSerializer(RefusesUnknownFields, serializers.Serializer):
    """The optional body of a PDF request (DESIGN, "The client's copy")."""

    wording_reviewed = StrictBooleanField(required=False, default=False)
    copy = serializers.ChoiceField(choices=Copy.choices, required=False, default=Copy.CLIENT)
    discreet = StrictBooleanField(required=False, default=False)
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=SECTION_CODES),
        required=False,
        max_length=len(SECTION_CODES),
        help_text="Default: the plan's client_copy_sections.",
    )
    passphrase = StrictCharField(
        required=False,
        min_length=4,
        max_length=128,
        trim_whitespace=False,
        write_only=True,
        # Said plainly (and, on the plan page, in its language): "Ensure this field has…"
        error_messages={
            "min_length": gettext_lazy("Use at least 4 characters."),
            "max_length": gettext_lazy("Use at most 128 characters."),
        },
        help_text="The PDF opens only with it (AES-256). Never stored, logged or queued in clear.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["copy"] == Copy.CLINIC:
            # The clinic's copy stays complete: choosing parts of it would be a surprise.
            for name in ("sections", "discreet"):
                if attrs.get(name):
                    raise serializers.ValidationError(
                        {name: ["The clinic's copy is always complete; ask for the client's."]}
                    )
        return attrs

    def options(self, plan: Any) -> CopyOptions:
        data = self.validated_data
        sections = data.get("sections")
        return CopyOptions.of(
            copy=data["copy"],
            discreet=data["discreet"],
            sections=plan.client_copy_sections if sections is None else sections,
        )


class FindingSerializer(LanguageFindingSerializer):
    """A language-check finding (the same fields as the language check's), with where in the
    plan it is and the text it is in."""

    field = serializers.CharField(help_text="Where in the plan, e.g. goals.0.clinical_restatement.")
    where = serializers.CharField(help_text="The same, in words.")
    text = serializers.CharField()


WORDING_REVIEW_CODES = ["wording_review"]  # the schema's CodeEnum (settings)


class WordingReviewSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=WORDING_REVIEW_CODES)
    detail = serializers.CharField()
    findings = FindingSerializer(many=True)


WAIT = OpenApiParameter(
    "wait",
    {"type": "number", "minimum": 0, "maximum": settings.DOCUMENT_WAIT_MAX_SECONDS},
    description="Seconds (at most 10) to wait for a queued or rendering document: the answer "
    "comes as soon as it is ready or failed, or when the time is up with the status then. "
    "Spares polling. When the server already has its share of waiting requests (or you have "
    "yours), it answers at once; an answer that is not ready carries `Retry-After`.",
)
SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")
RETRY_AFTER = {"Retry-After": "1"}


def wait_param(request: Request) -> float:
    """`?wait=N`: seconds, from 0 to DOCUMENT_WAIT_MAX_SECONDS, written as plain decimal digits
    (no sign, exponent, underscore or other script's digits); anything else is a 400."""
    raw = request.query_params.get("wait")
    if raw is None:
        return 0.0
    limit = settings.DOCUMENT_WAIT_MAX_SECONDS
    if not SECONDS.fullmatch(raw) or float(raw) > limit:
        raise serializers.ValidationError({"wait": [f"Use a number of seconds from 0 to {limit}."]})
    return float(raw)


def pdf_response(request: Any, document: PlanDocument, actor: Any) -> HttpResponse:
    """A ready document's PDF, as the API and the web page send it, the download recorded. A
    HEAD request gets the same headers (the length included), no file and no download record
    (the caller's read of the document is recorded, as a status read is). DocumentFileLost
    when the stored file is gone or damaged (the document is then failed), DocumentUnreadable
    when this server's keys cannot open it."""
    # A HEAD reads and checks the stored file as a download does, so that it never promises
    # a PDF the download could not give.
    pdf = document_pdf(document)
    if request.method == "HEAD":
        response = HttpResponse(content_type="application/pdf")
        response["Content-Length"] = str(len(pdf))
    else:
        audit_read(
            actor=actor,
            clinic_id=document.clinic_id,
            action="export",
            obj=document,
            client_id=document.plan.client_id,
            download=True,
        )
        response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


class PlanDocuments(APIView):
    required_scope = "export"

    error_statuses = (409,)

    @extend_schema(
        request=DocumentRequestSerializer,
        responses={202: DocumentSerializer, 200: DocumentSerializer, 409: WordingReviewSerializer},
        parameters=[WAIT],
        description="202 with Location while it renders; 200 when this content is ready; 409 "
        "`wording_review` with the findings while clinician-written text has unreviewed "
        'language-check findings (send `"wording_reviewed": true` once reviewed). With '
        "`?wait=N` the answer waits for the render (200 once ready).",
    )
    def post(self, request: Request, pk: str) -> Response:
        # The options go in the body: one in the address (a passphrase!) is refused, never
        # quietly left out of the copy made.
        unknown = sorted(set(request.query_params) - {"wait"})
        if unknown:
            raise serializers.ValidationError(
                {
                    name: ["Not a parameter of this request; send it in the JSON body."]
                    for name in unknown
                }
            )
        seconds = wait_param(request)
        membership, actor = caller(request)
        # The plan row is all a request needs (the worker loads the contents to render).
        plan = plan_get(membership=membership, plan_id=pk, contents=False)
        serializer = DocumentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data["wording_reviewed"]:
            # Like the web flow: the clinician sees the wording findings before any PDF.
            findings = plan_findings_for_api(
                with_contents(TreatmentPlan.objects.all()).get(pk=plan.pk)
            )
            if findings:
                return Response(
                    {
                        "code": "wording_review",
                        "detail": "Review the wording first, then send "
                        '{"wording_reviewed": true} to prepare the PDF.',
                        "findings": findings,
                    },
                    status=409,
                )
        document, _ = document_request(
            plan=plan,
            actor=actor,
            options=serializer.options(plan),
            passphrase=serializer.validated_data.get("passphrase", ""),
        )
        document = _waited(request, document, seconds)
        status = 200 if document.status == DocStatus.READY else 202
        return Response(
            document_representation(document),
            status=status,
            headers={"Location": f"/api/v1/documents/{document.pk}/", **_not_ready(document)},
        )


def _document(request: Request, pk: str) -> PlanDocument:
    membership, _ = caller(request)
    return document_get(membership=membership, document_id=pk)


def _waited(request: Request, document: PlanDocument, seconds: float) -> PlanDocument:
    """The document as it is after waiting up to `seconds` for it to finish (`?wait=`). Who
    waited may have lost access meanwhile (a token revoked, taken off the client's care team,
    the client erased): asked again, as at the start, before anything is shown."""
    unfinished = document.status in (DocStatus.QUEUED, DocStatus.RENDERING)
    if not (seconds and unfinished):
        return document
    caller_key = request.auth.pk if request.auth is not None else request.user.pk
    if not document_wait(document_id=document.pk, seconds=seconds, caller=caller_key):
        return document
    if isinstance(request.auth, ApiToken):  # the usual case, checked again in one query
        again = document_again(
            membership=caller_membership(request), document_id=document.pk, token_id=request.auth.pk
        )
        if again is not None:
            return again
    return document_get(membership=caller_again(request), document_id=document.pk, audited=False)


def _not_ready(document: PlanDocument) -> dict[str, str]:
    """Headers for an answer whose document is still queued or rendering."""
    return RETRY_AFTER if document.status in (DocStatus.QUEUED, DocStatus.RENDERING) else {}


class DocumentDetail(APIView):
    @extend_schema(responses=DocumentSerializer, parameters=[WAIT])
    def get(self, request: Request, pk: str) -> Response:
        seconds = wait_param(request)
        document = _waited(request, _document(request, pk), seconds)
        return Response(document_representation(document), headers=_not_ready(document))


def _failed(document: PlanDocument) -> Conflict:
    """The 409 for a failed document: what happened and what to do (`file_lost` when its stored
    file is gone or damaged)."""
    return Conflict(document.error, code="file_lost" if document.error == FILE_LOST else None)


class Unreadable(APIException):
    status_code = 503
    default_detail = FILE_UNREADABLE
    default_code = "unavailable"
    wait = 30  # DRF sends it as Retry-After


class DocumentPdf(APIView):
    required_scope = "export"
    error_statuses = (409, 503)

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        parameters=[WAIT],
        description="The PDF once ready; 409 while it is queued or rendering, or when it failed "
        "(also when its stored file is gone or damaged: code `file_lost`, the document is then "
        "failed, and asking for the PDF again renders it anew). "
        "With `?wait=N` a queued or rendering document is waited for and the PDF comes as soon "
        "as it is ready: a client can request the PDF and fetch it in two requests, without "
        "reading the status.",
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        seconds = wait_param(request)
        membership, actor = caller(request)
        # One audit event for a download: the export read below, once the PDF is sent. A HEAD
        # sends no file and records a read, as a status read does.
        head = request.method == "HEAD"
        document = _waited(
            request, document_get(membership=membership, document_id=pk, audited=head), seconds
        )
        if document.status == DocStatus.FAILED and document.error:  # what happened, what to do
            raise _failed(document)
        if document.status != DocStatus.READY:
            conflict = Conflict(f"The document is {document.status}; the PDF is not ready.")
            if _not_ready(document):
                conflict.wait = 1  # type: ignore[attr-defined]  # DRF sends it as Retry-After
            raise conflict
        try:
            return pdf_response(request, document, actor)
        except DocumentFileLost:
            raise _failed(document) from None
        except DocumentUnreadable:
            raise Unreadable from None


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("plan", OpenApiTypes.UUID, description="Only this plan's."),
            OpenApiParameter(
                "updated_since",
                OpenApiTypes.DATETIME,
                description="Changed at or after (a status change counts: queued, ready...).",
            ),
        ]
    )
)
class DocumentList(generics.ListAPIView):
    """The plan documents the caller may read, newest first."""

    serializer_class = DocumentSerializer

    def get_queryset(self) -> Any:
        qs = documents_for(membership=caller_membership(self.request))
        plan = uuid_param(self.request, "plan")
        if plan is not None:
            qs = qs.filter(plan_id=plan)
        since = datetime_param(self.request, "updated_since")
        if since is not None:
            qs = qs.filter(updated_at__gte=since)
        return qs
