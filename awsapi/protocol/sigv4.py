"""Signature Version 4 verification for header-signed and presigned (query-string) requests.

The canonical request, string to sign and signature are recomputed from the parts the client said it signed,
using the secret we hold (encrypted at rest) for the access key, exactly as botocore's SigV4 signer computes them
(``tests/awsapi/test_sigv4.py`` compares the two on varied requests).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from urllib.parse import parse_qsl, quote

from botocore.utils import normalize_url_path

from core import clock
from core.errors import IamError

MAX_SKEW = timedelta(minutes=15)
MAX_PRESIGNED_EXPIRES = 7 * 24 * 60 * 60  # SigV4's limit: a signing key is valid for seven days
ALGORITHM = "AWS4-HMAC-SHA256"


class InvalidClientTokenId(IamError):
    code, status = "InvalidClientTokenId", 403


class SignatureDoesNotMatch(IamError):
    code, status = "SignatureDoesNotMatch", 403


class IncompleteSignature(IamError):
    code, status = "IncompleteSignature", 400


class MissingAuthenticationToken(IamError):
    code, status = "MissingAuthenticationToken", 403


class RequestExpired(IamError):
    code, status = "RequestExpired", 400


class ExpiredToken(IamError):
    code, status = "ExpiredToken", 403


class AuthorizationQueryParametersError(IamError):
    """A presigned URL's X-Amz-* parameters that no valid signature can have (AWS's SigV4 query-string error)."""

    code, status = "AuthorizationQueryParametersError", 400


SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class SignedRequest:
    """What the client claims: key, scope and signature, before we check any of it."""

    access_key_id: str
    date: str  # yyyymmdd of the scope
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    amz_date: str
    security_token: str | None
    presigned: bool
    expires: int | None = None


@dataclass(frozen=True)
class HttpRequest:
    method: str
    host: str
    path: str
    query: str  # raw query string as sent
    headers: dict[str, str]  # lower-case names
    body: bytes


def parse_signature(request: HttpRequest) -> SignedRequest | None:
    """The request's SigV4 parts; None when it carries no signature at all."""
    authorization = request.headers.get("authorization", "")
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    if authorization:
        algorithm, _, rest = authorization.partition(" ")
        if algorithm != ALGORITHM:
            raise IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'")
        fields = {}
        for part in rest.split(","):
            key, _, value = part.strip().partition("=")
            fields[key] = value
        amz_date = request.headers.get("x-amz-date", "")
        # AWS's wording: one sentence per missing part, then the header as it was sent.
        problems = [
            f"Authorization header requires '{k}' parameter."
            for k in ("Credential", "Signature", "SignedHeaders")
            if not fields.get(k)
        ]
        if not amz_date:
            problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        if problems:
            raise IncompleteSignature(" ".join(problems) + f" Authorization={authorization}")
        credential = fields["Credential"]
        signed_headers = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
        token = request.headers.get("x-amz-security-token")
        presigned, expires = False, None
    elif "X-Amz-Signature" in query or "X-Amz-Credential" in query:
        missing = [
            k
            for k in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
            if not query.get(k)
        ]
        if missing:
            raise IncompleteSignature(
                "AWS query-string parameters must include "
                + ", ".join(f"'{m}'" for m in missing)
                + ". Re-examine the query-string parameters."
            )
        credential, amz_date = query["X-Amz-Credential"], query["X-Amz-Date"]
        signed_headers = query["X-Amz-SignedHeaders"].split(";")
        signature, token = query["X-Amz-Signature"], query.get("X-Amz-Security-Token")
        presigned = True
        expires = _presigned_expires(query.get("X-Amz-Expires", "900"))
    else:
        return None
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignature(f"Credential should be scoped to a valid region. Credential={credential}")
    return SignedRequest(
        scope[0], scope[1], scope[2], scope[3], signed_headers, signature, amz_date, token, presigned, expires
    )


def signature_for(request: HttpRequest, service: str, *, missing: str) -> SignedRequest:
    """The request's signature, which must be scoped to ``service`` (a front of one service: EC2, Organizations).
    ``missing``: that service's wording for an unsigned request."""
    signed = parse_signature(request)
    if signed is None:
        raise MissingAuthenticationToken(missing)
    if signed.service != service:
        raise SignatureDoesNotMatch(f"Credential should be scoped to correct service: '{service}'.")
    return signed


def _presigned_expires(value: str) -> int:
    """X-Amz-Expires: whole seconds, at most seven days, as SigV4 allows (AWS's wording). 0 is a URL that has
    expired by the time it arrives."""
    if not (value.isascii() and value.isdigit()):
        raise AuthorizationQueryParametersError("X-Amz-Expires should be a number")
    seconds = int(value)
    if seconds > MAX_PRESIGNED_EXPIRES:
        raise AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less "
            f"than {MAX_PRESIGNED_EXPIRES} seconds"
        )
    return seconds


def check_time(signed: SignedRequest) -> None:
    """The request's date against our clock (``core.clock``): at most 15 minutes either side for a header-signed
    request (AWS answers SignatureDoesNotMatch, with its "Signature expired" / "not yet current" wording); a
    presigned URL works from its date (15 minutes of clock skew allowed) until X-Amz-Expires seconds later."""
    when = _amz_datetime(signed.amz_date)
    if when is None:
        raise IncompleteSignature(f"Date must be in ISO-8601 'basic format'. Got '{signed.amz_date}'.")
    now = clock.now()
    fmt = "%Y%m%dT%H%M%SZ"
    if when - now > MAX_SKEW:  # dated in the future, presigned or not
        raise SignatureDoesNotMatch(
            f"Signature not yet current: {signed.amz_date} is still later than "
            f"{(now + MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} + 15 min.)"
        )
    if signed.presigned:
        if now > when + timedelta(seconds=signed.expires or 0):
            raise RequestExpired("Request has expired.")
        return
    if now - when > MAX_SKEW:
        raise SignatureDoesNotMatch(
            f"Signature expired: {signed.amz_date} is now earlier than "
            f"{(now - MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} - 15 min.)"
        )


def _amz_datetime(value: str) -> datetime | None:
    """``20261206T221500Z`` → an aware datetime; None unless exactly that form (strptime's cost, a tenth)."""
    digits = value[:8] + value[9:15]
    if len(value) != 16 or value[8] != "T" or value[15] != "Z" or not (digits.isascii() and digits.isdigit()):
        return None
    try:
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def expected_signature(
    request: HttpRequest,
    signed: SignedRequest,
    secret: str,
    *,
    payload_hash: str | None = None,
    normalize_path: bool = True,
) -> str:
    """The signature the client must have sent, by the SigV4 algorithm as botocore's signer applies it (the tests
    hold the two equal), from the request as received. The payload hash is the body's own: a signed
    ``x-amz-content-sha256`` that does not match the body is a tampered request, not a shortcut. S3 is the
    exception (``payload_hash``: its front checks the header and passes ``UNSIGNED-PAYLOAD`` or the digest, and
    ``normalize_path`` False: S3 signs the object key's path as it is, ``a//b`` and ``..`` included)."""
    path = normalize_url_path(request.path) if normalize_path else request.path
    canonical = "\n".join(
        (
            request.method.upper(),
            quote(path, safe="/~"),
            _canonical_query(request.query, signed.presigned),
            *_canonical_headers(request, signed),
            payload_hash if payload_hash is not None else _payload_hash(request),
        )
    )
    day = signed.amz_date[:8]
    scope = f"{day}/{signed.region}/{signed.service}/aws4_request"
    string_to_sign = f"{ALGORITHM}\n{signed.amz_date}\n{scope}\n{sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{secret}".encode()
    for part in (day, signed.region, signed.service, "aws4_request", string_to_sign):
        key = hmac.digest(key, part.encode(), "sha256")
    return key.hex()


def _canonical_query(query: str, presigned: bool) -> str:
    """Pairs as sent (already URI-encoded by the client), sorted; a presigned URL's own signature left out."""
    if not query:
        return ""
    pairs = sorted((key, value) for key, _, value in (pair.partition("=") for pair in query.split("&")))
    return "&".join(f"{key}={value}" for key, value in pairs if not (presigned and key == "X-Amz-Signature"))


def _canonical_headers(request: HttpRequest, signed: SignedRequest) -> tuple[str, str]:
    names = sorted({name.strip().lower() for name in signed.signed_headers})
    lines = []
    for name in names:
        value = request.host if name == "host" else request.headers.get(name)
        if value is None:  # signed a header it did not send: nothing can match
            raise SignatureDoesNotMatch(SIGNATURE_MISMATCH)
        lines.append(f"{name}:{' '.join(value.split())}")
    return "\n".join(lines) + "\n", ";".join(names)


def _payload_hash(request: HttpRequest) -> str:
    digest = sha256(request.body).hexdigest()
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed is not None and claimed != digest:
        raise SignatureDoesNotMatch(SIGNATURE_MISMATCH)
    return digest


def signatures_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
