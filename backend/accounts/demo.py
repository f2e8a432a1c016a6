"""Demo data for `make run`: one clinic, one clinician, a few alias-only clients. Idempotent."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from config.env import local_secret

from .models import ApiToken, Clinic, Membership, Role
from .services import ALL_SCOPES, api_token_create, generate_password

DEMO_CLINIC = "Demo clinic"
DEMO_USERNAME = "demo"
DEMO_TOKEN_NAME = "demo"  # noqa: S105 - a label, not a secret
DEMO_CLIENTS = [("River", "they/them"), ("Sam", "she/her"), ("Jordan", "he/him")]


@dataclass(frozen=True)
class Demo:
    username: str
    password: str
    token: str


@transaction.atomic
def seed_demo() -> Demo:
    from clients.models import Client

    password = local_secret(settings.DATA_DIR, ".demo_password", generate_password)
    clinic, _ = Clinic.objects.get_or_create(name=DEMO_CLINIC)
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
    if created:
        user.set_password(password)
        user.save()
        Membership.objects.create(user=user, clinic=clinic, role=Role.CLINIC_ADMIN)
    if not Client.objects.filter(clinic=clinic).exists():
        for name, pronouns in DEMO_CLIENTS:
            Client.objects.create(clinic=clinic, display_name=name, pronouns=pronouns)
    # One demo token at a time: each run replaces the last, so tokens do not pile up.
    ApiToken.objects.filter(user=user, name=DEMO_TOKEN_NAME).delete()
    token = api_token_create(user=user, scopes=ALL_SCOPES, name=DEMO_TOKEN_NAME)
    return Demo(username=DEMO_USERNAME, password=password, token=token)
