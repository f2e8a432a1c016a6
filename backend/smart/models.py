"""SMART Backend Services: registered backend clients (public keys only), the assertion ids
they have used, and short-lived access tokens (only their SHA-256 digest is stored)."""

from django.db import models

from common.models import BaseModel


class BackendClient(BaseModel):
    """A system (an EHR, an integration engine) acting for one clinic, with its public keys."""

    clinic = models.ForeignKey(
        "accounts.Clinic", on_delete=models.CASCADE, related_name="backend_clients"
    )
    client_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    jwks = models.JSONField()  # {"keys": [...]} public keys only
    scopes = models.JSONField(default=list)  # SMART scopes it may be granted
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"Backend client {self.client_id}"


class UsedAssertion(models.Model):
    """A client assertion's jti, kept until the assertion expires so it cannot be replayed."""

    client = models.ForeignKey(BackendClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="one_use_per_jti")]

    def __str__(self) -> str:
        return f"Assertion {self.pk}"


class AccessToken(models.Model):
    digest = models.CharField(max_length=64, primary_key=True)  # sha256 of the token
    client = models.ForeignKey(BackendClient, on_delete=models.CASCADE, related_name="+")
    scopes = models.JSONField()  # granted SMART scopes
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Access token for {self.client_id}"

    def has_scope(self, scope: str) -> bool:
        """`scope` is one of the REST scopes (read, write, export)."""
        from .services import rest_scopes

        return scope in rest_scopes(self.scopes)

    def allows(self, resource_type: str, interaction: str) -> bool:
        """Whether its scopes let it read ("r") or search ("s") this resource type."""
        from .services import scopes_allow

        return scopes_allow(self.scopes, resource_type, interaction)
