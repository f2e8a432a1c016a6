"""SMART Backend Services: registering a backend client and exchanging a signed client
assertion (private_key_jwt, RS384 or ES384) for a short-lived access token.

JWT parsing and signature checks are PyJWT's (with cryptography); this module only decides.
"""

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Clinic

from .models import AccessToken, BackendClient, UsedAssertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
MAX_ASSERTION_LIFETIME = 300  # seconds, SMART Backend Services
CLOCK_SKEW = 10  # seconds
TOKEN_PREFIX = "sbs_"  # noqa: S105 - a marker, not a secret
# SMART system scopes: every resource type (*) or one, to read (SMART v1 `read`; v2 `r` read,
# `s` search, `rs` both). Only reads exist under /fhir: a write scope (c, u, d) is not offered.
SCOPE = re.compile(r"system/(\*|[A-Z][A-Za-z]{1,63})\.(read|rs|r|s)")
# What /.well-known/smart-configuration lists (any resource type's own scopes work as well).
SCOPES_SUPPORTED = ("system/*.read", "system/*.rs", "system/*.r", "system/*.s")
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def scope_grants(scope: str) -> tuple[str, frozenset[str]] | None:
    """(resource type or "*", the interactions: "r" read, "s" search), or None if not a scope
    this server grants."""
    match = SCOPE.fullmatch(scope)
    if match is None:
        return None
    kind, interactions = match.groups()
    return kind, frozenset("rs" if interactions == "read" else interactions)


def scope_covered(scope: str, granted: Iterable[str]) -> bool:
    """A scope asked for is given when a granted one includes it: system/*.read covers
    system/CarePlan.rs, system/CarePlan.r and system/*.s."""
    wanted = scope_grants(scope)
    if wanted is None:
        return False
    kind, interactions = wanted
    return any(
        g is not None and g[0] in ("*", kind) and interactions <= g[1]
        for g in map(scope_grants, granted)
    )


def scopes_allow(scopes: Iterable[str], resource_type: str, interaction: str) -> bool:
    return scope_covered(f"system/{resource_type}.{interaction}", scopes)


def rest_scopes(smart_scopes: list[str]) -> set[str]:
    """The REST API's scope they amount to: read, with any scope (what it reads is checked per
    resource type, scopes_allow)."""
    return {"read"} if any(scope_grants(s) for s in smart_scopes) else set()


def public_origin(request: HttpRequest) -> str:
    if settings.FHIR_BASE_URL:
        scheme, rest = settings.FHIR_BASE_URL.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"
    return request.build_absolute_uri("/").rstrip("/")


def fhir_base(request: HttpRequest) -> str:
    return settings.FHIR_BASE_URL or f"{public_origin(request)}/fhir"


def token_url(request: HttpRequest) -> str:
    return f"{public_origin(request)}/oauth/token"


def _public_key(key: Any) -> jwt.PyJWK:
    if not isinstance(key, dict):
        raise ValueError("Each key must be a JSON object.")
    if PRIVATE_MEMBERS & key.keys():
        raise ValueError("The JWKS holds private key material: register public keys only.")
    alg = key.get("alg") or {"RSA": "RS384", "EC": "ES384"}.get(key.get("kty", ""))
    if alg not in ALGORITHMS:
        raise ValueError("Keys must be RSA (RS384) or EC P-384 (ES384).")
    try:
        return jwt.PyJWK(key, algorithm=alg)
    except jwt.PyJWTError as exc:
        raise ValueError(f"A key cannot be read: {exc}") from None


def backend_client_register(
    *, clinic: Clinic, jwks: Any, scopes: list[str], name: str = ""
) -> BackendClient:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError('The JWKS must be {"keys": [...]} with at least one key.')
    for key in jwks["keys"]:
        _public_key(key)
    unknown = sorted(s for s in set(scopes) if scope_grants(s) is None)
    if unknown or not scopes:
        raise ValueError(
            "Scopes must be SMART system read scopes: system/*.read, system/*.rs, or one "
            "resource type's, e.g. system/CarePlan.rs."
        )
    return BackendClient.objects.create(
        clinic=clinic,
        client_id=secrets.token_urlsafe(24),
        name=name,
        jwks={"keys": jwks["keys"]},
        scopes=sorted(set(scopes)),
    )


def _keys_for(client: BackendClient, header: dict[str, Any]) -> list[jwt.PyJWK]:
    keys = []
    for key in client.jwks.get("keys", []):
        if header.get("kid") and key.get("kid") != header["kid"]:
            continue
        try:
            pyjwk = _public_key(key)
        except ValueError:
            continue
        if pyjwk.algorithm_name == header.get("alg"):
            keys.append(pyjwk)
    return keys


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status=401)


def _verified_claims(assertion: str, audience: str) -> tuple[BackendClient, dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _invalid_client("client_assertion is not a JWT.") from None
    if header.get("alg") not in ALGORITHMS:
        raise _invalid_client("client_assertion must be signed with RS384 or ES384.")
    issuer = unverified.get("iss")
    client = (
        BackendClient.objects.select_related("clinic")
        .filter(client_id=issuer if isinstance(issuer, str) else "", active=True)
        .first()
    )
    if client is None:
        raise _invalid_client("Unknown client.")
    keys = _keys_for(client, header)
    if not keys:
        raise _invalid_client("No registered key matches the assertion's kid and alg.")
    last: Exception | None = None
    for key in keys:
        try:
            claims = jwt.decode(
                assertion,
                key=key,
                algorithms=[header["alg"]],
                audience=audience,
                leeway=CLOCK_SKEW,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
            break
        except jwt.InvalidAudienceError:
            raise _invalid_client(f"aud must be the token URL, {audience}.") from None
        except jwt.ExpiredSignatureError:
            raise _invalid_client("The assertion has expired.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _invalid_client(f"The assertion has no {exc.claim} claim.") from None
        except jwt.PyJWTError as exc:
            last = exc
    else:
        raise _invalid_client(
            "The assertion's signature does not match a registered key."
        ) from last
    if claims["iss"] != client.client_id or claims.get("sub") != client.client_id:
        raise _invalid_client("iss and sub must both be the client_id.")
    return client, claims


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


@transaction.atomic
def token_issue(*, form: Any, audience: str) -> IssuedToken:
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials.")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = form.get("client_assertion")
    if not assertion:
        raise OAuthError("invalid_request", "client_assertion is required.")
    client, claims = _verified_claims(assertion, audience)

    now = timezone.now()
    expires = datetime.fromtimestamp(claims["exp"], tz=UTC)
    if expires > now + timedelta(seconds=MAX_ASSERTION_LIFETIME + CLOCK_SKEW):
        raise _invalid_client("exp must be no more than 5 minutes ahead.")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise _invalid_client("jti must be a string of 1 to 255 characters.")
    UsedAssertion.objects.filter(expires_at__lt=now - timedelta(seconds=CLOCK_SKEW)).delete()
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=jti, expires_at=expires)
    except IntegrityError:
        raise _invalid_client("This assertion (jti) has already been used.") from None

    requested = form.get("scope", "").split()
    if not requested:
        raise OAuthError("invalid_scope", "scope is required, e.g. system/*.read.")
    refused = [s for s in requested if not scope_covered(s, client.scopes)]
    if refused:
        raise OAuthError("invalid_scope", f"Not granted to this client: {' '.join(refused)}.")

    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    lifetime = settings.SMART_TOKEN_LIFETIME
    AccessToken.objects.filter(expires_at__lt=now).delete()
    AccessToken.objects.create(
        digest=token_digest(token),
        client=client,
        scopes=requested,
        expires_at=now + timedelta(seconds=lifetime),
    )
    return IssuedToken(access_token=token, expires_in=lifetime, scope=" ".join(requested))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
