from typing import Any

from django.core.management.base import BaseCommand

from accounts.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo clinic, clinician and clients (idempotent). Prints API_TOKEN=<token>."

    def handle(self, *args: Any, **options: Any) -> None:
        demo = seed_demo()
        self.stdout.write(f"Demo login: {demo.username} / {demo.password}")
        self.stdout.write(f"API_TOKEN={demo.token}")
