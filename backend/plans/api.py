"""/api/v1/plans/: read and edit a plan (If-Match required), its reviews, and its HTML preview.

The serializers are generated from plans/contract.py, the one definition of a plan edit: the
request rows and the rows of the plan as it is read back come from the same field specs. The
response itself is made by plans.selectors.plan_representation (its content is also hashed for
an agreement); the output serializers describe it, and tests/api check that the two agree."""

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiTypes,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import caller, caller_membership, datetime_param, uuid_param
from common.errors import PreconditionFailed
from common.schema import IF_MATCH, etag_header
from common.serializers import RefusesUnknownFields, StrictCharField, StrictUUIDField
from documents.context import CopyOptions
from documents.services import plan_html
from forms.django_forms import unknown_field_errors

from .contract import (
    AGREEMENT_FIELDS,
    GOAL_FIELDS,
    GOALS_MAX,
    PLAN_FIELDS,
    PROGRESS_MAX,
    PROGRESS_MIN,
    REFERRAL_FIELDS,
    REFERRALS_MAX,
    REVIEW_FIELDS,
    REVIEW_GOAL_FIELDS,
    STEP_FIELDS,
    STEPS_MAX,
    STRENGTHS_MAX,
    SUPPORTS_MAX,
    PlanField,
    PlanInvalid,
    clean_choices,
    clean_text,
    plausible_date,
    text_errors,
)
from .models import PlanStatus
from .selectors import (
    STRENGTH_FIELDS,
    SUPPORT_FIELD,
    plan_get,
    plan_read,
    plan_representation,
    plans_for,
    review_representation,
    reviews_for,
)
from .services import StalePlan, plan_review_record, plan_update


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = (
        "Send the plan's ETag in If-Match (not *), so that an edit never overwrites one you "
        "have not seen."
    )
    default_code = "precondition_required"


WEAK_TAG = (
    "A weak ETag (W/...) never matches an If-Match: send the plan's ETag exactly as it was "
    "given, without W/."
)


def entity_tags(header: str) -> list[str]:
    """The ETags listed in an If-Match header (any one may match, as RFC 9110 says). `*` is not
    taken: it would let an edit overwrite changes its sender has not seen, so it is answered
    like a missing header. A weak tag (W/...) never matches an If-Match."""
    tags = [tag.strip() for tag in header.split(",") if tag.strip()]
    return [] if "*" in tags else tags


class ContractText(StrictCharField):
    """A contract text, cleaned and checked by the contract's own rules (as the web editor's)."""

    def __init__(self, *, spec: PlanField, **kwargs: Any) -> None:
        self.spec = spec
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = clean_text(super().to_internal_value(data))
        errors = text_errors(self.spec, value)
        if errors:
            raise serializers.ValidationError(errors)
        return value


def _drf_field(spec: PlanField, *, partial: bool = False) -> serializers.Field:
    """One contract field as a serializer field. `partial`: the row may be sent in part."""
    required = spec.required and not partial
    if spec.kind == "text":
        return ContractText(
            spec=spec,
            max_length=spec.max_length,
            required=required,
            allow_blank=not spec.required,
            help_text=None if spec.multiline else "One line, without line breaks.",
        )
    if spec.kind == "date":
        return serializers.DateField(required=False, allow_null=True, validators=[plausible_date])
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=list(spec.choices), required=required)
    if spec.kind == "choices":
        return serializers.ListField(
            child=serializers.ChoiceField(choices=list(spec.choices)),
            required=required,
            max_length=len(spec.choices),
        )
    if spec.kind == "int":
        return serializers.IntegerField(
            min_value=PROGRESS_MIN, max_value=PROGRESS_MAX, required=required
        )
    return StrictUUIDField(required=required)


def _row_serializer(
    name: str,
    specs: tuple[PlanField, ...],
    extra: dict[str, Any] | None = None,
    read_only: frozenset[str] = frozenset(),
) -> type[serializers.Serializer]:
    """A row (goal, step, referral) that is complete when new and may be partial with an id:
    the fields it sends are the fields it changes."""

    def validate(self: serializers.Serializer, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("id"):
            missing = [s.name for s in specs if s.required and s.name not in attrs]
            if missing:
                raise serializers.ValidationError({m: ["This field is required."] for m in missing})
        for spec in specs:
            if spec.kind == "text" and spec.name in attrs:
                attrs[spec.name] = clean_text(attrs[spec.name])
                if spec.required and not attrs[spec.name]:
                    raise serializers.ValidationError({spec.name: [spec.required_message]})
        return attrs

    fields: dict[str, Any] = {
        s.name: _drf_field(s, partial=any(x.name == "id" for x in specs)) for s in specs
    }
    # A misspelt field in a row is a 400 naming it, as at the top; what the row's read-back
    # adds (`read_only`) may come back unchanged and is ignored.
    attrs = {**fields, **(extra or {}), "validate": validate, "ignored_fields": read_only}
    return type(name, (RefusesUnknownFields,), attrs)


StepSerializer = _row_serializer("StepSerializer", STEP_FIELDS)
GoalSerializer = _row_serializer(
    "GoalSerializer",
    GOAL_FIELDS,
    {
        "steps": StepSerializer(many=True, required=False, max_length=STEPS_MAX)  # type: ignore[call-arg]
    },
)
ReferralSerializer = _row_serializer(
    "ReferralSerializer", REFERRAL_FIELDS, read_only=frozenset({"name"})
)


class StrengthSerializer(RefusesUnknownFields):
    source = serializers.ChoiceField(choices=list(STRENGTH_FIELDS))  # type: ignore[assignment]
    code = StrictCharField(max_length=40)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["code"] not in STRENGTH_FIELDS[attrs["source"]].codes:
            raise serializers.ValidationError({"code": ["Not a known code for this source."]})
        return attrs


AgreementSerializer = type(
    "AgreementSerializer",
    (RefusesUnknownFields,),
    {
        "ignored_fields": frozenset({"agreed_at", "version", "recorded_at"}),
        **{s.name: _drf_field(s) for s in AGREEMENT_FIELDS},
        # Optional: the hash of the content the client was shown; refused when it differs.
        "content_sha256": serializers.RegexField(r"^[0-9a-f]{64}$", required=False),
    },
)


class PlanPatchSerializer(serializers.Serializer):
    goals = GoalSerializer(many=True, required=False, max_length=GOALS_MAX)  # type: ignore[call-arg]
    strengths = StrengthSerializer(many=True, required=False, max_length=STRENGTHS_MAX)  # type: ignore[call-arg]
    supports = serializers.ListField(
        child=serializers.ChoiceField(choices=SUPPORT_FIELD.codes),
        required=False,
        max_length=SUPPORTS_MAX,
    )
    agreement = AgreementSerializer(required=False)
    referrals = ReferralSerializer(many=True, required=False, max_length=REFERRALS_MAX)  # type: ignore[call-arg]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields.update({s.name: _drf_field(s, partial=True) for s in PLAN_FIELDS})
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                unknown_field_errors(unknown, "This field cannot be changed here.", "a plan")
            )
        ids = [goal["id"] for goal in attrs.get("goals", []) if goal.get("id")]
        twice = {i for i in ids if ids.count(i) > 1}
        if twice:
            raise serializers.ValidationError(
                {
                    f"goals.{n}.id": ["This goal is sent twice in one save."]
                    for n, goal in enumerate(attrs["goals"])
                    if goal.get("id") in twice
                }
            )
        for spec in PLAN_FIELDS:
            if spec.kind == "text" and spec.name in attrs:
                attrs[spec.name] = clean_text(attrs[spec.name])
            if spec.kind == "choices" and spec.name in attrs:
                attrs[spec.name] = clean_choices(spec, attrs[spec.name])
        return attrs


ReviewGoalSerializer = _row_serializer("ReviewGoalSerializer", REVIEW_GOAL_FIELDS)
ReviewSerializer = type(
    "ReviewSerializer",
    (RefusesUnknownFields,),
    {
        "goals": ReviewGoalSerializer(many=True, max_length=GOALS_MAX),  # type: ignore[call-arg]
        **{s.name: _drf_field(s) for s in REVIEW_FIELDS},
    },
)


# The plan as it is read back: the contract's rows plus read-only extras (labels, names, the
# agreement's record, versions, timestamps). Output serializers describe plan_representation;
# they do not produce it (its content is hashed for an agreement, so it has one producer).


def _read_field(spec: PlanField, *, allow_null: bool = False) -> serializers.Field:
    """One contract field as it is read back: the same kind and choices, always present."""
    if spec.kind == "text":
        return serializers.CharField(allow_blank=True, allow_null=allow_null)
    if spec.kind == "date":
        return serializers.DateField(allow_null=True)  # the contract's dates are optional
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=list(spec.choices), allow_null=allow_null)
    if spec.kind == "choices":
        return serializers.ListField(child=serializers.ChoiceField(choices=list(spec.choices)))
    if spec.kind == "int":
        return serializers.IntegerField(min_value=PROGRESS_MIN, max_value=PROGRESS_MAX)
    return serializers.UUIDField(allow_null=allow_null)


def _output_serializer(
    component: str,
    specs: tuple[PlanField, ...],
    extra: dict[str, serializers.Field] | None = None,
    nullable: tuple[str, ...] = (),
) -> type[serializers.Serializer]:
    fields = {s.name: _read_field(s, allow_null=s.name in nullable) for s in specs}
    cls = type(
        f"{component}OutputSerializer", (serializers.Serializer,), {**fields, **(extra or {})}
    )
    return extend_schema_serializer(component_name=component)(cls)


PlanStepOutputSerializer = _output_serializer("PlanStep", STEP_FIELDS)
PlanGoalOutputSerializer = _output_serializer(
    "PlanGoal", GOAL_FIELDS, {"steps": PlanStepOutputSerializer(many=True)}
)
PlanReferralOutputSerializer = _output_serializer(
    "PlanReferral",
    REFERRAL_FIELDS,
    {"name": serializers.CharField(help_text="The agency's name in the directory.")},
)
PlanAgreementOutputSerializer = _output_serializer(
    "PlanAgreement",
    AGREEMENT_FIELDS,
    {
        "agreed_at": serializers.DateTimeField(
            allow_null=True, help_text="When the client agreed; null unless they did."
        ),
        "version": serializers.IntegerField(
            allow_null=True, help_text="The plan version the decision was given on."
        ),
        "content_sha256": serializers.CharField(
            allow_null=True, help_text="The content_sha256 of the plan the client was shown."
        ),
        "recorded_at": serializers.DateTimeField(
            allow_null=True, help_text="When the decision was recorded."
        ),
    },
    # Unanswered until the client has read the plan and decided.
    nullable=("client_decision",),
)


@extend_schema_serializer(component_name="PlanStrength")
class PlanStrengthOutputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=list(STRENGTH_FIELDS))  # type: ignore[assignment]
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


@extend_schema_serializer(component_name="PlanSupport")
class PlanSupportOutputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=SUPPORT_FIELD.codes)
    label = serializers.CharField()  # type: ignore[assignment]


@extend_schema_serializer(component_name="PlanVersion")
class PlanVersionOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    agreed_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="Plan")
class PlanOutputSerializer(serializers.Serializer):
    """One plan as GET and PATCH /api/v1/plans/{id}/ return it."""

    id = serializers.UUIDField()
    client = serializers.UUIDField()
    intake = serializers.UUIDField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PlanStatus.choices)
    goals = PlanGoalOutputSerializer(many=True)
    strengths = PlanStrengthOutputSerializer(many=True)
    supports = PlanSupportOutputSerializer(many=True)
    referrals = PlanReferralOutputSerializer(many=True)
    agreement = PlanAgreementOutputSerializer()
    versions = PlanVersionOutputSerializer(many=True, help_text="The agreed versions.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField(
        help_text="The fingerprint of the content as shown: send it with an agreement."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields.update({s.name: _read_field(s) for s in PLAN_FIELDS})
        return fields


PlanReviewGoalOutputSerializer = _output_serializer("PlanReviewGoal", REVIEW_GOAL_FIELDS)
PlanReviewOutputSerializer = _output_serializer(
    "PlanReview",
    REVIEW_FIELDS,
    {
        "id": serializers.UUIDField(),
        "plan_version": serializers.IntegerField(),
        "created_at": serializers.DateTimeField(),
        "goals": PlanReviewGoalOutputSerializer(many=True),
    },
)


@extend_schema_serializer(component_name="PlanReviewList")
class PlanReviewListOutputSerializer(serializers.Serializer):
    results = PlanReviewOutputSerializer(many=True)


def _invalid(exc: PlanInvalid) -> serializers.ValidationError:
    return serializers.ValidationError(exc.errors)


def _plan_response(membership: Any, pk: str) -> Response:
    representation, etag = plan_read(membership=membership, plan_id=pk)
    return Response(representation, headers={"ETag": etag})


class PlanDetail(APIView):
    error_statuses = {"PATCH": (412, 428)}  # If-Match: an edit only

    @extend_schema(responses=PlanOutputSerializer, parameters=[etag_header(200)])
    def get(self, request: Request, pk: str) -> Response:
        membership, _ = caller(request)
        return _plan_response(membership, pk)

    @extend_schema(
        request=PlanPatchSerializer,
        responses=PlanOutputSerializer,
        parameters=[IF_MATCH, etag_header(200)],
    )
    def patch(self, request: Request, pk: str) -> Response:
        membership, actor = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        serializer = PlanPatchSerializer(
            data=_as_written(request.data, lambda: plan_representation(plan)),
            context={"clinic_id": membership.clinic_id},
        )
        if_match = entity_tags(request.headers.get("If-Match", ""))
        if not if_match:
            raise PreconditionRequired
        serializer.is_valid(raise_exception=True)
        try:
            plan_update(
                plan=plan, actor=actor, changes=serializer.validated_data, if_match=if_match
            )
        except StalePlan:
            if all(tag.startswith("W/") for tag in if_match):  # never a match: say why
                raise PreconditionFailed(WEAK_TAG) from None
            raise PreconditionFailed from None
        except PlanInvalid as exc:
            raise _invalid(exc) from None
        return _plan_response(membership, pk)


def _as_written(data: dict[str, Any], current: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A plan sent back as it was read, taken as a write means it: `supports` as read
    ({code, label}) as their codes, and an `agreement` that records nothing new (its decision
    and words as recorded, or all empty, as a plan with none reads) left out; `content_sha256`
    sent empty is no check."""
    data = dict(data)
    supports = data.get("supports")
    if isinstance(supports, list):
        data["supports"] = [s.get("code") if isinstance(s, dict) else s for s in supports]
    agreement = data.get("agreement")
    if isinstance(agreement, dict):
        recorded = current()["agreement"]  # the plan as read, built only for an agreement
        words = [spec.name for spec in AGREEMENT_FIELDS]
        blank = (None, "")
        read_only = {"agreed_at", "version", "recorded_at", "content_sha256"}
        if set(agreement) <= {*words, *read_only} and all(
            agreement.get(n) == recorded.get(n)
            or (agreement.get(n) in blank and recorded.get(n) in blank)
            for n in words
        ):
            del data["agreement"]
        elif agreement.get("content_sha256", "") is None:
            data["agreement"] = {k: v for k, v in agreement.items() if k != "content_sha256"}
    return data


class PlanReviews(APIView):
    @extend_schema(responses=PlanReviewListOutputSerializer)
    def get(self, request: Request, pk: str) -> Response:
        membership, _actor = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        return Response({"results": [review_representation(r) for r in reviews_for(plan)]})

    @extend_schema(request=ReviewSerializer, responses={201: PlanReviewOutputSerializer})
    def post(self, request: Request, pk: str) -> Response:
        membership, actor = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            review = plan_review_record(
                plan=plan, actor=actor, goals=data["goals"], note=clean_text(data.get("note", ""))
            )
        except PlanInvalid as exc:
            raise _invalid(exc) from None
        saved = next(r for r in reviews_for(plan) if r.pk == review.pk)
        return Response(review_representation(saved), status=201)


PREVIEW_COPIES = ("clinic", "client")


class PlanPreview(APIView):
    required_scope = "export"  # the same content as the PDF: tokens need the same scope

    @extend_schema(
        responses={(200, "text/html"): OpenApiTypes.STR},
        parameters=[
            OpenApiParameter(
                "copy",
                OpenApiTypes.STR,
                enum=PREVIEW_COPIES,
                description="`clinic` (the default): the complete plan, in the clinic's "
                "language. `client`: the client's copy as they chose it (the parts in "
                "`client_copy_sections`), in the client's language, as it goes home.",
            )
        ],
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        copy = request.query_params.get("copy", "clinic")
        if copy not in PREVIEW_COPIES:
            raise serializers.ValidationError({"copy": ["Use clinic or client."]})
        membership, _ = caller(request)
        plan = plan_get(membership=membership, plan_id=pk)
        options = CopyOptions.of(copy=copy, discreet=False, sections=plan.client_copy_sections)
        response = HttpResponse(plan_html(plan, options), content_type="text/html; charset=utf-8")
        # The preview is shown inside the plan page only; it runs no script of any kind.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        )
        response["X-Frame-Options"] = "SAMEORIGIN"  # shown in an iframe on the plan page
        return response


class PlanSummarySerializer(serializers.Serializer):
    """A plan in a list: its state, not its contents (read one plan for those)."""

    id = serializers.UUIDField()
    client = serializers.UUIDField(source="client_id")
    intake = serializers.UUIDField(source="intake_id")
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PlanStatus.choices)
    review_date = serializers.DateField(allow_null=True)
    agreed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("client", OpenApiTypes.UUID, description="Only this client's."),
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="Changed at or after."
            ),
        ]
    )
)
class PlanList(generics.ListAPIView):
    """The plans the caller may read, newest first."""

    serializer_class = PlanSummarySerializer

    def get_queryset(self) -> Any:
        qs = plans_for(membership=caller_membership(self.request))
        client = uuid_param(self.request, "client")
        if client is not None:
            qs = qs.filter(client_id=client)
        since = datetime_param(self.request, "updated_since")
        if since is not None:
            qs = qs.filter(updated_at__gte=since)
        return qs
