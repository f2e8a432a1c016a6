from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_create, parse_scopes


class Command(BaseCommand):
    help = "Create an API token for a user. Prints it once as API_TOKEN=<token>."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("--scopes", default="read,write,export")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Stop working after this many days (1-3650); without it, until revoked.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named {options['user']!r}.")
        if not hasattr(user, "membership"):
            raise CommandError(f"{options['user']!r} is not a member of any clinic.")
        try:
            scopes = parse_scopes(options["scopes"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        days = options["expires_in_days"]
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--expires-in-days must be from 1 to 3650.")
        token = api_token_create(
            user=user,
            scopes=scopes,
            name=options["name"],
            expires_in=timedelta(days=days) if days is not None else None,
        )
        self.stdout.write(f"API_TOKEN={token}")
