"""A clinic's vetted referral directory (Guideline 8), and the referrals in a plan."""

from django.db import models
from django.utils.translation import gettext_lazy

from common.crypto import EncryptedTextField
from common.models import BaseModel


class ReferralAgency(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    # Free text is encrypted at rest like everything else people type (issue 11 item 12): not
    # sortable in the database, so lists are ordered by name in Python (`by_name`).
    name = EncryptedTextField(max_length=200)
    services = models.JSONField(default=list)  # codes from supports.referral_needs
    contact = EncryptedTextField(blank=True, max_length=1000)
    # The agency's approach: True / False / None (unknown, the default).
    requires_exit = models.BooleanField(null=True, default=None)
    requires_faith_participation = models.BooleanField(null=True, default=None)
    police_cooperation = models.BooleanField(null=True, default=None)
    affirming_commitment = models.BooleanField(null=True, default=None)
    # Who runs it and what a client may meet there (G8): True / False / None (unknown).
    sex_worker_led = models.BooleanField(null=True, default=None)
    peer_led = models.BooleanField(null=True, default=None)
    mandatory_reporting = models.BooleanField(null=True, default=None)
    requires_id = models.BooleanField(null=True, default=None)
    shares_immigration_data = models.BooleanField(null=True, default=None)
    trans_inclusive = models.BooleanField(null=True, default=None)
    # Safety services it offers, codes from SAFETY_SERVICES.
    safety_services = models.JSONField(default=list, blank=True)
    vetted_on = models.DateField(null=True, blank=True)
    vetted_by = EncryptedTextField(max_length=200, blank=True)
    notes = EncryptedTextField(blank=True, max_length=2000)

    class Meta:
        verbose_name_plural = "referral agencies"

    def __str__(self) -> str:
        return self.name


def by_name(agency: ReferralAgency) -> tuple[str, str]:
    """Sort key for agency lists (names are encrypted, so ordering happens here)."""
    return (agency.name.casefold(), str(agency.pk))


APPROACH_FIELDS = (
    "requires_exit",
    "requires_faith_participation",
    "police_cooperation",
    "affirming_commitment",
)
# Recorded like the approach fields, but an unknown here raises no caution of its own.
ACCESS_FIELDS = (
    "sex_worker_led",
    "peer_led",
    "mandatory_reporting",
    "requires_id",
    "shares_immigration_data",
    "trans_inclusive",
)
SAFETY_SERVICES = (
    ("bad_date_reporting", "Bad-date reporting"),
    ("crisis_line", "Crisis line"),
)
EDITABLE_FIELDS = (
    "name",
    "services",
    "contact",
    *APPROACH_FIELDS,
    *ACCESS_FIELDS,
    "safety_services",
    "vetted_on",
    "vetted_by",
    "notes",
)


class ClientDecision(models.TextChoices):
    # Printed in the client's copy, in the client's language.
    ACCEPTED = "accepted", gettext_lazy("You decided to use this service")
    DECLINED = "declined", gettext_lazy("You decided not to use this service")
    UNDECIDED = "undecided", gettext_lazy("You haven't decided yet")


class PlanReferral(BaseModel):
    plan = models.ForeignKey(
        "plans.TreatmentPlan", on_delete=models.CASCADE, related_name="referrals"
    )
    agency = models.ForeignKey(ReferralAgency, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    client_decision = models.CharField(
        max_length=20, choices=ClientDecision.choices, default=ClientDecision.UNDECIDED
    )
    note = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"Referral {self.pk}"
