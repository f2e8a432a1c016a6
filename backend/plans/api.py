"""/api/v1/plans/: read and edit a plan (with If-Match), and its HTML preview."""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import caller
from common.errors import PreconditionFailed
from common.serializers import StrictCharField
from documents.services import plan_html
from referrals.models import ClientDecision as ReferralDecision
from referrals.models import ReferralAgency

from .models import TEXT_MAX, ClientDecision, StepOwner
from .selectors import STRENGTH_FIELDS, SUPPORT_FIELD, plan_get, plan_representation
from .services import StalePlan, plan_etag, plan_update


class StepSerializer(serializers.Serializer):
    description = StrictCharField(max_length=500)
    who = serializers.ChoiceField(choices=StepOwner.choices, default=StepOwner.CLIENT)
    frequency = StrictCharField(max_length=100, required=False, allow_blank=True)


class GoalSerializer(serializers.Serializer):
    id = serializers.UUIDField(required=False)
    client_words = StrictCharField(max_length=500, trim_whitespace=False)
    clinical_restatement = StrictCharField(max_length=1000, required=False, allow_blank=True)
    target_date = serializers.DateField(required=False, allow_null=True)
    steps = StepSerializer(many=True, required=False, max_length=20)  # type: ignore[call-arg]


class StrengthSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=list(STRENGTH_FIELDS))  # type: ignore[assignment]
    code = StrictCharField(max_length=40)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["code"] not in STRENGTH_FIELDS[attrs["source"]].codes:
            raise serializers.ValidationError({"code": ["Not a known code for this source."]})
        return attrs


class AgreementSerializer(serializers.Serializer):
    client_decision = serializers.ChoiceField(choices=ClientDecision.choices, required=False)
    client_comment = StrictCharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    client_signed_name = StrictCharField(max_length=100, required=False, allow_blank=True)
    clinician_signed_name = StrictCharField(max_length=100, required=False, allow_blank=True)


class ReferralSerializer(serializers.Serializer):
    agency = serializers.UUIDField()
    client_decision = serializers.ChoiceField(
        choices=ReferralDecision.choices, default=ReferralDecision.UNDECIDED
    )
    note = StrictCharField(max_length=1000, required=False, allow_blank=True)

    def validate_agency(self, value: Any) -> ReferralAgency:
        agency = ReferralAgency.objects.filter(
            clinic_id=self.context["clinic_id"], pk=value
        ).first()
        if agency is None:
            raise serializers.ValidationError("No agency with this id in your clinic's directory.")
        return agency


class PlanPatchSerializer(serializers.Serializer):
    goals = GoalSerializer(many=True, required=False, max_length=10)  # type: ignore[call-arg]
    strengths = StrengthSerializer(many=True, required=False, max_length=40)  # type: ignore[call-arg]
    strengths_notes = StrictCharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    supports = serializers.ListField(
        child=serializers.ChoiceField(choices=SUPPORT_FIELD.codes), required=False, max_length=20
    )
    supports_notes = StrictCharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    safety_plan = StrictCharField(max_length=TEXT_MAX, required=False, allow_blank=True)
    review_date = serializers.DateField(required=False, allow_null=True)
    agreement = AgreementSerializer(required=False)
    referrals = ReferralSerializer(many=True, required=False, max_length=30)  # type: ignore[call-arg]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in sorted(unknown)}
            )
        return attrs


def _plan_response(plan: Any, status: int = 200) -> Response:
    return Response(plan_representation(plan), status=status, headers={"ETag": plan_etag(plan)})


class PlanDetail(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: str) -> Response:
        membership, _ = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        return _plan_response(plan)

    @extend_schema(request=PlanPatchSerializer, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, pk: str) -> Response:
        membership, actor = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        serializer = PlanPatchSerializer(
            data=request.data, context={"clinic_id": membership.clinic_id}
        )
        serializer.is_valid(raise_exception=True)
        try:
            plan_update(
                plan=plan,
                actor=actor,
                changes=serializer.validated_data,
                if_match=request.headers.get("If-Match"),
            )
        except StalePlan:
            raise PreconditionFailed from None
        return _plan_response(plan_get(membership=membership, plan_id=pk))


class PlanPreview(APIView):
    @extend_schema(responses={(200, "text/html"): OpenApiTypes.STR})
    def get(self, request: Request, pk: str) -> HttpResponse:
        membership, _ = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        response = HttpResponse(plan_html(plan), content_type="text/html; charset=utf-8")
        # The preview is shown inside the plan page only; it runs no script of any kind.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        )
        response["X-Frame-Options"] = "SAMEORIGIN"  # shown in an iframe on the plan page
        return response
