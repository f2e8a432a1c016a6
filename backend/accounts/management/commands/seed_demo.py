"""`seed_demo`: the demo clinic for `make run`. Prints the login and API_TOKEN=<token>."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo clinic, clinician and clients (idempotent) and print API_TOKEN=<token>. "
        "Only on the embedded default unless --demo or DEMO=true."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--demo", action="store_true", help="seed even though DATABASE_URL is set"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEMO or options["demo"]):
            self.stdout.write(
                "No demo data: DATABASE_URL is set. Add users with add_clinician, or pass "
                "--demo (DEMO=true for make run) to seed the demo clinic anyway."
            )
            return
        demo = seed_demo()
        self.stdout.write(f"Demo login: {demo.username} / {demo.password}")
        if demo.new_token:
            self.stdout.write("A new demo API token (any earlier demo token no longer works):")
        else:
            self.stdout.write("The demo API token, unchanged since the last run:")
        self.stdout.write(f"API_TOKEN={demo.token}")
