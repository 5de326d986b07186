"""The console's page decorator: every console view that needs a signed-in principal wears ``@console_page``.

NUL characters in a request are refused before any view runs (``console.middleware.RejectNulBytesMiddleware``), so
the decorator does not look for them again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect


def console_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the sign-in page (htmx requests by a full-page client redirect); a user whose
    password must be changed goes to the change-password page first."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "iam_ctx", None) is None:
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect("/signin")
            return redirect(f"/signin?next={request.get_full_path()}")
        if request.session.get("iam_must_change_password") and request.path != "/change_password":
            # A user whose password must be reset can do nothing else first.
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect("/change_password")
            return redirect("/change_password")
        return view(request, *args, **kwargs)

    return wrapper
