"""The one entry of the Query API: ``respond(environ)`` answers a ``/aws`` (IAM, STS; AWS Organizations' JSON
protocol, ``classroom.organizations_api``, by its ``X-Amz-Target``) or ``/ec2`` (the practice EC2 service,
``ec2.api``) request from its WSGI environ.

``/aws`` serves signed AWS requests only. Django's handler (its request object, the middleware chain, the
response object) costs about a tenth of a warm API call's own time (docs/benchmarks.md), and nothing in it means
anything to a SigV4-signed request. What of it does apply is kept here, once: the Host header is validated against
ALLOWED_HOSTS by Django's own code, the body is capped at DATA_UPLOAD_MAX_MEMORY_SIZE, NUL characters are refused
(``views.answer``) and the answer carries SecurityMiddleware's headers. In production ``with_query_api`` (wired in
``console.wsgi`` and the tests' live server) calls it before Django, sending request_started and request_finished
(Django closes stale database connections on them); under Django's handler (the test client)
``awsapi.middleware``, the first middleware, calls the same ``respond`` with the request's environ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from awsapi import views
from awsapi.protocol import sigv4
from classroom import organizations_api
from core.addresses import client_address, is_secure
from ec2 import api as ec2_api
from s3 import api as s3_api

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

EC2_PATHS = frozenset({"/ec2", "/ec2/"})  # the practice EC2 service (its own wire format: ec2.api)
PATHS = frozenset({"/aws", "/aws/"}) | EC2_PATHS  # the URL patterns ^aws/?$ and ^ec2/?$ in console/urls.py


def with_query_api(django_application: WsgiApp) -> WsgiApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in PATHS:
            answer = respond
        elif s3_api.serves(path):
            answer = s3_api.respond  # the S3 REST endpoint, answered in front of Django the same way
        else:
            return django_application(environ, start_response)
        signals.request_started.send(sender=__name__, environ=environ)
        try:
            status, headers, body = answer(environ)
        finally:
            signals.request_finished.send(sender=__name__)
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    return application


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    """``/aws`` (and ``/s3``) under Django's request handling: ``respond``, the one entry, on the request's environ
    (its body unread: ``QueryApiMiddleware`` runs first)."""

    answer = s3_api.respond if s3_api.serves(request.path_info) else respond
    status, headers, content = answer(request.META)
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response.headers[name] = value
    return response


def respond(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """One ``/aws`` request: status, headers and body (XML; JSON for Organizations). Every error is answered in
    AWS's format; nothing raises."""
    status, body, request_id, content_type = _answer(environ)
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", request_id),
        *_security_headers(),
    ]
    return status, headers, body


def _answer(environ: dict[str, Any]) -> tuple[int, bytes, str, str]:
    content_type = "text/xml"
    if environ.get("PATH_INFO") in EC2_PATHS:
        front: Any = ec2_api
    elif organizations_api.serves(environ.get("HTTP_X_AMZ_TARGET", ""), environ.get("HTTP_AUTHORIZATION", "")):
        front, content_type = organizations_api, organizations_api.CONTENT_TYPE  # AWS's JSON protocol
    else:
        front = views
    try:
        http = _http_request(environ)
    except (DisallowedHost, RequestDataTooBig) as exc:
        return *front.refuse(exc), content_type
    answered = front.answer(
        http,
        source_ip=client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR")),
        secure=is_secure(environ),
    )
    return *answered, content_type


def _http_request(environ: dict[str, Any]) -> sigv4.HttpRequest:
    meta = HttpRequest()
    meta.META = environ
    host = meta.get_host()  # Django's own ALLOWED_HOSTS check (raises DisallowedHost)
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return sigv4.HttpRequest(
        method=environ.get("REQUEST_METHOD", ""),
        host=host,
        path=environ["PATH_INFO"],
        query=environ.get("QUERY_STRING", ""),
        headers=headers,
        body=body,
    )


def _security_headers() -> list[tuple[str, str]]:
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        headers.append(("Referrer-Policy", settings.SECURE_REFERRER_POLICY))
    return headers
