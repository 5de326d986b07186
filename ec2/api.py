"""``/ec2``: the practice EC2 service's Query API, for boto3 and the AWS CLI with an endpoint setting
(``AWS_ENDPOINT_URL_EC2=http://localhost:8000/ec2``).

The same steps as ``/aws`` (``awsapi.views.answer``), reusing its parts: SigV4 verified by ``awsapi.protocol.sigv4``
with the key ``awsapi.auth`` finds, the form parsed by botocore's ``ec2`` model (EC2's member names and flattened
lists), the handler called, the result written from the output shape. EC2's own wire format differs from IAM's:
no result wrapper, ``<requestId>`` first, and errors as ``<Response><Errors><Error>…<RequestID>``.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qsl

from django.core.exceptions import DisallowedHost, RequestDataTooBig

from awsapi import auth
from awsapi.protocol import parser, serializer, sigv4
from core.errors import IamError, ValidationError
from core.validation import carries_nul, service_model
from ec2.errors import InvalidAction, InvalidParameterValue, UnknownParameter
from ec2.handlers import HANDLERS
from policies import authz

logger = logging.getLogger(__name__)
VERSION = "2016-11-15"


class AuthFailure(IamError):
    code, status = "AuthFailure", 401


class InternalError(IamError):
    code, status, sender_fault = "InternalError", 500, False


def refuse(exc: DisallowedHost | RequestDataTooBig) -> tuple[int, bytes, str]:
    request_id = str(uuid.uuid4())
    if isinstance(exc, DisallowedHost):
        error = InvalidParameterValue("The Host header names a host this server does not answer for.")
    else:
        error = InvalidParameterValue("The request body is too large.")
    return error.status, serializer.serialize_ec2_error(error, request_id), request_id


def _check_known(form: dict[str, str], action: str) -> None:
    """EC2 refuses a parameter its model does not have (``UnknownParameter``), rather than ignoring it."""
    shape = service_model("ec2").operation_model(action).input_shape
    known = {"Action", "Version"}
    if shape is not None:
        known |= {parser.ec2_name(name, member) for name, member in shape.members.items()}
    for key in form:
        if key.split(".", 1)[0] not in known and not key.startswith("X-Amz-"):  # a presigned request's signature
            raise UnknownParameter(f"The parameter {key} is not recognized")


def answer(http: sigv4.HttpRequest, *, source_ip: str, secure: bool = False) -> tuple[int, bytes, str]:
    """One EC2 request: status, XML body and request ID. Every error is answered in EC2's format; nothing raises."""
    request_id = str(uuid.uuid4())
    try:
        if http.method not in ("POST", "GET"):
            raise InvalidParameterValue("The API accepts POST (and presigned GET) requests only.")
        if carries_nul(http.query, http.body):
            raise InvalidParameterValue("Requests may not contain NUL characters.")
        form = dict(parse_qsl(http.query, keep_blank_values=True))
        if http.method == "POST":
            form.update(parse_qsl(http.body.decode("utf-8", "replace"), keep_blank_values=True))
        signed = sigv4.signature_for(http, "ec2", missing="Request is missing Authentication Token")
        try:
            ctx, policy_rows = auth.authenticate(
                http,
                signed,
                source_ip=source_ip,
                user_agent=http.headers.get("user-agent", ""),
                request_id=request_id,
                secure=secure,
            )
        except sigv4.InvalidClientTokenId:
            raise AuthFailure("AWS was not able to validate the provided access credentials") from None
        action = form.get("Action", "")
        handler = HANDLERS.get(action)
        if handler is None:
            raise InvalidAction(f"The action {action or '(none)'} is not valid for this web service.")
        model = service_model("ec2").operation_model(action)
        form.pop("Action", None)
        form.pop("Version", None)
        _check_known(form, action)
        try:
            params = parser.parse_ec2(model.input_shape, form)
        except ValidationError as exc:
            raise InvalidParameterValue(exc.message) from None
        with authz.prefetched(ctx.principal, policy_rows):
            result = handler(ctx, params) or {}
        return 200, serializer.serialize_ec2(model, result, request_id), request_id
    except IamError as exc:
        return exc.status, serializer.serialize_ec2_error(exc, request_id), request_id
    except Exception:  # a bug: answer as EC2 does (500 InternalError) and keep the details in the log
        logger.exception("unhandled error in ec2 API request %s", request_id)
        failure = InternalError("An internal error has occurred")
        return failure.status, serializer.serialize_ec2_error(failure, request_id), request_id
