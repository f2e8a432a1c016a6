"""/api/v1/plans/{id}/documents/ and /api/v1/documents/: request, poll and fetch plan PDFs."""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import audit_read
from common.api import caller
from common.errors import Conflict
from plans.selectors import plan_get

from .models import DocStatus, PlanDocument
from .selectors import document_get
from .services import document_pdf, document_request

PDF_FILENAME = "care-plan.pdf"  # neutral: never the client's name


def document_representation(document: PlanDocument) -> dict[str, Any]:
    return {
        "id": str(document.pk),
        "plan": str(document.plan_id),
        "plan_version": document.plan_version,
        "status": document.status,
        "sha256": document.sha256 or None,
        "size": document.size,
        "error": document.error or None,
        "created_at": document.created_at.isoformat(),
        "finished_at": document.finished_at.isoformat() if document.finished_at else None,
        "pdf": f"/api/v1/documents/{document.pk}/pdf" if document.status == "ready" else None,
    }


class PlanDocuments(APIView):
    required_scope = "export"

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: str) -> Response:
        membership, actor = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        document, _ = document_request(plan=plan, actor=actor)
        status = 200 if document.status == DocStatus.READY else 202
        return Response(
            document_representation(document),
            status=status,
            headers={"Location": f"/api/v1/documents/{document.pk}/"},
        )


def _document(request: Request, pk: str) -> PlanDocument:
    membership, _ = caller(request)
    return document_get(membership=membership, document_id=pk)


class DocumentDetail(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: str) -> Response:
        return Response(document_representation(_document(request, pk)))


class DocumentPdf(APIView):
    required_scope = "export"

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: str) -> HttpResponse:
        document = _document(request, pk)
        if document.status != DocStatus.READY:
            raise Conflict(f"The document is {document.status}; the PDF is not ready.")
        _, actor = caller(request)
        audit_read(
            actor=actor,
            clinic_id=document.clinic_id,
            action="export",
            obj=document,
            client_id=document.plan.client_id,
            download=True,
        )
        response = HttpResponse(document_pdf(document), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{PDF_FILENAME}"'
        return response
