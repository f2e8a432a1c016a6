"""Responses may carry client data: nothing is cached by browsers or proxies by default. The
API's paths are never redirected to add a slash to a write. A body without a length is refused."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware import common

from .errors import API_PATHS, length_required


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        return response


class CommonMiddleware(common.CommonMiddleware):
    """Django's, except that a POST, PUT, PATCH or DELETE to an API path missing its final
    slash is not redirected: an HTTP client follows a 301 with a GET, so a create would
    quietly become a read. It answers the API's JSON 404, which names the path to use."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.method not in ("GET", "HEAD") and request.path_info.startswith(API_PATHS):
            return False
        return bool(super().should_redirect_with_slash(request))


class LengthRequiredMiddleware:
    """A body sent chunked (Transfer-Encoding, no Content-Length) is answered 411: Django reads a
    request body by its Content-Length only, so it would otherwise be read as empty, and an
    empty body is valid for some requests (a PDF asked for without its passphrase)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.META.get("HTTP_TRANSFER_ENCODING") and not request.META.get("CONTENT_LENGTH"):
            return length_required(request)
        return self.get_response(request)
