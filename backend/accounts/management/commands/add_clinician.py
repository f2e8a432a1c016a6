from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.services import clinician_create, enrolment_code_issue


class Command(BaseCommand):
    help = "Create a clinician (and the clinic, when new). Prints a one-time password."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--clinic", required=True)
        parser.add_argument("--username", required=True)
        parser.add_argument("--admin", action="store_true", help="make them a clinic admin")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user, password = clinician_create(
                clinic_name=options["clinic"], username=options["username"], admin=options["admin"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Created {options['username']} in {options['clinic']}.")
        self.stdout.write(f"PASSWORD={password}")
        self.stdout.write("This password is shown once; ask them to change it at first sign-in.")
        code = enrolment_code_issue(membership=user.membership)  # type: ignore[attr-defined]
        self.stdout.write(f"ENROLMENT_CODE={code}")
        self.stdout.write(
            "Give this code separately from the password: it is needed once, within 7 days, to "
            "set up two-step sign-in in a clinic that requires it."
        )
