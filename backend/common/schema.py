"""The OpenAPI schema: every operation declares the errors it can answer, in the one error shape.

drf-spectacular describes success responses from each view; the errors come from
`common.errors.api_exception_handler` and are the same everywhere, so they are added here once
instead of on every view. Also here: the authentication schemes the API really accepts, and
response components written as JSON Schema where a serializer cannot say the shape.
"""

from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .errors import ERROR_STATUSES


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable code, e.g. invalid, not_found.")
    detail = serializers.CharField(help_text="A message for people; never quotes client text.")

    def get_fields(self) -> dict[str, serializers.Field]:
        # Added here: a class attribute named `errors` would hide Serializer.errors.
        fields: dict[str, serializers.Field] = super().get_fields()
        fields["errors"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Field name to messages; empty unless code is invalid.",
        )
        return fields


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="The ETag from the last read of this object (or a comma-separated list of "
    "them: one current one is enough); a stale one answers 412, a missing one or `*` 428.",
)


def etag_header(*codes: int) -> OpenApiParameter:
    """The ETag response header of an object that is edited with If-Match."""
    return OpenApiParameter(
        "ETag",
        str,
        location=OpenApiParameter.HEADER,
        response=list(codes),
        required=True,
        description="The version of this object: send it back in If-Match to edit it.",
    )


def location_header(code: int, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "Location",
        str,
        location=OpenApiParameter.HEADER,
        response=[code],
        required=True,
        description=description,
    )


class RawSchemaSerializer(serializers.Serializer):
    """A response component written as JSON Schema, for the shapes a serializer cannot say: a
    recursive condition, or a FHIR resource whose content the R4 specification defines. Subclass
    it (the component is named after the class, without "Serializer") and set `json_schema`."""

    json_schema: ClassVar[dict[str, Any]] = {}


class RawSchemaExtension(OpenApiSerializerExtension):
    target_class = "common.schema.RawSchemaSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = self.target.json_schema
        return schema


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    """The browser's session, counted only once its second sign-in step is done."""

    target_class = "accounts.authentication.VerifiedSessionAuthentication"
    name = "verifiedSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The session cookie of a signed-in browser. It counts only after "
            "the one-time code from an authenticator app has been entered, where the clinic "
            "or the user has two-factor sign-in turned on. Requests that change data also "
            "need the CSRF token in the X-CSRFToken header. Integrations use an API token "
            "instead.",
        }


class ApiTokenScheme(KnoxTokenScheme):
    """knox's bearer scheme (the same name and definition) for its subclass here."""

    target_class = "accounts.authentication.ApiTokenAuthentication"


class SmartTokenScheme(OpenApiAuthenticationExtension):
    """SMART Backend Services access tokens, accepted under /fhir/ only."""

    target_class = "smart.auth.SmartTokenAuthentication"
    name = "smartBackendServices"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A SMART Backend Services access token (/fhir/ only): POST "
            "/oauth/token with grant_type=client_credentials and a client_assertion JWT "
            "signed with the registered client's key (RS384 or ES384). See "
            "/.well-known/smart-configuration.",
        }


class ApiAutoSchema(AutoSchema):
    """Adds the documented error responses to every operation that does not declare its own,
    and says which response fields are always there."""

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        # A model serializer writes every readable field of every object it is given (a field
        # optional in a request, such as a client's pronouns, is still in each response): a
        # generated client can then type them as always present.
        if (
            direction == "response"
            and isinstance(serializer, serializers.ModelSerializer)
            and type(serializer).to_representation is serializers.ModelSerializer.to_representation
        ):
            schema["required"] = list(schema.get("properties", {}))
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        method = self.method.upper()
        codes = ["401", "403", "429"]
        if method != "DELETE":  # bodies, and query parameters such as updated_since
            codes.append("400")
        if method in ("POST", "PUT", "PATCH"):  # a body too large, not JSON, or sent chunked
            codes += ["411", "413", "415"]
        if "{" in self.path:
            codes.append("404")
        # A view's own error statuses: for all its methods, or {method: statuses}.
        statuses = getattr(self.view, "error_statuses", ())
        if isinstance(statuses, dict):
            statuses = statuses.get(method, ())
        codes += [str(c) for c in statuses]
        for code in sorted(set(codes)):
            if code in responses or int(code) not in ERROR_STATUSES:
                continue
            # A view whose errors have another shape names it (FHIR: OperationOutcome).
            serializer = getattr(self.view, "error_serializer", ErrorSerializer)
            responses[code] = self._get_response_for_code(serializer, code, direction=direction)
            responses[code]["description"] = ERROR_STATUSES[int(code)]
            media_type = getattr(self.view, "error_media_type", None)
            if media_type:
                content = responses[code]["content"]
                responses[code]["content"] = {media_type: content[media_type]}
        return responses
