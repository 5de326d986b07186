"""``/aws``: the single endpoint of the IAM and STS Query API (CSRF-exempt; nothing else of the console)."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from awsapi import auth, dispatch
from awsapi.protocol import parser, serializer, sigv4
from core.context import CallContext, Principal
from core.errors import IamError, ServiceFailure
from core.validation import service_model
from policies import authz

logger = logging.getLogger(__name__)
VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15"}


class InvalidParameterValue(IamError):
    code, status = "InvalidParameterValue", 400


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    request_id = str(uuid.uuid4())
    service = "iam"
    try:
        if request.method not in ("POST", "GET"):
            raise InvalidParameterValue("The API accepts POST (and presigned GET) requests only.")
        http = sigv4.HttpRequest(
            method=request.method, host=request.get_host(), path=request.path,
            query=request.META.get("QUERY_STRING", ""),
            headers={k.lower(): v for k, v in request.headers.items()}, body=request.body,
        )
        form = dict(parse_qsl(http.query, keep_blank_values=True))
        if request.method == "POST":
            form.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        signed = sigv4.parse_signature(http)
        action = form.get("Action", "")
        if signed is not None:
            service = signed.service if signed.service in VERSIONS else service
        elif form.get("Version") == VERSIONS["sts"]:
            service = "sts"
        if signed is None:
            if (service, action) not in dispatch.UNSIGNED:
                raise sigv4.MissingAuthenticationToken("Request is missing Authentication Token")
            policy_rows = None
            ctx = CallContext(Principal("Root", "", "", "anonymous", ""), origin="api",
                              source_ip=_ip(request), user_agent=request.headers.get("User-Agent", ""),
                              request_id=request_id)
        else:
            if signed.service not in VERSIONS:
                raise sigv4.SignatureDoesNotMatch(f"Credential should be scoped to a valid service: {signed.service}")
            ctx, policy_rows = auth.authenticate(http, signed, source_ip=_ip(request),
                                                 user_agent=request.headers.get("User-Agent", ""))
            ctx = CallContext(ctx.principal, source_ip=ctx.source_ip, user_agent=ctx.user_agent, origin="api",
                              access_key_id=ctx.access_key_id, request_id=request_id)
        if not action:
            raise dispatch.InvalidAction("Could not find operation  for version " + VERSIONS[service])
        handler = dispatch.handler_for(service, action, VERSIONS[service])
        model = service_model(service).operation_model(action)
        params = parser.parse(model.input_shape, form)
        with authz.prefetched(ctx.principal, policy_rows):
            result = handler(ctx, params) or {}
        body = serializer.serialize(service, model, result, request_id)
        return HttpResponse(body, content_type="text/xml", headers={"x-amzn-RequestId": request_id})
    except IamError as exc:
        return _error(service, exc, request_id)
    except Exception:  # a bug: answer as AWS does (500 ServiceFailure) and keep the details in the log
        logger.exception("unhandled error in %s API request %s", service, request_id)
        return _error(service, ServiceFailure("An internal error occurred."), request_id)


def _error(service: str, error: IamError, request_id: str) -> HttpResponse:
    return HttpResponse(serializer.serialize_error(service, error, request_id), status=error.status,
                        content_type="text/xml", headers={"x-amzn-RequestId": request_id})


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "127.0.0.1")
