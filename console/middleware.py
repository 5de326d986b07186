"""Turns the signed-in console session into ``request.iam_ctx`` (a CallContext) for every view."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from console import sessions
from console.htmx import refusal_explanation, refusal_message
from core import page_reads
from core.errors import IamError
from core.validation import carries_nul


class ConsoleIdentityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.iam_ctx, request.account = sessions.context_for(request)  # type: ignore[attr-defined]
        if request.method in ("GET", "HEAD"):
            with page_reads.page_reads_shared():  # a page's reads share one reading of the caller's policies
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        if getattr(request, "htmx", False):
            response.headers.setdefault("Vary", "HX-Request")
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """An AWS error that a view did not handle (AccessDenied on opening a page, most often) is shown as the
        console shows it, with the engine's explanation, and the right 4xx status."""
        if not isinstance(exception, IamError):
            return None
        context = {
            "error": exception,
            "message": refusal_message(exception),
            "explanation": refusal_explanation(exception),
        }
        return render(request, "console/error.html", context, status=exception.status)


class RejectNulBytesMiddleware:
    """PostgreSQL text cannot hold NUL characters: a request carrying one is bad input (400), not a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        body = request.body if request.method in ("POST", "PUT", "PATCH") else b""
        if carries_nul(request.path + request.META.get("QUERY_STRING", ""), body):
            return HttpResponseBadRequest("Requests may not contain NUL characters.")
        return self.get_response(request)
