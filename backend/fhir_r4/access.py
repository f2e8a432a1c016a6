"""Who is reading FHIR: a person (clinician or admin, by session or API token) or a clinic's
SMART backend client. Each resource query starts from one of these."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q
from rest_framework.request import Request

from accounts.models import Membership
from common.api import caller


@dataclass(frozen=True)
class Reader:
    clinic_id: uuid.UUID
    membership: Membership | None = None  # a person: the care-team rules of the REST API apply
    backend_client: Any = None  # smart.models.BackendClient: acts for its clinic
    token: Any = None  # smart.models.AccessToken: its scopes name the resource types it reads

    @property
    def actor(self) -> User | None:
        return self.membership.user if self.membership is not None else None

    @property
    def clinic(self) -> Any:
        return (self.membership or self.backend_client).clinic

    def allows(self, resource_type: str, interaction: str) -> bool:
        """A person reads what the care-team rules let them; a backend client what its token's
        scopes name: read ("r") or search ("s") this resource type."""
        return self.token is None or bool(self.token.allows(resource_type, interaction))

    def audit_detail(self) -> dict[str, str]:
        if self.backend_client is not None:
            return {"format": "fhir", "backend_client": self.backend_client.client_id}
        return {"format": "fhir"}


def linked_to_ehr(client_field: str = "client") -> Q:
    """What a backend client may read: clients of its clinic that the clinic has linked to the
    EHR by recording their EHR id. A client without an EHR id is never shared with an EHR."""
    prefix = f"{client_field}__" if client_field else ""
    return ~Q(**{f"{prefix}external_id_hash": ""})


def reader_of(request: Request) -> Reader:
    from smart.models import AccessToken

    token = request.auth
    if isinstance(token, AccessToken):
        client = token.client
        return Reader(clinic_id=client.clinic_id, backend_client=client, token=token)
    membership, _ = caller(request)
    return Reader(clinic_id=membership.clinic_id, membership=membership)
