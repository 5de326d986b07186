"""Console sign-in state kept in the Django session, and the CallContext built from it.

A console session lasts 12 hours. While an IAM user has switched into a role, the effective context is the role
session's; the user's own context is kept for Switch role and Switch back, which AWS authorizes as the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest

from console.services import user_principal
from core import clock
from core.addresses import client_address
from core.context import CallContext, Principal
from core.db import first_instance
from identities.models import Account, IamUser
from sts.models import TemporaryCredential
from sts.services import ExpiredToken, principal_for

_ACCOUNT = "iam_account"
_PRINCIPAL = "iam_principal"  # "root" or "user"
_USER = "iam_user"
_SIGNED_IN_AT = "iam_signed_in_at"
_MFA_AT = "iam_mfa_at"
SWITCHED = "iam_switched"  # {"credential": pk, "display": str, "color": hex, "account": id}
ROLE_HISTORY = "iam_role_history"
MUST_CHANGE_PASSWORD = "iam_must_change_password"
NOTICE = "iam_notice"  # a message to show once (e.g. "your role session expired")


@dataclass(frozen=True)
class SwitchedRole:
    display_name: str
    color: str
    account_id: str
    role_name: str
    expires_at: datetime

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.expires_at - clock.now()).total_seconds()))


def client_ip(request: HttpRequest) -> str:
    """The client's address, through the trusted proxies of ``TRUSTED_PROXY_HOPS`` (``core.addresses``)."""
    return client_address(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def start(
    request: HttpRequest,
    account: Account,
    principal_kind: str,
    *,
    user_pk: int | None = None,
    must_change_password: bool = False,
    mfa_at: datetime | None = None,
) -> None:
    request.session.cycle_key()  # a new session ID at every sign-in (no fixation)
    request.session[_ACCOUNT] = account.id
    request.session[_PRINCIPAL] = principal_kind
    request.session[_USER] = user_pk
    request.session[_SIGNED_IN_AT] = clock.now().isoformat()
    request.session[_MFA_AT] = mfa_at.isoformat() if mfa_at else None
    request.session[MUST_CHANGE_PASSWORD] = must_change_password


def end(request: HttpRequest) -> None:
    request.session.flush()


def session_expires_at(request: HttpRequest) -> datetime | None:
    signed_in = request.session.get(_SIGNED_IN_AT)
    if not signed_in:
        return None
    return datetime.fromisoformat(signed_in) + timedelta(seconds=settings.SESSION_COOKIE_AGE)


def _context(request: HttpRequest, principal: Principal) -> CallContext:
    return CallContext(
        principal,
        source_ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        origin="console",
        secure_transport=request.is_secure(),
    )


def context_for(request: HttpRequest) -> tuple[CallContext | None, Account | None]:
    """The effective context (the role session while switched), or (None, None) when not signed in."""
    account_id = request.session.get(_ACCOUNT)
    if not account_id:
        return None, None
    expires = session_expires_at(request)
    if expires is None or expires <= clock.now():
        end(request)  # console sessions last 12 hours, whatever the cookie says
        return None, None
    account = first_instance(Account, "id = %s", [account_id])
    if account is None:
        return None, None
    mfa_raw = request.session.get(_MFA_AT)
    mfa_at = datetime.fromisoformat(mfa_raw) if mfa_raw else None
    if request.session.get(_PRINCIPAL) == "user":
        user = first_instance(IamUser, "id = %s AND account_id = %s", [request.session.get(_USER), account.id])
        if user is None:  # the user was deleted: the console session ends with it
            return None, None

        principal = user_principal(user, mfa_at=mfa_at)
    else:
        principal = Principal.root(account.id, mfa_at=mfa_at)
    request.console_user_ctx = _context(request, principal)  # type: ignore[attr-defined]
    request.switched_role = None  # type: ignore[attr-defined]
    switched = request.session.get(SWITCHED)
    if switched and principal.type == "IAMUser":
        role_ctx = _switched_context(request, principal, switched)
        if role_ctx is not None:
            return role_ctx, Account.objects.filter(pk=role_ctx.account_id).first() or account
    return request.console_user_ctx, account  # type: ignore[attr-defined]


def _switched_context(request: HttpRequest, user: Principal, switched: dict) -> CallContext | None:
    credential = (
        TemporaryCredential.objects.select_related("role")
        .filter(pk=switched.get("credential"), via_console=True, user_id=user.user_pk)
        .first()
    )
    try:
        if credential is None:
            raise ExpiredToken("The role no longer exists.")
        role_principal = principal_for(credential)
    except ExpiredToken:
        request.session.pop(SWITCHED, None)
        request.session[NOTICE] = (
            f"Your session as {switched.get('display', 'the role')} has ended. You are back to {user.name}."
        )
        return None
    request.switched_role = SwitchedRole(
        switched["display"],
        switched["color"],
        credential.account_id,  # type: ignore[attr-defined]
        credential.role.name,
        credential.expires_at,
    )
    return _context(request, role_principal)
