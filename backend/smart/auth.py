"""Bearer access tokens issued by /oauth/token, accepted under /fhir/ only."""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from .models import AccessToken
from .services import TOKEN_PREFIX, token_digest


class SmartTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, AccessToken] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        raw = parts[1].decode("latin-1")
        if not raw.startswith(TOKEN_PREFIX):
            return None  # an API token: the next authenticator's
        token = (
            AccessToken.objects.select_related("client__clinic")
            .filter(digest=token_digest(raw), expires_at__gt=timezone.now(), client__active=True)
            .first()
        )
        if token is None:
            raise AuthenticationFailed("The access token is unknown or has expired.")
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="fhir"'
