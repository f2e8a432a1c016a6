"""Serializer fields that refuse what DRF would quietly coerce."""

from typing import Any

from rest_framework import serializers

from forms.django_forms import unknown_field_errors


class StrictCharField(serializers.CharField):
    """Only JSON strings: 12 or true is a wrong type, not text."""

    default_error_messages = {"not_a_string": "Send a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class RefusesUnknownFields(serializers.Serializer):
    """A request body holds only this serializer's fields: a misspelt one (`pasphrase`) is a 400
    naming it, never quietly dropped (a PDF would be made without what was asked for). Read-only
    fields sent back from a response are not unknown, and stay ignored."""

    # Names a response carries that a body may send back unchanged (read-only extras).
    ignored_fields: frozenset[str] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields) - self.ignored_fields
            if unknown:
                raise serializers.ValidationError(
                    unknown_field_errors(
                        unknown, "Not a field of this request; check its spelling.", "this request"
                    )
                )
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true/false: "yes" or 1 is a wrong type, not a boolean."""

    default_error_messages = {"not_a_boolean": "Send true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


class StrictUUIDField(serializers.UUIDField):
    """Only a JSON string: DRF would read 5 as the UUID 00000000-…-000000000005."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value="")
        return super().to_internal_value(data)
