"""``/s3``: the S3 REST endpoint (path-style: ``/s3/<bucket>/<key>``), answered in front of Django beside ``/aws``
(``awsapi.wsgi`` hands it here). A request is read from its WSGI environ, its SigV4 signature verified with the
credential lookup the Query API uses (``awsapi.auth``), routed and parsed by botocore's ``s3`` model
(``s3.protocol``), and answered by one service function (``s3.services``) through ``s3.handlers``. Every error is
answered in S3's XML error shape (no body for HEAD); nothing raises.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import uuid
from http import HTTPStatus
from typing import Any

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from awsapi import auth
from awsapi.protocol import sigv4
from core.addresses import client_address, is_secure
from core.errors import IamError
from core.validation import carries_nul
from policies import authz
from s3 import handlers, protocol, services
from s3.errors import (
    AccessDeniedS3,
    EntityTooLarge,
    FeatureNotImplemented,
    IncompleteBody,
    InternalError,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidRequest,
    MissingContentLength,
    XAmzContentSHA256Mismatch,
)

logger = logging.getLogger(__name__)
PREFIX = "/s3"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_SLACK = 1024 * 1024  # what is read past the object limit, so a slightly large upload gets its error, not a reset


def serves(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def respond(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    request_id = uuid.uuid4().hex[:16].upper()
    host_id = base64.b64encode(os.urandom(24)).decode()
    method = environ.get("REQUEST_METHOD", "")
    headers = [("x-amz-request-id", request_id), ("x-amz-id-2", host_id)]
    try:
        status, extra, body = _answer(environ, method, request_id)
        headers.extend(extra)
    except IamError as exc:
        error = _as_s3(exc)
        status = error.status
        body = b"" if method == "HEAD" else protocol.serialize_error(error, request_id, host_id)
        headers.append(("Content-Type", "application/xml"))
    except Exception:  # a bug: 500 InternalError in S3's shape, details in the log
        logger.exception("unhandled error in S3 request %s", request_id)
        status = 500
        body = b"" if method == "HEAD" else protocol.serialize_error(InternalError(), request_id, host_id)
        headers.append(("Content-Type", "application/xml"))
    if not any(name == "Content-Length" for name, _ in headers):
        headers.append(("Content-Length", str(len(body))))
    headers.extend([("X-Content-Type-Options", "nosniff"), ("Server", "IAMClassroomS3")])
    if method == "HEAD":
        body = b""
    return status, headers, body


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def _as_s3(exc: IamError) -> IamError:
    """The Query API's credential errors under S3's own codes."""
    if isinstance(exc, sigv4.InvalidClientTokenId):
        return InvalidAccessKeyId()
    return exc


def _answer(environ: dict[str, Any], method: str, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    meta = HttpRequest()
    meta.META = environ
    try:
        host = meta.get_host()
    except DisallowedHost:
        raise InvalidRequest("The Host header names a host this server does not answer for.") from None
    raw_path = environ.get("PATH_INFO", "")
    try:
        path = raw_path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise InvalidRequest("Couldn't parse the specified URI.") from None
    query_text = environ.get("QUERY_STRING", "")
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    body = _read_body(environ, method, headers)
    if carries_nul(path + query_text, b""):
        raise InvalidRequest("Requests may not contain NUL characters.")
    http = sigv4.HttpRequest(method=method, host=host, path=path, query=query_text, headers=headers, body=body)
    signed = sigv4.parse_signature(http)
    if signed is None and ("Signature=" in query_text or headers.get("authorization", "").startswith("AWS ")):
        raise InvalidRequest(
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
        )
    if signed is None:
        raise AccessDeniedS3("Anonymous requests are not supported by this practice service; sign your request.")
    if signed.service != "s3":
        raise InvalidRequest(f"Credential should be scoped to correct service: 's3'. Credential={signed.access_key_id}")
    payload_hash, body = _payload(signed, headers, body)
    http = sigv4.HttpRequest(method=method, host=host, path=path, query=query_text, headers=headers, body=body)
    ctx, policy_rows = auth.authenticate(
        http,
        signed,
        source_ip=client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR")),
        user_agent=headers.get("user-agent", ""),
        request_id=request_id,
        secure=is_secure(environ),
        payload_hash=payload_hash,
        normalize_path=False,
    )
    rest = path[len(PREFIX) :].lstrip("/")
    bucket, _, key = rest.partition("/")
    query = protocol.query_dict(query_text)
    name = protocol.route(method, bucket, key, query, headers, handlers.HANDLERS)
    handler = handlers.HANDLERS.get(name)
    if handler is None:
        raise FeatureNotImplemented(f"The {name} operation is not supported by this practice service.")
    operation = protocol.service_model().operation_model(name)
    params = protocol.parse_input(operation, bucket=bucket, key=key, query=query, headers=headers, body=body)
    with authz.prefetched(ctx.principal, policy_rows):
        result = handler(ctx, params)
    status = int(result.pop("_status", 200))
    out_headers, out_body = protocol.serialize(operation, result)
    if out_body and name != "GetObject":
        out_headers.append(("Content-Type", "application/xml"))
    return status, out_headers, out_body


def _read_body(environ: dict[str, Any], method: str, headers: dict[str, str]) -> bytes:
    if method in ("GET", "HEAD", "DELETE") and not environ.get("CONTENT_LENGTH"):
        return b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise MissingContentLength()
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise InvalidArgument("Content-Length is not a number", ArgumentName="Content-Length") from None
    if length < 0:
        raise InvalidArgument("Content-Length is negative", ArgumentName="Content-Length")
    limit = services.max_object_size()
    declared = headers.get("x-amz-decoded-content-length")
    if length > limit + _SLACK or (declared and declared.isdigit() and int(declared) > limit):
        raise EntityTooLarge(ProposedSize=str(declared or length), MaxSizeAllowed=str(limit))
    body = environ["wsgi.input"].read(length) if length else b""
    if len(body) != length:
        raise IncompleteBody()
    return body


def _payload(signed: sigv4.SignedRequest, headers: dict[str, str], body: bytes) -> tuple[str, bytes]:
    """The payload hash the signature covers and the object bytes, by S3's ``x-amz-content-sha256`` rules."""
    if signed.presigned:
        return UNSIGNED, body
    claimed = headers.get("x-amz-content-sha256")
    if claimed is None:
        raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
    if claimed == UNSIGNED:
        return claimed, body
    if claimed == STREAMING_UNSIGNED:
        return claimed, _decode_chunked(body)
    if claimed.startswith("STREAMING-"):
        raise FeatureNotImplemented(f"x-amz-content-sha256 {claimed} is not supported by this practice service.")
    if claimed != hashlib.sha256(body).hexdigest():
        raise XAmzContentSHA256Mismatch(
            ClientComputedContentSHA256=claimed, S3ComputedContentSHA256=hashlib.sha256(body).hexdigest()
        )
    return claimed, body


def _decode_chunked(body: bytes) -> bytes:
    """``aws-chunked`` (unsigned, with a checksum trailer): ``<hex size>\\r\\n<data>\\r\\n`` … ``0\\r\\n<trailer>``."""
    out = bytearray()
    at = 0
    while True:
        end = body.find(b"\r\n", at)
        if end < 0:
            raise IncompleteBody()
        try:
            size = int(body[at:end].split(b";", 1)[0], 16)
        except ValueError:
            raise IncompleteBody() from None
        at = end + 2
        if size == 0:
            return bytes(out)
        out += body[at : at + size]
        if len(body) < at + size:
            raise IncompleteBody()
        at += size + 2
