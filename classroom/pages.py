"""What the classroom's console pages share (``classroom.views``, ``classroom.views_board``): the decorator of a
class's pages and the page renderer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from classroom import services
from console.decorators import console_page


def class_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in only; a class the caller doesn't manage is a 404 (never a 403 that would confirm it exists)."""

    @console_page
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except services.ClassNotFound:
            raise Http404("No such class.") from None

    return wrapper


def render_page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A classroom page: the side navigation shows Classroom."""
    return render(request, template, {"nav": "classroom", **context}, status=status)
