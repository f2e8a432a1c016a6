"""Clinics, memberships (one clinic per user, with a role) and scoped API tokens."""

from django.conf import settings
from django.db import models
from knox.models import AbstractAuthToken

from common.models import BaseModel


class Clinic(BaseModel):
    name = models.CharField(max_length=200, unique=True)
    require_two_factor = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"


class Membership(BaseModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    # First two-factor set-up in a clinic that requires it needs this one-time code (printed by
    # add_clinician / reset_two_factor), so a stolen password alone cannot enrol a device.
    enrolment_code = models.CharField(max_length=128, blank=True)  # a password hash, not the code
    enrolment_code_expires = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) at {self.clinic}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.CLINIC_ADMIN


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    EXPORT = "export", "Export"


class ApiToken(AbstractAuthToken):
    """A knox token (only its SHA-512 digest is stored) with scopes. Revoke by deleting it."""

    name = models.CharField(max_length=100, blank=True)
    scopes = models.JSONField(default=list)

    class Meta:
        verbose_name = "API token"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
