"""POST /api/v1/language-check/ and dismissals of findings."""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import caller
from common.serializers import RefusesUnknownFields, StrictCharField

from .services import NOT_CHECKED, checks_language, dismissal_record, language_check

TEXT_LIMIT = 20_000
TERM_LIMIT = 4_000  # a client term may be a whole goal or intake answer in their words


class CheckSerializer(RefusesUnknownFields, serializers.Serializer):
    text = StrictCharField(max_length=TEXT_LIMIT, allow_blank=True, trim_whitespace=False)
    client_terms = serializers.ListField(
        child=StrictCharField(max_length=TERM_LIMIT), required=False, max_length=50, default=list
    )
    # The language the text is written in (the client's, for their plan); only English has a
    # lexicon, so other languages come back unchecked, saying so.
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, default="en")


class DismissSerializer(RefusesUnknownFields, serializers.Serializer):
    term = StrictCharField(max_length=60)
    reason = StrictCharField(max_length=200, allow_blank=True, required=False, default="")


class LanguageFindingSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Where the term starts in the text sent.")
    end = serializers.IntegerField()
    term = serializers.CharField()
    suggestion = serializers.CharField()
    reason = serializers.CharField()
    replacement = serializers.CharField(
        allow_null=True, help_text="A safe one-click replacement, or null: rewrite instead."
    )


class LanguageCheckResultSerializer(serializers.Serializer):
    findings = LanguageFindingSerializer(many=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES)
    checked = serializers.BooleanField(
        help_text="False when there is no word list for the language: its own words are not "
        "checked (English words in the text still are, and are in `findings`)."
    )
    note = serializers.CharField(required=False, help_text="Present when checked is false.")


class DismissalResultSerializer(serializers.Serializer):
    consultation_suggested = serializers.BooleanField(
        help_text="True when you keep dismissing the same term: a colleague's view may help."
    )


class LanguageCheck(APIView):
    @extend_schema(request=CheckSerializer, responses=LanguageCheckResultSerializer)
    def post(self, request: Request) -> Response:
        serializer = CheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership, _ = caller(request)
        data: dict[str, Any] = serializer.validated_data
        findings = language_check(
            clinic_id=membership.clinic_id,
            text=data["text"],
            client_terms=data["client_terms"],
            language=data["language"],
        )
        body: dict[str, Any] = {
            "findings": [{k: v for k, v in f.as_dict().items() if k != "text"} for f in findings],
            "language": data["language"],
            "checked": checks_language(data["language"]),
        }
        if not body["checked"]:
            body["note"] = NOT_CHECKED
        return Response(body)


class LanguageDismissal(APIView):
    @extend_schema(request=DismissSerializer, responses={201: DismissalResultSerializer})
    def post(self, request: Request) -> Response:
        serializer = DismissSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _, user = caller(request)
        prompt = dismissal_record(user=user, **serializer.validated_data)
        return Response({"consultation_suggested": prompt}, status=201)
