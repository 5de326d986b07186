"""Signature Version 4 verification for header-signed and presigned (query-string) requests.

The canonical request, string to sign and signature are recomputed with botocore's own SigV4 signer from the
parts the client said it signed, using the secret we hold (encrypted at rest) for the access key.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from core import clock
from core.errors import IamError

MAX_SKEW = timedelta(minutes=15)
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


SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your "
                      "AWS Secret Access Key and signing method. Consult the service documentation for details.")
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
        problems = [f"Authorization header requires '{k}' parameter." for k in ("Credential", "Signature",
                                                                                 "SignedHeaders") if not fields.get(k)]
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
        missing = [k for k in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                               "X-Amz-Signature") if not query.get(k)]
        if missing:
            raise IncompleteSignature("AWS query-string parameters must include " + ", ".join(f"'{m}'" for m in missing)
                                      + ". Re-examine the query-string parameters.")
        credential, amz_date = query["X-Amz-Credential"], query["X-Amz-Date"]
        signed_headers = query["X-Amz-SignedHeaders"].split(";")
        signature, token = query["X-Amz-Signature"], query.get("X-Amz-Security-Token")
        presigned = True
        try:
            expires = int(query.get("X-Amz-Expires", "900"))
        except ValueError:
            raise IncompleteSignature("X-Amz-Expires must be a number of seconds.") from None
    else:
        return None
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignature(f"Credential should be scoped to a valid region. Credential={credential}")
    return SignedRequest(scope[0], scope[1], scope[2], scope[3], signed_headers, signature, amz_date, token,
                         presigned, expires)


def check_time(signed: SignedRequest) -> None:
    try:
        when = datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise IncompleteSignature(f"Date must be in ISO-8601 'basic format'. Got '{signed.amz_date}'.") from None
    now = clock.now()
    if signed.presigned:
        if now > when + timedelta(seconds=signed.expires or 0):
            raise RequestExpired("Request has expired.")
        return
    if abs(now - when) > MAX_SKEW:
        fmt = "%Y%m%dT%H%M%SZ"
        if when < now:
            raise RequestExpired(f"Signature expired: {signed.amz_date} is now earlier than "
                                 f"{(now - MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} - 15 min.)")
        raise RequestExpired(f"Signature not yet current: {signed.amz_date} is still later than "
                             f"{(now + MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} + 15 min.)")


def expected_signature(request: HttpRequest, signed: SignedRequest, secret: str) -> str:
    headers = {name: request.headers[name] if name != "host" else request.host
               for name in signed.signed_headers if name in request.headers or name == "host"}
    query = request.query
    if signed.presigned:  # the presigned canonical query is everything but the signature itself
        query = "&".join(p for p in request.query.split("&") if not p.startswith("X-Amz-Signature="))
    # The scheme is not part of the canonical request; http:// makes botocore hash the payload as the client did.
    url = f"http://{request.host}{request.path}" + (f"?{query}" if query else "")
    aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=request.body)
    aws_request.context["timestamp"] = signed.amz_date
    signer = SigV4Auth(Credentials(signed.access_key_id, secret), signed.service, signed.region)
    canonical = signer.canonical_request(aws_request)
    return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)


def signatures_match(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
