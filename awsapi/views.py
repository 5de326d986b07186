"""``/aws``: the single endpoint of the IAM and STS Query API (CSRF-exempt; nothing else of the console)."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qsl

from django.core.exceptions import DisallowedHost, RequestDataTooBig

from awsapi import auth, dispatch
from awsapi.protocol import parser, serializer, sigv4
from core.context import CallContext, Principal
from core.errors import IamError, ServiceFailure
from core.validation import carries_nul, service_model
from ec2 import api as ec2_api
from policies import authz

logger = logging.getLogger(__name__)
VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15"}


class InvalidParameterValue(IamError):
    code, status = "InvalidParameterValue", 400


def refuse(exc: DisallowedHost | RequestDataTooBig) -> tuple[int, bytes, str]:
    """A request Django itself would refuse (unknown Host, body over DATA_UPLOAD_MAX_MEMORY_SIZE): 400, in AWS's
    error format."""
    request_id = str(uuid.uuid4())
    if isinstance(exc, DisallowedHost):
        error = InvalidParameterValue("The Host header names a host this server does not answer for.")
    else:
        error = InvalidParameterValue("The request body is too large.")
    return error.status, serializer.serialize_error("iam", error, request_id), request_id


def answer(http: sigv4.HttpRequest, *, source_ip: str, secure: bool = False) -> tuple[int, bytes, str]:
    """One Query API request, start to end: status, XML body and request ID. Every error, ours or a bug's, is
    answered in AWS's format; nothing raises. ``secure``: it came over HTTPS (``aws:SecureTransport``)."""
    request_id = str(uuid.uuid4())
    service = "iam"
    user_agent = http.headers.get("user-agent", "")
    try:
        if http.method not in ("POST", "GET"):
            raise InvalidParameterValue("The API accepts POST (and presigned GET) requests only.")
        if carries_nul(http.query, http.body):
            raise InvalidParameterValue("Requests may not contain NUL characters.")
        form = dict(parse_qsl(http.query, keep_blank_values=True))
        if http.method == "POST":
            form.update(parse_qsl(http.body.decode("utf-8", "replace"), keep_blank_values=True))
        signed = sigv4.parse_signature(http)
        if signed is not None and signed.service == "ec2":
            # A client with only AWS_ENDPOINT_URL set sends EC2 here too: EC2's own front answers it, in its format.
            return ec2_api.answer(http, source_ip=source_ip, secure=secure)
        action = form.get("Action", "")
        if signed is not None:
            service = signed.service if signed.service in VERSIONS else service
        elif form.get("Version") == VERSIONS["sts"]:
            service = "sts"
        if signed is None:
            if (service, action) not in dispatch.UNSIGNED:
                raise sigv4.MissingAuthenticationToken("Request is missing Authentication Token")
            policy_rows = None
            ctx = CallContext(
                Principal("Root", "", "", "anonymous", ""),
                origin="api",
                source_ip=source_ip,
                user_agent=user_agent,
                request_id=request_id,
                secure_transport=secure,
            )
        else:
            if signed.service not in VERSIONS:
                raise sigv4.SignatureDoesNotMatch(f"Credential should be scoped to a valid service: {signed.service}")
            ctx, policy_rows = auth.authenticate(
                http, signed, source_ip=source_ip, user_agent=user_agent, request_id=request_id, secure=secure
            )
        if not action:
            raise dispatch.InvalidAction("Could not find operation  for version " + VERSIONS[service])
        handler = dispatch.handler_for(service, action, VERSIONS[service])
        model = service_model(service).operation_model(action)
        params = parser.parse(model.input_shape, form)
        with authz.prefetched(ctx.principal, policy_rows):
            result = handler(ctx, params) or {}
        return 200, serializer.serialize(service, model, result, request_id), request_id
    except IamError as exc:
        return exc.status, serializer.serialize_error(service, exc, request_id), request_id
    except Exception:  # a bug: answer as AWS does (500 ServiceFailure) and keep the details in the log
        logger.exception("unhandled error in %s API request %s", service, request_id)
        failure = ServiceFailure("An internal error occurred.")
        return failure.status, serializer.serialize_error(service, failure, request_id), request_id
