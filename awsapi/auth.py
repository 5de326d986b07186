"""Who signed an API request: look up the access key (AKIA… long-term, ASIA… temporary), verify the SigV4
signature with its secret, refuse expired or revoked credentials at the moment of use, build the CallContext."""

from __future__ import annotations

import hmac
from datetime import timedelta

from awsapi.protocol import sigv4
from awsapi.protocol.sigv4 import HttpRequest, SignedRequest
from core import clock
from core.context import CallContext, Principal
from core.secrets import decrypt
from identities.models import AccessKey
from sts.models import TemporaryCredential


def authenticate(request: HttpRequest, signed: SignedRequest, *, source_ip: str, user_agent: str) -> CallContext:
    sigv4.check_time(signed)
    key = None
    if signed.access_key_id.startswith("ASIA"):
        principal, secret = _temporary(signed)
    else:
        key, principal, secret = _long_term(signed)
    expected = sigv4.expected_signature(request, signed, secret)
    if not sigv4.signatures_match(expected, signed.signature):
        raise sigv4.SignatureDoesNotMatch(sigv4.SIGNATURE_MISMATCH)
    if key is not None:
        _mark_used(key, signed)
    return CallContext(principal, source_ip=source_ip, user_agent=user_agent, origin="api",
                       access_key_id=signed.access_key_id, secure_transport=False)


def _long_term(signed: SignedRequest) -> tuple[AccessKey, Principal, str]:
    key = AccessKey.objects.select_related("user").filter(access_key_id=signed.access_key_id).first()
    if key is None or key.status != "Active":
        raise sigv4.InvalidClientTokenId(sigv4.INVALID_TOKEN)
    if key.user is None:
        return key, Principal.root(key.account_id), decrypt(key.secret_encrypted)
    from console.services import user_principal

    return key, user_principal(key.user), decrypt(key.secret_encrypted)


def _temporary(signed: SignedRequest) -> tuple[Principal, str]:
    from sts.services import ExpiredToken, principal_for, token_hash

    credential = TemporaryCredential.objects.filter(access_key_id=signed.access_key_id).first()
    if credential is None or not signed.security_token:
        raise sigv4.InvalidClientTokenId(sigv4.INVALID_TOKEN)
    if not hmac.compare_digest(credential.session_token_hash, token_hash(signed.security_token)):
        raise sigv4.InvalidClientTokenId(sigv4.INVALID_TOKEN)
    try:
        if credential.kind == TemporaryCredential.KIND_SESSION_TOKEN:
            principal = _session_token_principal(credential)
        else:
            principal = principal_for(credential)
    except ExpiredToken:
        raise sigv4.ExpiredToken("The security token included in the request is expired") from None
    return principal, decrypt(credential.secret_encrypted)


def _session_token_principal(credential: TemporaryCredential) -> Principal:
    """GetSessionToken credentials act as the user (or root) that asked for them, with MFA if it was given."""
    from sts.services import ExpiredToken

    if credential.expires_at <= clock.now():
        raise ExpiredToken("The security token included in the request is expired")
    if credential.user is None:
        base = Principal.root(credential.account_id)
        return Principal(base.type, base.account_id, base.arn, base.name, base.principal_id,
                         mfa_authenticated=credential.mfa_authenticated_at is not None,
                         mfa_authenticated_at=credential.mfa_authenticated_at, token_issued_at=credential.issued_at,
                         session_pk=credential.pk)
    user = credential.user
    return Principal("IAMUser", user.account_id, user.arn, user.name, user.user_id, user_pk=user.pk,
                     session_pk=credential.pk, mfa_authenticated=credential.mfa_authenticated_at is not None,
                     mfa_authenticated_at=credential.mfa_authenticated_at, token_issued_at=credential.issued_at)


LAST_USED_GRANULARITY = timedelta(minutes=1)


def _mark_used(key: AccessKey, signed: SignedRequest) -> None:
    """Record the key's last use. AWS reports it coarsely too; writing at most once a minute per key (or when the
    service or Region changes) spares a write, and its commit, on nearly every call of a busy script."""
    now = clock.now()
    if (key.last_used_at is not None and now - key.last_used_at < LAST_USED_GRANULARITY
            and key.last_used_service == signed.service and key.last_used_region == signed.region):
        return
    AccessKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_service=signed.service,
                                               last_used_region=signed.region)
