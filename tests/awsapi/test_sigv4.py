"""Our SigV4 verification computes what botocore's signer computes, on requests unlike the usual boto3 POST too.

No server and no database: the signer signs a request, we rebuild the signature from the request as a server
receives it (raw query string, lower-case headers, the body's bytes) and the two must be equal.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from awsapi.protocol import sigv4

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDENTIALS = Credentials("AKIAIOSFODNN7EXAMPLE", SECRET)
SESSION = Credentials("ASIAIOSFODNN7EXAMPLE", SECRET, "FwoGZXIvYXdzEJr//////////token+with/odd=chars")


def received(request: AWSRequest) -> sigv4.HttpRequest:
    """The signed request as a server sees it."""
    prepared = request.prepare()
    url = urlsplit(prepared.url)
    headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    body = prepared.body or b""
    return sigv4.HttpRequest(
        method=prepared.method,
        host=url.netloc,
        path=url.path,
        query=url.query,
        headers=headers,
        body=body.encode() if isinstance(body, str) else body,
    )


def sign(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    credentials: Credentials = CREDENTIALS,
    service: str = "iam",
    presign: bool = False,
) -> sigv4.HttpRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    if presign:
        SigV4QueryAuth(credentials, service, "us-east-1", expires=300).add_auth(request)
    else:
        SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    return received(request)


def verified(http: sigv4.HttpRequest) -> bool:
    signed = sigv4.parse_signature(http)
    return sigv4.signatures_match(sigv4.expected_signature(http, signed, SECRET), signed.signature)


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

URL = "http://127.0.0.1:8000/aws"
LIST_USERS = b"Action=ListUsers&Version=2010-05-08"

CASES = {
    "boto3 POST": {"method": "POST", "url": URL, "body": LIST_USERS, "headers": FORM},
    "trailing slash, host with port": {
        "method": "POST",
        "url": "http://localhost:48123/aws/",
        "headers": FORM,
        "body": b"Action=GetUser&UserName=a%2Bb&Version=2010-05-08",
    },
    "query string and body": {
        "method": "POST",
        "url": f"{URL}?Version=2010-05-08&Action=GetUser",
        "body": b"UserName=x",
        "headers": FORM,
    },
    "GET with encoded, repeated and blank parameters": {
        "method": "GET",
        "url": f"{URL}?Action=ListUsers&PathPrefix=%2Fdev%2F&Version=2010-05-08&Z=&Z=a",
    },
    "extra headers with runs of spaces": {
        "method": "POST",
        "url": URL,
        "body": LIST_USERS,
        "headers": {**FORM, "X-Amz-Meta-Note": "  two   spaces  here "},
    },
    "session token (STS)": {
        "method": "POST",
        "url": URL,
        "service": "sts",
        "credentials": SESSION,
        "headers": FORM,
        "body": b"Action=GetCallerIdentity&Version=2011-06-15",
    },
    "presigned GET": {"method": "GET", "url": f"{URL}?Action=ListUsers&Version=2010-05-08", "presign": True},
    "presigned with a session token": {
        "method": "GET",
        "url": f"{URL}?Action=GetUser&Version=2010-05-08",
        "credentials": SESSION,
        "presign": True,
    },
    "empty body": {"method": "POST", "url": f"{URL}?Action=ListUsers&Version=2010-05-08"},
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_signatures_match_botocores(case):
    assert verified(sign(**case))


def test_any_change_after_signing_is_caught():
    http = sign(**CASES["boto3 POST"])
    for altered in (
        sigv4.HttpRequest(http.method, http.host, http.path, http.query, http.headers, http.body + b"&x=1"),
        sigv4.HttpRequest(http.method, "127.0.0.1:8001", http.path, http.query, http.headers, http.body),
        sigv4.HttpRequest("GET", http.host, http.path, http.query, http.headers, http.body),
        sigv4.HttpRequest(http.method, http.host, "/aws/", http.query, http.headers, http.body),
        sigv4.HttpRequest(http.method, http.host, http.path, "Action=DeleteUser", http.headers, http.body),
        sigv4.HttpRequest(
            http.method, http.host, http.path, http.query, {**http.headers, "content-type": "text/plain"}, http.body
        ),
    ):
        assert not verified(altered)


def test_a_signed_content_hash_must_be_the_bodys():
    """A client may sign x-amz-content-sha256; a body changed after signing must not pass by keeping the header."""
    honest = sign(
        "POST", URL, body=LIST_USERS, headers={**FORM, "X-Amz-Content-SHA256": hashlib.sha256(LIST_USERS).hexdigest()}
    )
    assert verified(honest)

    tampered = sigv4.HttpRequest(
        honest.method,
        honest.host,
        honest.path,
        honest.query,
        honest.headers,
        b"Action=DeleteUser&UserName=alice&Version=2010-05-08",
    )
    with pytest.raises(sigv4.SignatureDoesNotMatch):
        verified(tampered)


def test_a_signed_header_that_was_not_sent_cannot_match():
    http = sign("POST", URL, body=LIST_USERS, headers={**FORM, "X-Amz-Meta-Note": "n"})
    stripped = sigv4.HttpRequest(
        http.method,
        http.host,
        http.path,
        http.query,
        {k: v for k, v in http.headers.items() if k != "x-amz-meta-note"},
        http.body,
    )
    with pytest.raises(sigv4.SignatureDoesNotMatch):
        verified(stripped)


@pytest.mark.parametrize("value", ["20261206T221500Z", "20240229T000000Z"])
def test_amz_dates_parse(value):
    assert sigv4._amz_datetime(value) == datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "20261206T221500",
        "2026-12-06T22:15:00Z",
        "20261306T221500Z",
        "20230229T000000Z",
        "2026120６T221500Z",
        "20261206T2215 0Z",
    ],
)
def test_malformed_amz_dates_are_refused(value):
    assert sigv4._amz_datetime(value) is None
