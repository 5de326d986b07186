from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.http import HttpRequest

from classroom.services import is_instructor


def console(request: HttpRequest) -> dict[str, Any]:
    ctx = getattr(request, "iam_ctx", None)
    account = getattr(request, "account", None)
    if ctx is None:
        return {}
    notice = request.session.pop("iam_notice", None)
    if notice:
        messages.warning(request, notice)
    return {
        "principal": ctx.principal,
        "account": account,
        "switched": getattr(request, "switched_role", None),
        "console_user": getattr(request, "console_user_ctx", ctx).principal,
        # Called by the template only where it is used (the side navigation's "Classes" link): one small query.
        # Memoized: the template asks twice.
        "is_instructor": functools.cache(lambda: _is_instructor(ctx.account_id)),
    }


def _is_instructor(account_id: str) -> bool:
    return is_instructor(account_id)
