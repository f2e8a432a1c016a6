"""Lexicon entries a clinic adds to the built-in lexicon (lexicon.json), and dismissed findings."""

from django.conf import settings
from django.db import models

from common.crypto import EncryptedTextField
from common.models import BaseModel


class ClinicLexiconEntry(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=60)
    forms = models.CharField(
        max_length=500,
        help_text="Comma-separated forms to match, e.g. "
        "'lazy, laziness'. Leave empty to match the term only.",
        blank=True,
    )
    suggestion = models.CharField(max_length=200)
    reason = models.CharField(max_length=200)

    class Meta:
        verbose_name = "lexicon entry"
        verbose_name_plural = "lexicon entries"

    def __str__(self) -> str:
        return self.term


class Dismissal(BaseModel):
    """A clinician chose to keep a flagged word, with their reason. Counted per term, so that
    repeated dismissals of the same kind of finding can prompt a consultation (Guideline 10)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Encrypted (issue 11 item 12): counted per term in Python, not in the database.
    term = EncryptedTextField(max_length=60)
    reason = EncryptedTextField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.term} ({self.user_id})"
