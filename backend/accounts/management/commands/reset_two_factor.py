from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Membership
from accounts.services import enrolment_code_issue


class Command(BaseCommand):
    help = (
        "Remove a clinician's two-factor devices (a lost phone) and print a one-time enrolment "
        "code for setting up a new one."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--username", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        membership = Membership.objects.filter(user__username=options["username"]).first()
        if membership is None:
            raise CommandError("No clinician with that username.")
        code = enrolment_code_issue(membership=membership)
        self.stdout.write(f"Two-factor devices removed for {options['username']}.")
        self.stdout.write(f"ENROLMENT_CODE={code}")
