from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def console(request: HttpRequest) -> dict[str, Any]:
    ctx = getattr(request, "iam_ctx", None)
    account = getattr(request, "account", None)
    if ctx is None:
        return {}
    return {"principal": ctx.principal, "account": account}
