"""/api/v1/forms/, /api/v1/intakes/: thin views over forms/ validation and intake services."""

from typing import Any

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.models import Client
from common.api import caller
from common.errors import Conflict
from forms import KINDS, STEPS, STEPS_BY_NAME, work_is_a_topic, work_term
from forms.describe import describe_form
from forms.django_forms import StepInvalid, validate_payload

from .models import Intake
from .selectors import intake_get, intake_steps, step_answers
from .services import (
    IntakeClosed,
    IntakeIncomplete,
    StepNotEnabled,
    intake_complete,
    intake_start,
    intake_submit_step,
)


def intake_representation(intake: Intake, viewer: Any) -> dict[str, Any]:
    steps = intake_steps(intake=intake, viewer=viewer)
    answers = {}
    for step in STEPS:
        value = step_answers(intake=intake, step=step, viewer=viewer)
        if value is not None:
            answers[step.name] = value
    enabled = [s for s in steps if s.enabled]
    return {
        "id": str(intake.pk),
        "client": str(intake.client_id),
        "kind": intake.kind,
        "status": intake.status,
        "form_version": intake.form_version,
        "current_step": intake.current_step,
        "steps": [{"name": s.name, "enabled": s.enabled, "complete": s.complete} for s in steps],
        "progress": {"complete": sum(s.complete for s in enabled), "total": len(enabled)},
        "answers": answers,
        "created_at": intake.created_at,
        "updated_at": intake.updated_at,
        "completed_at": intake.completed_at,
    }


class FormDefinition(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, kind: str) -> Response:
        if kind not in KINDS:
            raise NotFound(f"No form for kind {kind!r}; use one of {', '.join(KINDS)}.")
        return Response(describe_form(kind))


class IntakeStartSerializer(serializers.Serializer):
    client = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=KINDS)


class IntakeCreate(APIView):
    @extend_schema(request=IntakeStartSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        serializer = IntakeStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, actor = caller(request)
        client = Client.objects.filter(
            clinic_id=membership.clinic_id, pk=serializer.validated_data["client"]
        ).first()
        if client is None:
            raise ValidationError({"client": ["No client with this id in your clinic."]})
        intake = intake_start(
            membership=membership,
            actor=actor,
            client=client,
            kind=serializer.validated_data["kind"],
        )
        return Response(
            intake_representation(intake, request.user),
            status=201,
            headers={"Location": f"/api/v1/intakes/{intake.pk}/"},
        )


class IntakeDetail(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: str) -> Response:
        membership, _ = caller(request)
        intake = intake_get(membership=membership, intake_id=pk)
        return Response(intake_representation(intake, request.user))


class IntakeStep(APIView):
    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def put(self, request: Request, pk: str, step: str) -> Response:
        membership, actor = caller(request)
        intake = intake_get(membership=membership, intake_id=pk)
        spec = STEPS_BY_NAME.get(step)
        if spec is None:
            raise NotFound(f"No step named {step[:40]!r}.")
        try:
            answers = validate_payload(
                spec,
                request.data,
                work_term=work_term(intake.answers),
                work_topic=work_is_a_topic(intake.answers),
            )
            intake_submit_step(intake=intake, step=spec, answers=answers, actor=actor)
        except StepInvalid as exc:
            raise ValidationError(exc.errors) from None
        except (StepNotEnabled, IntakeClosed) as exc:
            raise Conflict(str(exc)) from None
        return Response(intake_representation(intake, request.user))


class IntakeComplete(APIView):
    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: str) -> Response:
        membership, actor = caller(request)
        intake = intake_get(membership=membership, intake_id=pk)
        try:
            plan = intake_complete(intake=intake, actor=actor)
        except IntakeIncomplete as exc:
            raise ValidationError(exc.missing) from None
        return Response(
            {"plan": str(plan.pk)},
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/plans/{plan.pk}/"},
        )
