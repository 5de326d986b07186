from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def console(request: HttpRequest) -> dict[str, Any]:
    ctx = getattr(request, "iam_ctx", None)
    account = getattr(request, "account", None)
    if ctx is None:
        return {}
    notice = request.session.pop("iam_notice", None)
    if notice:
        from django.contrib import messages

        messages.warning(request, notice)
    return {
        "principal": ctx.principal,
        "account": account,
        "switched": getattr(request, "switched_role", None),
        "console_user": getattr(request, "console_user_ctx", ctx).principal,
    }
