"""Console sign-in state kept in the Django session, and the CallContext built from it."""

from __future__ import annotations

from django.http import HttpRequest

from core.context import CallContext, Principal
from identities.models import Account

_ACCOUNT = "iam_account"
_PRINCIPAL = "iam_principal"  # "root"


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "127.0.0.1")


def start(request: HttpRequest, account: Account, principal_kind: str) -> None:
    request.session.cycle_key()  # a new session ID at every sign-in (no fixation)
    request.session[_ACCOUNT] = account.id
    request.session[_PRINCIPAL] = principal_kind


def end(request: HttpRequest) -> None:
    request.session.flush()


def context_for(request: HttpRequest) -> tuple[CallContext | None, Account | None]:
    account_id = request.session.get(_ACCOUNT)
    if not account_id:
        return None, None
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return None, None
    principal = Principal.root(account.id)
    ctx = CallContext(principal, source_ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""),
                      origin="console")
    return ctx, account
