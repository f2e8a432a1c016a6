"""/api/v1/forms/, /api/v1/intakes/: thin views over forms/ validation and intake services."""

from typing import Any, get_args

from django.conf import settings
from django.http import Http404
from django.utils import translation
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiTypes,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.selectors import client_for_care
from common.api import caller, caller_membership, datetime_param, uuid_param
from common.errors import Conflict
from common.schema import RawSchemaSerializer
from common.serializers import RefusesUnknownFields
from forms import KINDS, STEPS, STEPS_BY_NAME, form_kwargs
from forms.describe import describe_form
from forms.django_forms import StepInvalid, validate_payload
from forms.spec import Audience, Field, FieldKind, Sensitivity, Step

from .models import Intake, Status
from .selectors import intake_get, intake_list, intake_steps, private_checks, step_answers
from .services import (
    IntakeClosed,
    IntakeIncomplete,
    StepNotEnabled,
    intake_complete,
    intake_start,
    intake_submit_step,
)


def intake_representation(intake: Intake, viewer: Any) -> dict[str, Any]:
    """The joint intake: never the couple private checks (see IntakePrivateChecks); the
    reflection only for its author, as before."""
    steps = intake_steps(intake=intake, viewer=viewer)
    answers = {}
    for step in STEPS:
        if step.audience == "care_team":
            continue
        value = step_answers(intake=intake, step=step, viewer=viewer)
        if value is not None:
            answers[step.name] = value
    # Progress counts the client's steps, as the wizard does.
    enabled = [s for s in steps if s.enabled and not s.clinician_only]
    return {
        "id": str(intake.pk),
        "client": str(intake.client_id),
        "kind": intake.kind,
        "status": intake.status,
        "form_version": intake.form_version,
        "current_step": intake.current_step,
        "steps": [
            {
                "name": s.name,
                "enabled": s.enabled,
                "complete": s.complete,
                "clinician_only": s.clinician_only,
            }
            for s in steps
        ],
        "progress": {"complete": sum(s.complete for s in enabled), "total": len(enabled)},
        "answers": answers,
        "created_at": intake.created_at,
        "updated_at": intake.updated_at,
        "completed_at": intake.completed_at,
    }


class StepStateSerializer(serializers.Serializer):
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    complete = serializers.BooleanField()
    clinician_only = serializers.BooleanField(
        help_text="Written by the clinician on a page of its own, never in the client's wizard."
    )


class ProgressSerializer(serializers.Serializer):
    complete = serializers.IntegerField()
    total = serializers.IntegerField()


class IntakeSerializer(serializers.Serializer):
    """One intake as the API returns it (the response of start, read and every step save)."""

    id = serializers.UUIDField()
    client = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=KINDS)
    status = serializers.ChoiceField(choices=Status.choices)
    form_version = serializers.CharField()
    current_step = serializers.CharField()
    steps = StepStateSerializer(many=True)
    progress = ProgressSerializer()
    answers = serializers.DictField(
        child=serializers.DictField(),
        help_text="{step: {field: value}} as defined by GET /api/v1/forms/{kind}/.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class StepSavedSerializer(IntakeSerializer):
    not_recorded = serializers.ListField(
        child=serializers.CharField(),
        help_text="Fields you sent that the client's recording preference keeps out of the "
        "record: they were dropped, not stored.",
    )
    removed = serializers.ListField(
        child=serializers.CharField(),
        help_text="Answers on other steps that this save switched off and deleted (choosing "
        '"keep going as I am" lets "what would you like to change" go): whole steps by name '
        '("work_context"), single answers as "step.field" ("harm_reduction.change_what"). '
        "Tell the client, as the wizard does.",
    )


class CompletedSerializer(serializers.Serializer):
    plan = serializers.UUIDField(help_text="The draft plan, at /api/v1/plans/{plan}/.")


_CONDITION = {"$ref": "#/components/schemas/FormCondition"}


class FormConditionSerializer(RawSchemaSerializer):
    """forms.spec's conditions as `describe()` writes them: recursive, so written as JSON Schema."""

    json_schema = {
        "type": "object",
        "description": "When a step or field applies, over the intake kind and earlier "
        "answers. One form per object: {field, in}, {field, not_in}, {field, has}, {kind}, "
        "{all: [...]}, {by_kind: {kind: condition}} or {never: true}.",
        "properties": {
            "field": {"type": "string", "description": "step.field"},
            "in": {"type": "array", "items": {"type": "string"}},
            "not_in": {"type": "array", "items": {"type": "string"}},
            "has": {"type": "string"},
            "kind": {"type": "string"},
            "all": {"type": "array", "items": _CONDITION},
            "by_kind": {"type": "object", "additionalProperties": _CONDITION},
            "never": {"type": "boolean"},
        },
        "additionalProperties": False,
    }


class FormChoiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    general_label = serializers.CharField(
        allow_null=True, help_text="The label when work is not a topic for this client."
    )
    plan_label = serializers.CharField(help_text="How the plan says it to the client.")
    shows_term = serializers.BooleanField()
    exclusive = serializers.BooleanField(help_text="Chosen on its own only.")


class FormFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=get_args(FieldKind))
    label = serializers.CharField()  # type: ignore[assignment]
    general_label = serializers.CharField(allow_null=True)
    help = serializers.CharField(allow_blank=True)
    why = serializers.CharField(allow_blank=True, help_text="Why this is asked.")
    who_sees = serializers.CharField()
    recorded_when = FormConditionSerializer(
        allow_null=True, help_text="Stored only when this holds (the recording preference)."
    )
    required = serializers.BooleanField()  # type: ignore[assignment]
    optional = serializers.BooleanField()
    required_unless = serializers.CharField(allow_null=True)
    enabled_when = FormConditionSerializer(allow_null=True)
    kept_unless_sent = serializers.BooleanField()
    sensitivity = serializers.ChoiceField(choices=get_args(Sensitivity))
    own_words = serializers.BooleanField(help_text="The client's own words, kept verbatim.")
    initial = serializers.JSONField(
        allow_null=True, help_text="Always null: no answer is ever chosen in advance."
    )
    max_length = serializers.IntegerField(required=False, help_text="Text fields only.")
    min_items = serializers.IntegerField(required=False, help_text="List fields only.")
    max_items = serializers.IntegerField(required=False, help_text="List fields only.")
    choices = FormChoiceSerializer(many=True, required=False)


class FormStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    intro = serializers.CharField(allow_blank=True)
    clinician_only = serializers.BooleanField()
    audience = serializers.ChoiceField(choices=get_args(Audience))
    enabled_when = FormConditionSerializer(allow_null=True)
    fields = FormFieldSerializer(many=True)  # type: ignore[assignment]


class FormTermsSerializer(serializers.Serializer):
    shows_term = serializers.CharField()


class FormDefinitionSerializer(serializers.Serializer):
    """GET /api/v1/forms/{kind}/: the intake as forms/ declares it (forms.describe)."""

    kind = serializers.ChoiceField(choices=KINDS)
    version = serializers.CharField()
    terms = FormTermsSerializer()
    steps = FormStepSerializer(many=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES)


class FormDefinition(APIView):
    @extend_schema(
        responses=FormDefinitionSerializer,
        parameters=[
            OpenApiParameter(
                "lang",
                {"type": "string", "enum": [code for code, _ in settings.LANGUAGES]},
                description="The labels, help and choices in this language (codes never "
                f"change). Default {settings.LANGUAGE_CODE}.",
            )
        ],
    )
    def get(self, request: Request, kind: str) -> Response:
        if kind not in KINDS:
            raise NotFound(f"No form for that kind; use one of {', '.join(KINDS)}.")
        # ?lang=: the labels in that language (DESIGN "Languages"); codes never change.
        lang = request.query_params.get("lang", settings.LANGUAGE_CODE)
        known = dict(settings.LANGUAGES)
        if lang not in known:
            raise ValidationError({"lang": [f"Unknown language; use one of {', '.join(known)}."]})
        with translation.override(lang):
            return Response({**describe_form(kind), "language": lang})


class IntakeStartSerializer(RefusesUnknownFields, serializers.Serializer):
    client = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=KINDS)


class IntakeSummarySerializer(serializers.Serializer):
    """An intake in a list: its state, never its answers (read one intake for those)."""

    id = serializers.UUIDField()
    client = serializers.UUIDField(source="client_id")
    kind = serializers.ChoiceField(choices=KINDS)
    status = serializers.CharField()
    form_version = serializers.CharField()
    current_step = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


LIST_PARAMETERS = [
    OpenApiParameter("client", OpenApiTypes.UUID, description="Only this client's."),
    OpenApiParameter(
        "updated_since", OpenApiTypes.DATETIME, description="Changed at or after this time."
    ),
]


@extend_schema_view(get=extend_schema(parameters=LIST_PARAMETERS))
class IntakeListCreate(generics.ListAPIView):
    """GET: the intakes the caller may read, newest first, without answers (an intake started
    in the browser is listed like one started here). POST: start one."""

    serializer_class = IntakeSummarySerializer

    def get_queryset(self) -> Any:
        qs = intake_list(membership=caller_membership(self.request))
        client = uuid_param(self.request, "client")
        if client is not None:
            qs = qs.filter(client_id=client)
        since = datetime_param(self.request, "updated_since")
        if since is not None:
            qs = qs.filter(updated_at__gte=since)
        return qs

    @extend_schema(request=IntakeStartSerializer, responses={201: IntakeSerializer})
    def post(self, request: Request) -> Response:
        serializer = IntakeStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, actor = caller(request)
        client_id = serializer.validated_data["client"]
        # Only the client's care team starts an intake for them. Anyone else (another clinic,
        # or this clinic off the team) gets the same 400 naming the field: whether the client
        # exists elsewhere is not said, and a generated client meets one documented answer.
        try:
            client = client_for_care(membership=membership, client_id=client_id)
        except Http404:
            raise ValidationError(
                {"client": ["No client with this id among the clients you work with."]}
            ) from None
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
    @extend_schema(responses=IntakeSerializer)
    def get(self, request: Request, pk: str) -> Response:
        membership, _ = caller(request)
        intake = intake_get(membership=membership, intake_id=pk)
        return Response(intake_representation(intake, request.user))


NO_BODY = (
    "Send a JSON object of field names and answers: nothing was sent, so nothing was saved "
    "(send {} to skip every question on this step)."
)


def step_body_required(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: a step's PUT needs its body (an object given as a
    plain schema is optional by default), so a generated client never sends none."""
    for path, item in result.get("paths", {}).items():
        if "/steps/" in path and "put" in item:
            item["put"]["requestBody"]["required"] = True
    return result


class IntakeStep(APIView):
    error_statuses = (409,)

    @extend_schema(
        request={"application/json": {"type": "object", "additionalProperties": True}},
        responses=StepSavedSerializer,
        description="Body: {field: value} for the fields of this step (lists for multi and "
        "list fields). 404 for an unknown step, 409 when the step is off or the intake done.",
    )
    def put(self, request: Request, pk: str, step: str) -> Response:
        membership, actor = caller(request)
        intake = intake_get(membership=membership, intake_id=pk)
        spec = STEPS_BY_NAME.get(step)
        if spec is None:
            raise NotFound("No step of that name: see GET /api/v1/forms/{kind}/ for the steps.")
        if not int(request.META.get("CONTENT_LENGTH") or 0):
            # Never read as {}: that skips every question, and deletes the answers of the steps
            # the stored ones had switched on. Skipping a page is said with {}.
            raise ValidationError({"non_field_errors": [NO_BODY]})
        # Fields the stored recording preference leaves out are dropped unread, and named.
        skipped = spec.not_recorded(intake.kind, intake.answers)
        try:
            answers = validate_payload(
                spec,
                request.data,
                **form_kwargs(intake.kind, intake.answers, step=spec),
                not_recorded=skipped,
            )
            removed = intake_submit_step(
                intake=intake, step=spec, answers=answers, actor=actor, sent=list(request.data)
            )
        except StepInvalid as exc:
            raise ValidationError(exc.errors) from None
        except (StepNotEnabled, IntakeClosed) as exc:
            raise Conflict(str(exc)) from None
        body = intake_representation(intake, request.user)
        sent = request.data if isinstance(request.data, dict) else {}
        body["not_recorded"] = [name for name in skipped if name in sent]
        body["removed"] = removed
        return Response(body)


def _answer_field(spec: Field) -> serializers.Field:
    """A stored answer to one forms/ field (blank answers are not stored)."""
    if spec.kind == "bool":
        return serializers.BooleanField(required=False)
    if spec.kind == "choice":
        return serializers.ChoiceField(
            choices=spec.codes, required=False, allow_blank=spec.kept_unless_sent
        )
    if spec.kind == "multi":
        return serializers.ListField(
            child=serializers.ChoiceField(choices=spec.codes), required=False
        )
    if spec.kind == "text_list":
        return serializers.ListField(child=serializers.CharField(), required=False)
    return serializers.CharField(required=False, allow_blank=spec.kept_unless_sent)


def _answers_serializer(step: Step) -> type[serializers.Serializer]:
    """A step's stored answers, field by field, from its one definition in forms/."""
    component = "".join(part.title() for part in step.name.split("_")) + "Answers"
    fields = {spec.name: _answer_field(spec) for spec in step.fields}
    cls = type(f"{component}Serializer", (serializers.Serializer,), fields)
    return extend_schema_serializer(component_name=component)(cls)


PrivateChecksSerializer = type(
    "PrivateChecksSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The couple private checks, each null until it is written.",
        "intake": serializers.UUIDField(),
        **{
            step.name: _answers_serializer(step)(allow_null=True)
            for step in STEPS
            if step.audience == "care_team"
        },
    },
)


class IntakePrivateChecks(APIView):
    """The couple private checks: for the care team only, and never inside the intake's joint
    representation, so an integration that syncs intakes cannot carry them off by accident."""

    @extend_schema(responses=PrivateChecksSerializer)
    def get(self, request: Request, pk: str) -> Response:
        membership, _actor = caller(request)
        intake = intake_get(membership=membership, intake_id=pk)
        return Response({"intake": str(intake.pk), **private_checks(intake=intake)})


class IntakeComplete(APIView):
    @extend_schema(request=None, responses={201: CompletedSerializer})
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
