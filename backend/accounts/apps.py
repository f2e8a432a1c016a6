from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from .signin_limits import record_failure

        user_login_failed.connect(record_failure, dispatch_uid="accounts.address-failures")
