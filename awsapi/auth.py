"""Who signed an API request: look up the access key (AKIA… long-term, ASIA… temporary), verify the SigV4
signature with its secret, refuse expired or revoked credentials at the moment of use, build the CallContext.

Expired and revoked sessions answer ``ExpiredToken``. A session is revoked when its credential row is gone: the
role behind it was deleted (or, for GetSessionToken credentials, the user), or a reset removed it. A role session
outlives the user who started it, as in AWS. The session token we issued still proves that the
caller held a session of ours for this key ID (``sts.services.token_issued_for``), so the answer is the one AWS
gives for a session that no longer works, not "invalid". The console's "Revoke active sessions" is different:
it is an explicit deny policy (AWSRevokeOlderSessions on aws:TokenIssueTime), so AWS, and we, answer
AccessDenied for it.
"""

from __future__ import annotations

import hmac
import json
from datetime import timedelta

from awsapi.protocol import sigv4
from awsapi.protocol.sigv4 import HttpRequest, SignedRequest
from core import clock
from core.context import CallContext, Principal
from core.db import fetch_prepared
from core.secrets import decrypt
from identities.models import AccessKey, IamUser
from policies.authz import policies_of_key_owner_sql
from sts.models import TemporaryCredential
from sts.services import ExpiredToken, principal_for, token_hash, token_issued_for

EXPIRED = "The security token included in the request is expired"


def authenticate(
    request: HttpRequest,
    signed: SignedRequest,
    *,
    source_ip: str,
    user_agent: str,
    request_id: str,
    secure: bool = False,
    payload_hash: str | None = None,
    normalize_path: bool = True,
) -> tuple[CallContext, list[tuple] | None]:
    """The caller's context, and for a long-term key the rows of its policies, read with the key (hand them to
    ``policies.authz.prefetched`` for the request). ``payload_hash``/``normalize_path``: S3's signing rules
    (``sigv4.expected_signature``)."""
    sigv4.check_time(signed)
    key = policy_rows = None
    if signed.access_key_id.startswith("ASIA"):
        principal, secret = _temporary(signed)
    else:
        key, principal, secret, policy_rows = _long_term(signed)
    expected = sigv4.expected_signature(
        request, signed, secret, payload_hash=payload_hash, normalize_path=normalize_path
    )
    if not sigv4.signatures_match(expected, signed.signature):
        raise sigv4.SignatureDoesNotMatch(sigv4.SIGNATURE_MISMATCH)
    if key is not None:
        _mark_used(key, signed)
    ctx = CallContext(
        principal,
        source_ip=source_ip,
        user_agent=user_agent,
        origin="api",
        access_key_id=signed.access_key_id,
        secure_transport=secure,
        request_id=request_id,
    )
    return ctx, policy_rows


# The key, its user, and every policy of that user (or of root: the organization's SCPs): one prepared query on
# every call. The key is the row of order -1; the rest are ``policies.authz``'s gathering rows.
_KEY_SQL = """
WITH k AS MATERIALIZED (
    SELECT k.id, k.account_id, k.status, k.secret_encrypted, k.last_used_at, k.last_used_service,
           k.last_used_region, u.id AS user_pk, u.account_id AS user_account, u.arn, u.name, u.user_id
    FROM {key} k LEFT JOIN {user} u ON u.id = k.user_id
    WHERE k.access_key_id = %(key)s)
SELECT -1, 'k', id, last_used_at, secret_encrypted, json_build_array(
       account_id, status, last_used_service, last_used_region, user_pk, user_account, arn, name, user_id)::text
FROM k
UNION ALL"""
_key_sql: list[str] = []


def key_rows(access_key_id: str) -> list[tuple]:
    """The key's row (order -1), then the gathering rows of its user's (or root's) policies; none if no such key."""
    if not _key_sql:
        _key_sql.append(
            _KEY_SQL.format(key=AccessKey._meta.db_table, user=IamUser._meta.db_table)
            + policies_of_key_owner_sql("(SELECT user_pk FROM k)", "(SELECT account_id FROM k)")
        )
    return fetch_prepared(_key_sql[0], {"key": access_key_id})


def _long_term(signed: SignedRequest) -> tuple[tuple, Principal, str, list[tuple]]:
    rows = key_rows(signed.access_key_id)
    if not rows or rows[0][1] != "k":
        raise sigv4.InvalidClientTokenId(sigv4.INVALID_TOKEN)
    _, _, key_pk, last_used_at, secret_encrypted, extra = rows[0]
    account_id, status, last_service, last_region, user_pk, user_account, arn, name, user_id = json.loads(extra)
    if status != "Active":
        raise sigv4.InvalidClientTokenId(sigv4.INVALID_TOKEN)
    key = (key_pk, last_used_at, last_service, last_region)
    if user_pk is None:
        principal = Principal.root(account_id)
    else:
        principal = Principal("IAMUser", user_account, arn, name, user_id, user_pk=user_pk)
    return key, principal, _secret(secret_encrypted), rows[1:]


_secrets: dict[str, str] = {}


def _secret(token: str) -> str:
    """Decrypted signing secrets by their ciphertext, so a busy key is decrypted once per process. Keyed by the
    stored token itself, a changed or deleted key can never be served from here: the row is read every call."""
    secret = _secrets.get(token)
    if secret is None:
        if len(_secrets) > 4096:
            _secrets.clear()
        secret = _secrets[token] = decrypt(token)
    return secret


def _temporary(signed: SignedRequest) -> tuple[Principal, str]:
    if not signed.security_token:
        raise sigv4.InvalidClientTokenId(sigv4.INVALID_TOKEN)
    credential = TemporaryCredential.objects.filter(access_key_id=signed.access_key_id).first()
    if credential is None:
        if token_issued_for(signed.security_token, signed.access_key_id):
            raise sigv4.ExpiredToken(EXPIRED)  # ours, and gone: revoked by deleting its role or user, or a reset
        raise sigv4.InvalidClientTokenId(sigv4.INVALID_TOKEN)
    if not hmac.compare_digest(credential.session_token_hash, token_hash(signed.security_token)):
        raise sigv4.InvalidClientTokenId(sigv4.INVALID_TOKEN)
    try:
        if credential.kind == TemporaryCredential.KIND_SESSION_TOKEN:
            principal = _session_token_principal(credential)
        else:
            principal = principal_for(credential)
    except ExpiredToken:
        raise sigv4.ExpiredToken(EXPIRED) from None
    return principal, _secret(credential.secret_encrypted)


def _session_token_principal(credential: TemporaryCredential) -> Principal:
    """GetSessionToken credentials act as the user (or root) that asked for them, with MFA if it was given."""
    if credential.expires_at <= clock.now():
        raise ExpiredToken(EXPIRED)
    if credential.user is None:
        base = Principal.root(credential.account_id)
        return Principal(
            base.type,
            base.account_id,
            base.arn,
            base.name,
            base.principal_id,
            mfa_authenticated=credential.mfa_authenticated_at is not None,
            mfa_authenticated_at=credential.mfa_authenticated_at,
            token_issued_at=credential.issued_at,
            session_pk=credential.pk,
        )
    user = credential.user
    return Principal(
        "IAMUser",
        user.account_id,
        user.arn,
        user.name,
        user.user_id,
        user_pk=user.pk,
        session_pk=credential.pk,
        mfa_authenticated=credential.mfa_authenticated_at is not None,
        mfa_authenticated_at=credential.mfa_authenticated_at,
        token_issued_at=credential.issued_at,
    )


LAST_USED_GRANULARITY = timedelta(minutes=1)


def _mark_used(key: tuple, signed: SignedRequest) -> None:
    """Record the key's last use. AWS reports it coarsely too; writing at most once a minute per key (or when the
    service or Region changes) spares a write, and its commit, on nearly every call of a busy script."""
    pk, last_used_at, last_service, last_region = key
    now = clock.now()
    if (
        last_used_at is not None
        and now - last_used_at < LAST_USED_GRANULARITY
        and last_service == signed.service
        and last_region == signed.region
    ):
        return
    AccessKey.objects.filter(pk=pk).update(
        last_used_at=now, last_used_service=signed.service, last_used_region=signed.region
    )
