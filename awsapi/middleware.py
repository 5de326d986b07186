"""The Query API skips the console's middleware when Django handles ``/aws`` (the test client).

In production ``awsapi.wsgi`` answers ``/aws`` before Django's request handling; under Django's handler this
middleware routes it to the same ``views.endpoint``. No session, cookie, CSRF token, message, CSP or htmx header
means anything to a signed request, yet running those middleware cost about as much as a warm API call's own
Python. Placed after ``RejectNulBytesMiddleware`` and ``SecurityMiddleware``, this answers ``/aws`` at once.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from awsapi import views

PATHS = frozenset({"/aws", "/aws/"})  # the URL pattern ^aws/?$ in console/urls.py


class QueryApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in PATHS:
            return views.endpoint(request)  # answers every error itself (AWS's XML), never raises
        return self.get_response(request)
