"""A client is known by the name they choose; no legal name is asked for anywhere."""

from django.conf import settings
from django.db import models

from common.crypto import EncryptedTextField
from common.models import BaseModel

DISPLAY_NAME_MAX = 100
PRONOUNS_MAX = 50
EXTERNAL_ID_MAX = 200


class Client(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="clients")
    display_name = EncryptedTextField(help_text="The name the client wants to be called.")
    pronouns = EncryptedTextField(blank=True, default="")
    external_id = EncryptedTextField(blank=True, default="", help_text="An EHR's id, if any.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The clinicians who work with the client: the only people who read their clinical records.
    care_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="care_team_clients"
    )

    class Meta:
        indexes = [models.Index(fields=["clinic", "-created_at"])]

    def __str__(self) -> str:
        return f"Client {self.pk}"
