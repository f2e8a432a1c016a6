"""Serializer fields that refuse what DRF would quietly coerce."""

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """Only JSON strings: 12 or true is a wrong type, not text."""

    default_error_messages = {"not_a_string": "Send a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)  # type: ignore[no-any-return]
