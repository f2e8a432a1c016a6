from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        # Registers the schema extensions (authentication schemes, raw components) before any
        # schema is generated.
        from . import schema  # noqa: F401
