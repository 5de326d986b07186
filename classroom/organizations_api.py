"""AWS Organizations' API (read-only), for boto3, the AWS CLI and tools such as Prowler with ``AWS_ENDPOINT_URL``.

Organizations speaks AWS's ``json`` protocol (``awsapi.protocol.awsjson``): ``POST`` with ``X-Amz-Target:
AWSOrganizationsV20161128.<Operation>`` and a JSON body. A client with only ``AWS_ENDPOINT_URL`` set sends it to
``/aws``; ``awsapi.wsgi`` hands a request carrying Organizations' target, or signed for ``organizations``, here (the
answer is JSON, not the Query API's XML). The same steps as ``/aws``: SigV4 verified by
``awsapi.protocol.sigv4`` with the key ``awsapi.auth`` finds (the credential scoped to ``organizations``), the body
parsed by botocore's ``organizations`` model, one service of ``classroom.organizations`` called, the result written
from the output shape. ``NextToken``/``MaxResults`` page here, over the service's whole list.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import DisallowedHost, RequestDataTooBig

from awsapi import auth
from awsapi.protocol import awsjson, sigv4
from classroom import organizations
from classroom.errors import InvalidInputException
from classroom.models import Organization, ServiceControlPolicy
from core.context import CallContext
from core.errors import IamError
from core.validation import carries_nul, service_model
from policies import authz

logger = logging.getLogger(__name__)
SERVICE = "organizations"
TARGET_PREFIX = service_model(SERVICE).metadata["targetPrefix"] + "."
CONTENT_TYPE = "application/x-amz-json-" + service_model(SERVICE).metadata["jsonVersion"]
DEFAULT_PAGE = 20  # MaxResults' upper bound in the model

P = dict[str, Any]
Handler = Callable[[CallContext, P], P]
HANDLERS: dict[str, Handler] = {}


def serves(target: str, authorization: str = "") -> bool:
    """Whether a request is Organizations': its ``X-Amz-Target`` header names it, or (a request without the target,
    which Organizations answers ``UnknownOperationException``) its signature is scoped to it."""
    return target.startswith(TARGET_PREFIX) or f"/{SERVICE}/aws4_request" in authorization


# ---- errors the protocol answers itself (the names AWS's JSON services use) -------------------------------------


class UnknownOperationException(IamError):
    code, status = "UnknownOperationException", 400


class ServiceException(IamError):
    code, status, sender_fault = "ServiceException", 500, False


# The Query API's authentication errors, under the names AWS's JSON services answer them with.
class UnrecognizedClientException(IamError):
    code, status = "UnrecognizedClientException", 400


class InvalidSignatureException(IamError):
    code, status = "InvalidSignatureException", 400


class IncompleteSignatureException(IamError):
    code, status = "IncompleteSignatureException", 400


class MissingAuthenticationTokenException(IamError):
    code, status = "MissingAuthenticationTokenException", 400


class ExpiredTokenException(IamError):
    code, status = "ExpiredTokenException", 400


_AUTH_ERRORS: dict[str, type[IamError]] = {
    "InvalidClientTokenId": UnrecognizedClientException,
    "SignatureDoesNotMatch": InvalidSignatureException,
    "RequestExpired": InvalidSignatureException,
    "IncompleteSignature": IncompleteSignatureException,
    "AuthorizationQueryParametersError": IncompleteSignatureException,
    "MissingAuthenticationToken": MissingAuthenticationTokenException,
    "ExpiredToken": ExpiredTokenException,
}


def _as_json_service(error: IamError) -> IamError:
    kind = _AUTH_ERRORS.get(error.code)
    return kind(error.message) if kind is not None else error


def _error(error: IamError, request_id: str) -> tuple[int, bytes, str]:
    error = _as_json_service(error)
    reason = error.reason if isinstance(error, InvalidInputException) else None
    return error.status, awsjson.serialize_error(error, Reason=reason), request_id


def refuse(exc: DisallowedHost | RequestDataTooBig) -> tuple[int, bytes, str]:
    request_id = str(uuid.uuid4())
    if isinstance(exc, DisallowedHost):
        error = InvalidInputException("INVALID_PATTERN", "The Host header names a host this server doesn't answer for.")
    else:
        error = InvalidInputException("MAX_LENGTH_EXCEEDED", "The request body is too large.")
    return _error(error, request_id)


def answer(http: sigv4.HttpRequest, *, source_ip: str, secure: bool = False) -> tuple[int, bytes, str]:
    """One Organizations request: status, JSON body and request ID. Every error is answered in the JSON protocol's
    format; nothing raises."""
    request_id = str(uuid.uuid4())
    try:
        if http.method != "POST":
            raise UnknownOperationException("The API accepts POST requests only.")
        if carries_nul(http.query, http.body):
            raise InvalidInputException("INVALID_PATTERN", "Requests may not contain NUL characters.")
        signed = sigv4.signature_for(http, SERVICE, missing="Missing Authentication Token")
        ctx, policy_rows = auth.authenticate(
            http,
            signed,
            source_ip=source_ip,
            user_agent=http.headers.get("user-agent", ""),
            request_id=request_id,
            secure=secure,
        )
        action = http.headers.get("x-amz-target", "")[len(TARGET_PREFIX) :]
        handler = HANDLERS.get(action)
        if handler is None:
            raise UnknownOperationException(f"The operation {action or '(none)'} is not supported by this endpoint.")
        model = service_model(SERVICE).operation_model(action)
        try:
            params = awsjson.parse(model.input_shape, http.body)
        except awsjson.Violation as violation:
            raise InvalidInputException(violation.reason) from None
        with authz.prefetched(ctx.principal, policy_rows):
            result = handler(ctx, params)
        return 200, awsjson.serialize(model, result), request_id
    except IamError as exc:
        return _error(exc, request_id)
    except Exception:  # a bug: answer as Organizations does (500 ServiceException) and keep the details in the log
        logger.exception("unhandled error in organizations API request %s", request_id)
        failure = ServiceException(
            "AWS Organizations can't complete your request because of an internal service error. Try again later."
        )
        return _error(failure, request_id)


# ---- handlers: botocore's shapes ↔ classroom.organizations -------------------------------------------------------


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def page(items: Sequence[Any], p: P, key: str) -> P:
    """``NextToken``/``MaxResults`` over the whole list: ``{key: [...], "NextToken"?: str}``."""
    size = p.get("MaxResults") or DEFAULT_PAGE
    start = 0
    if p.get("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(p["NextToken"].encode()).decode())
        except ValueError:
            raise InvalidInputException("INVALID_NEXT_TOKEN") from None
        if not 0 <= start <= len(items):
            raise InvalidInputException("INVALID_NEXT_TOKEN")
    out: P = {key: list(items[start : start + size])}
    if start + size < len(items):
        out["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return out


def _policy_summary(policy: ServiceControlPolicy) -> P:
    return {
        "Id": policy.policy_id,
        "Arn": policy.arn,
        "Name": policy.name,
        "Description": policy.description,
        "Type": organizations.SERVICE_CONTROL_POLICY,
        "AwsManaged": policy.aws_managed,
    }


def _organization(org: Organization) -> P:
    manager = org.management_account
    return {
        "Id": org.id,
        "Arn": org.arn,
        "FeatureSet": org.feature_set,
        "MasterAccountArn": organizations.account_arn(org, manager.id),
        "MasterAccountId": manager.id,
        "MasterAccountEmail": manager.root_email,
        "AvailablePolicyTypes": [{"Type": organizations.SERVICE_CONTROL_POLICY, "Status": "ENABLED"}],
    }


@operation("DescribeOrganization")
def describe_organization(ctx: CallContext, p: P) -> P:
    return {"Organization": _organization(organizations.describe_organization(ctx))}


@operation("ListPolicies")
def list_policies(ctx: CallContext, p: P) -> P:
    policies = organizations.list_policies(ctx, policy_type=p["Filter"])
    out = page(policies, p, "Policies")
    out["Policies"] = [_policy_summary(policy) for policy in out["Policies"]]
    return out


@operation("DescribePolicy")
def describe_policy(ctx: CallContext, p: P) -> P:
    policy = organizations.describe_policy(ctx, policy_id=p["PolicyId"])
    return {"Policy": {"PolicySummary": _policy_summary(policy), "Content": policy.document}}


@operation("ListTargetsForPolicy")
def list_targets_for_policy(ctx: CallContext, p: P) -> P:
    targets = organizations.list_targets_for_policy(ctx, policy_id=p["PolicyId"])
    out = page(targets, p, "Targets")
    out["Targets"] = [{"TargetId": t.target_id, "Arn": t.arn, "Name": t.name, "Type": t.type} for t in out["Targets"]]
    return out


@operation("ListDelegatedAdministrators")
def list_delegated_administrators(ctx: CallContext, p: P) -> P:
    administrators = organizations.list_delegated_administrators(ctx, service_principal=p.get("ServicePrincipal"))
    return page(administrators, p, "DelegatedAdministrators")
