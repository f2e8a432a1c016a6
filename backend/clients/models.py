"""A client is known by the name they choose; no legal name is asked for anywhere."""

from typing import Any

from django.conf import settings
from django.db import models

from common.crypto import EncryptedTextField, keyed_hash
from common.models import BaseModel

DISPLAY_NAME_MAX = 100
PRONOUNS_MAX = 50
EXTERNAL_ID_MAX = 200


class Client(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="clients")
    display_name = EncryptedTextField(help_text="The name the client wants to be called.")
    pronouns = EncryptedTextField(blank=True, default="")
    external_id = EncryptedTextField(blank=True, default="", help_text="An EHR's id, if any.")
    # A keyed hash (HMAC-SHA256 under the newest FIELD_ENCRYPTION_KEYS key) of external_id, so that
    # an EHR can look a client up by its id without the id being stored or indexed in clear.
    external_id_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # The language the client reads: the wizard, the form definition and their copy of the plan
    # follow it (DESIGN "Languages"). Their own words are never translated.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The clinicians who work with the client: the only people who read their clinical records.
    care_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="care_team_clients"
    )

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "-created_at"]),
            models.Index(fields=["clinic", "external_id_hash"], name="client_external_id_lookup"),
        ]

    def __str__(self) -> str:
        return f"Client {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A derived column, not a business rule: kept in step wherever external_id is written.
        self.external_id_hash = keyed_hash("external_id", self.external_id)
        if kwargs.get("update_fields") is not None and "external_id" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "external_id_hash"}
        super().save(*args, **kwargs)
