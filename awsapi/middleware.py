"""The Query API under Django's request handling (the test client, or a server not started through
``console.wsgi``): the first middleware hands ``/aws`` to ``awsapi.wsgi.respond``, the one entry production uses.

No session, cookie, CSRF token, message, CSP or htmx header means anything to a signed request, yet running those
middleware cost about as much as a warm API call's own Python; the host check, body cap, NUL check and headers
that do apply are ``respond``'s, as in production.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from awsapi.wsgi import PATHS, endpoint
from s3.api import serves


class QueryApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in PATHS or serves(request.path_info):
            return endpoint(request)  # answers every error itself (AWS's XML), never raises
        return self.get_response(request)
