"""Seals what waits, then checks every clinic's audit chain: exit 0 intact, 1 broken."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Clinic
from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_chain_problems, audit_seal


class Command(BaseCommand):
    help = "Verify every clinic's audit chain; name where it breaks; exit 1 if any does."

    def handle(self, *args: Any, **options: Any) -> None:
        clinic_ids = (
            set(Clinic.objects.values_list("pk", flat=True))
            | set(AuditChainHead.objects.values_list("clinic_id", flat=True))
            | set(AuditEvent.objects.values_list("clinic_id", flat=True).distinct())
        )
        broken = 0
        for clinic_id in sorted(clinic_ids, key=str):
            audit_seal(clinic_id=clinic_id)
            problems = audit_chain_problems(clinic_id=clinic_id)
            head = AuditChainHead.objects.filter(clinic_id=clinic_id).first()
            count, last = (head.seq, head.hash) if head else (0, "")
            if problems:
                broken += 1
                for problem in problems:
                    self.stdout.write(f"clinic {clinic_id}: BROKEN: {problem}")
            else:
                # The head hash, to compare with the last anchor logged outside the database.
                self.stdout.write(f"clinic {clinic_id}: intact ({count} events, head {last})")
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken.", returncode=1)
        self.stdout.write(f"All {len(clinic_ids)} audit chains intact.")
