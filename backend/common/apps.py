from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        # Registers the schema extensions (authentication schemes, raw components) before any
        # schema is generated.
        # DRF's message for an unknown choice quotes what was sent ('"x" is not a valid
        # choice.'): an error must never repeat what someone typed, which could be client text.
        from rest_framework import fields

        from . import schema  # noqa: F401

        for field in (fields.ChoiceField, fields.MultipleChoiceField):
            field.default_error_messages["invalid_choice"] = "Choose one of the listed options."
