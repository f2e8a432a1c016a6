"""/fhir/...: FHIR R4 JSON (application/fhir+json), scoped like the rest of the API."""

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from common.api import caller
from documents.models import DocStatus, PlanDocument
from documents.selectors import document_get
from documents.services import document_pdf
from forms import KINDS
from intake.selectors import intake_get
from plans.selectors import goal_get, plan_get

from . import mapping

FHIR_JSON = "application/fhir+json"


def _fhir(resource: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(
        resource.model_dump_json(exclude_none=True),
        status=status,
        content_type=f"{FHIR_JSON}; charset=utf-8",
    )


def _not_found() -> HttpResponse:
    body = (
        '{"resourceType":"OperationOutcome","issue":[{"severity":"error",'
        '"code":"not-found","diagnostics":"Not found."}]}'
    )
    return HttpResponse(body, status=404, content_type=FHIR_JSON)


class FhirView(APIView):
    build: Callable[..., Any]

    @extend_schema(responses={(200, FHIR_JSON): OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: str) -> HttpResponse:
        try:
            return _fhir(self.build(request, pk))
        except Http404:
            return _not_found()


class QuestionnaireView(FhirView):
    def build(self, request: Request, pk: str) -> Any:
        if pk not in KINDS:
            raise Http404
        return mapping.questionnaire(pk)


class QuestionnaireResponseView(FhirView):
    def build(self, request: Request, pk: str) -> Any:
        intake = intake_get(membership=caller(request)[0], intake_id=pk)
        return mapping.questionnaire_response(intake)


class ConsentView(FhirView):
    def build(self, request: Request, pk: str) -> Any:
        intake = intake_get(membership=caller(request)[0], intake_id=pk)
        return mapping.consent(intake)


class CarePlanView(FhirView):
    def build(self, request: Request, pk: str) -> Any:
        plan = plan_get(membership=caller(request)[0], plan_id=pk)
        return mapping.care_plan(plan)


class GoalView(FhirView):
    def build(self, request: Request, pk: str) -> Any:
        goal = goal_get(membership=caller(request)[0], goal_id=pk)
        return mapping.goal(goal, goal.plan)


class DocumentReferenceView(FhirView):
    def build(self, request: Request, pk: str) -> Any:
        membership, _ = caller(request)
        document = document_get(membership=membership, document_id=pk)
        ready = document.status == DocStatus.READY
        replaces = list(
            PlanDocument.objects.filter(
                plan_id=document.plan_id, status=DocStatus.READY, created_at__lt=document.created_at
            ).order_by("-created_at")[:1]
        )
        return mapping.document_reference(
            document, document_pdf(document) if ready else None, replaces
        )
