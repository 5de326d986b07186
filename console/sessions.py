"""Console sign-in state kept in the Django session, and the CallContext built from it."""

from __future__ import annotations

from django.http import HttpRequest

from core.context import CallContext, Principal
from identities.models import Account, IamUser

_ACCOUNT = "iam_account"
_PRINCIPAL = "iam_principal"  # "root" or "user"
_USER = "iam_user"
MUST_CHANGE_PASSWORD = "iam_must_change_password"


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "127.0.0.1")


def start(request: HttpRequest, account: Account, principal_kind: str, *, user_pk: int | None = None,
          must_change_password: bool = False) -> None:
    request.session.cycle_key()  # a new session ID at every sign-in (no fixation)
    request.session[_ACCOUNT] = account.id
    request.session[_PRINCIPAL] = principal_kind
    request.session[_USER] = user_pk
    request.session[MUST_CHANGE_PASSWORD] = must_change_password


def end(request: HttpRequest) -> None:
    request.session.flush()


def context_for(request: HttpRequest) -> tuple[CallContext | None, Account | None]:
    account_id = request.session.get(_ACCOUNT)
    if not account_id:
        return None, None
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return None, None
    if request.session.get(_PRINCIPAL) == "user":
        user = IamUser.objects.filter(pk=request.session.get(_USER), account=account).first()
        if user is None:  # the user was deleted: the console session ends with it
            return None, None
        from console.services import user_principal

        principal = user_principal(user)
    else:
        principal = Principal.root(account.id)
    ctx = CallContext(principal, source_ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""),
                      origin="console")
    return ctx, account
