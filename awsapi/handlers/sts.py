"""STS Query API handlers."""

from __future__ import annotations

from typing import Any

from awsapi.dispatch import operation
from awsapi.handlers import shapes
from classroom import root_access
from core.calls import iam_call
from core.context import CallContext
from core.errors import IamError
from core.validation import check_input
from identities.services import Tag
from sts import services as sts

P = dict[str, Any]


def credentials_shape(issued: sts.IssuedCredentials) -> P:
    return {
        "AccessKeyId": issued.access_key_id,
        "SecretAccessKey": issued.secret_access_key,
        "SessionToken": issued.session_token,
        "Expiration": issued.expiration,
    }


@operation("sts", "GetCallerIdentity")
def get_caller_identity(ctx: CallContext, p: P) -> P:
    return sts.get_caller_identity(ctx)


@operation("sts", "AssumeRole")
def assume_role(ctx: CallContext, p: P) -> P:
    # Trusted identity propagation contexts and large-token requests are not modelled.
    shapes.refuse(p, "ProvidedContexts", "MinimumSessionTokenSize", service="sts")
    issued = sts.assume_role(
        ctx,
        role_arn=p.get("RoleArn"),
        role_session_name=p.get("RoleSessionName"),
        duration_seconds=p.get("DurationSeconds"),
        external_id=p.get("ExternalId"),
        serial_number=p.get("SerialNumber"),
        token_code=p.get("TokenCode"),
        policy=p.get("Policy"),
        policy_arns=[x["arn"] for x in p.get("PolicyArns") or []],
        tags=[Tag(t["Key"], t.get("Value", "")) for t in p.get("Tags") or []],
        transitive_tag_keys=p.get("TransitiveTagKeys") or [],
        source_identity=p.get("SourceIdentity"),
    )
    result: P = {
        "Credentials": credentials_shape(issued),
        "AssumedRoleUser": {"AssumedRoleId": issued.credential.principal_id, "Arn": issued.credential.arn},
        "PackedPolicySize": 0,
    }
    if issued.credential.source_identity:
        result["SourceIdentity"] = issued.credential.source_identity
    return result


@operation("sts", "GetSessionToken")
def get_session_token(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "MinimumSessionTokenSize", service="sts")
    issued = sts.get_session_token(
        ctx,
        duration_seconds=p.get("DurationSeconds"),
        serial_number=p.get("SerialNumber"),
        token_code=p.get("TokenCode"),
    )
    return {"Credentials": credentials_shape(issued)}


@operation("sts", "GetAccessKeyInfo")
def get_access_key_info(ctx: CallContext, p: P) -> P:
    return {"Account": sts.get_access_key_info(ctx, access_key_id=p.get("AccessKeyId"))}


class InvalidAuthorizationMessage(IamError):
    code, status = "InvalidAuthorizationMessageException", 400


@operation("sts", "DecodeAuthorizationMessage")
def decode_authorization_message(ctx: CallContext, p: P) -> P:
    """IAM and STS never return encoded authorization messages (only services such as EC2 do), so there is never
    one of ours to decode: the call is authorized and audited like AWS's, and the message is refused."""
    message = p.get("EncodedMessage")
    with iam_call(ctx, "sts:DecodeAuthorizationMessage", "*", {}):
        check_input("sts", "DecodeAuthorizationMessage", EncodedMessage=message)
        raise InvalidAuthorizationMessage("The authorization message is invalid.")


@operation("sts", "GetFederationToken")
def get_federation_token(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "MinimumSessionTokenSize", service="sts")
    issued = sts.get_federation_token(
        ctx,
        name=p.get("Name"),
        duration_seconds=p.get("DurationSeconds"),
        policy=p.get("Policy"),
        policy_arns=[x["arn"] for x in p.get("PolicyArns") or []],
        tags=[Tag(t["Key"], t.get("Value", "")) for t in p.get("Tags") or []],
    )
    return {
        "Credentials": credentials_shape(issued),
        "FederatedUser": {"FederatedUserId": issued.credential.principal_id, "Arn": issued.credential.arn},
        "PackedPolicySize": 0,
    }


@operation("sts", "AssumeRoot")
def assume_root(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "MinimumSessionTokenSize", service="sts")
    issued = root_access.assume_root(
        ctx,
        target_principal=p.get("TargetPrincipal"),
        task_policy_arn=(p.get("TaskPolicyArn") or {}).get("arn"),
        duration_seconds=p.get("DurationSeconds"),
    )
    return {"Credentials": credentials_shape(issued), "SourceIdentity": issued.credential.source_identity}


@operation("sts", "GetScopedCredentials")
def get_scoped_credentials(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "MinimumSessionTokenSize", service="sts")
    issued, count = sts.get_scoped_credentials(
        ctx,
        policy=p.get("Policy"),
        duration_seconds=p.get("DurationSeconds"),
        scoped_session_description=p.get("ScopedSessionDescription"),
    )
    credential = issued.credential
    out: P = {
        "Credentials": credentials_shape(issued),
        "SessionInfo": {"ScopedSessionId": credential.principal_id, "Arn": credential.arn},
        "ScopedPoliciesCount": count,
    }
    if credential.source_identity:
        out["SourceIdentity"] = credential.source_identity
    return out
