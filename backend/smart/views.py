"""/.well-known/smart-configuration and /oauth/token (plain Django views: no session, no CSRF,
answers in the JSON shapes of SMART and RFC 6749)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .services import ALGORITHMS, SCOPES_SUPPORTED, OAuthError, token_issue, token_url

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@require_GET
def smart_configuration(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "token_endpoint": token_url(request),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
            "grant_types_supported": ["client_credentials"],
            "scopes_supported": list(SCOPES_SUPPORTED),
            "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
        }
    )


@csrf_exempt
def token(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = JsonResponse(
            {"error": "invalid_request", "error_description": "Use POST."}, status=405
        )
        response["Allow"] = "POST"
        return response
    if request.content_type != "application/x-www-form-urlencoded":
        return JsonResponse(
            {
                "error": "invalid_request",
                "error_description": "Send the form as application/x-www-form-urlencoded.",
            },
            status=400,
            headers=NO_STORE,
        )
    try:
        issued = token_issue(form=request.POST, audience=token_url(request))
    except OAuthError as exc:
        return JsonResponse(
            {"error": exc.error, "error_description": exc.description},
            status=exc.status,
            headers=NO_STORE,
        )
    return JsonResponse(
        {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        },
        headers=NO_STORE,
    )
