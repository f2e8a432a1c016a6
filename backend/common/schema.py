"""The OpenAPI schema: every operation declares the errors it can answer, in the one error shape.

drf-spectacular describes success responses from each view; the errors come from
`common.errors.api_exception_handler` and are the same everywhere, so they are added here once
instead of on every view.
"""

from typing import Any

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
    description="The ETag from the last read of this object; a stale one answers 412.",
)


class ApiAutoSchema(AutoSchema):
    """Adds the documented error responses to every operation that does not declare its own."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        method = self.method.upper()
        codes = ["401", "403", "429"]
        if method != "DELETE":  # bodies, and query parameters such as updated_since
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        codes += [str(c) for c in getattr(self.view, "error_statuses", ())]
        for code in sorted(set(codes)):
            if code in responses or int(code) not in ERROR_STATUSES:
                continue
            responses[code] = self._get_response_for_code(
                ErrorSerializer, code, direction=direction
            )
            responses[code]["description"] = ERROR_STATUSES[int(code)]
        return responses
