"""Register a SMART backend client for a clinic from its public JWKS; prints CLIENT_ID=<id>."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Clinic
from smart.services import SCOPES_SUPPORTED, backend_client_register


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", required=True, help="The clinic's name.")
        parser.add_argument("--jwks-file", required=True, help='{"keys": [...]}, public keys.')
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=["system/*.read", "system/*.rs"],
            help=f"Such as {', '.join(SCOPES_SUPPORTED)} or system/CarePlan.rs (space or comma "
            "separated).",
        )
        parser.add_argument("--name", default="", help="A label, e.g. the EHR's name.")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(name=options["clinic"]).first()
        if clinic is None:
            raise CommandError("No clinic has that name.")
        try:
            jwks = json.loads(Path(options["jwks_file"]).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the JWKS file: {exc}") from None
        scopes = [s for part in options["scopes"] for s in part.split(",") if s]
        try:
            client = backend_client_register(
                clinic=clinic, jwks=jwks, scopes=scopes, name=options["name"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"CLIENT_ID={client.client_id}")
