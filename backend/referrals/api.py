"""/api/v1/referral-agencies/ (read: members; write: clinic admins) and plan suggestions."""

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ClinicAdmin, ClinicMember
from audit.services import audit_record
from common.api import caller, caller_membership
from common.serializers import RefusesUnknownFields, StrictBooleanField, StrictCharField
from forms import STEPS_BY_NAME
from plans.selectors import plan_get

from .models import EDITABLE_FIELDS, SAFETY_SERVICES, ReferralAgency, by_name
from .selectors import agencies_for, agency_get, suggestions
from .services import agency_create, agency_update

SERVICE_CODES = STEPS_BY_NAME["supports"].get_field("referral_needs").codes


class AgencySerializer(RefusesUnknownFields, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
    }
    name = StrictCharField(max_length=200)
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=SERVICE_CODES),
        max_length=len(SERVICE_CODES),
        required=False,
    )
    safety_services = serializers.ListField(
        child=serializers.ChoiceField(choices=[code for code, _ in SAFETY_SERVICES]),
        max_length=len(SAFETY_SERVICES),
        required=False,
    )
    contact = StrictCharField(max_length=1000, required=False, allow_blank=True)
    vetted_by = StrictCharField(max_length=200, required=False, allow_blank=True)
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True)

    class Meta:
        model = ReferralAgency
        fields = ["id", *EDITABLE_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_services(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate_safety_services(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class _AgencyPermissions:
    def get_permissions(self) -> list[Any]:
        request = self.request  # type: ignore[attr-defined]
        return [ClinicMember() if request.method in SAFE_METHODS else ClinicAdmin()]


class AgencyListCreate(_AgencyPermissions, generics.ListCreateAPIView):
    serializer_class = AgencySerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return sorted(agencies_for(membership=caller_membership(self.request)), key=by_name)

    def perform_create(self, serializer: Any) -> None:
        membership, actor = caller(self.request)
        agency_create(
            save=lambda: serializer.save(clinic_id=membership.clinic_id),
            actor=actor,
            clinic_id=membership.clinic_id,
        )


class AgencyDetail(_AgencyPermissions, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = AgencySerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self) -> ReferralAgency:
        return agency_get(membership=caller_membership(self.request), agency_id=self.kwargs["pk"])

    def perform_update(self, serializer: Any) -> None:
        membership, actor = caller(self.request)
        agency_update(
            save=serializer.save,
            actor=actor,
            clinic_id=membership.clinic_id,
            fields=list(serializer.validated_data),
        )

    def perform_destroy(self, instance: ReferralAgency) -> None:
        from rest_framework.exceptions import ValidationError

        from .models import PlanReferral

        if PlanReferral.objects.filter(agency=instance).exists():
            raise ValidationError(
                {"id": ["Plans refer to this agency; keep it, or remove it from those plans."]}
            )
        membership, actor = caller(self.request)
        audit_record(actor=actor, clinic_id=membership.clinic_id, action="erase", obj=instance)
        instance.delete()


class SuggestionSerializer(serializers.Serializer):
    agency = serializers.UUIDField()
    name = serializers.CharField()
    matches = serializers.ListField(
        child=serializers.ChoiceField(choices=SERVICE_CODES), help_text="The needs it meets."
    )
    affirming = serializers.BooleanField()
    peer_led = serializers.BooleanField()
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why it is placed where it is, in plain words."
    )


class SuggestionsSerializer(serializers.Serializer):
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=SERVICE_CODES),
        help_text="The services the client asked about in the intake.",
    )
    suggestions = SuggestionSerializer(many=True)


class ReferralSuggestions(APIView):
    @extend_schema(responses=SuggestionsSerializer)
    def get(self, request: Request, pk: str) -> Response:
        membership, _ = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        needs = plan.intake.answers.get("supports", {}).get("referral_needs", [])
        return Response(
            {"needs": needs, "suggestions": suggestions(membership=membership, needs=needs)}
        )
