"""AssumeRoleWithWebIdentity and AssumeRoleWithSAML: unsigned STS calls (the token is the credential)."""

from __future__ import annotations

from typing import Any

from awsapi.dispatch import operation
from awsapi.handlers import shapes
from awsapi.handlers.sts import credentials_shape
from core.context import CallContext
from sts import federation

P = dict[str, Any]


def _common(result: federation.FederatedCredentials) -> P:
    credential = result.issued.credential
    return {
        "Credentials": credentials_shape(result.issued),
        "AssumedRoleUser": {"AssumedRoleId": credential.principal_id, "Arn": credential.arn},
        "PackedPolicySize": 0,
        "Audience": result.audience,
    }


@operation("sts", "AssumeRoleWithWebIdentity")
def assume_role_with_web_identity(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "MinimumSessionTokenSize", service="sts")
    result = federation.assume_role_with_web_identity(
        ctx,
        role_arn=p.get("RoleArn"),
        role_session_name=p.get("RoleSessionName"),
        web_identity_token=p.get("WebIdentityToken"),
        provider_id=p.get("ProviderId"),
        duration_seconds=p.get("DurationSeconds"),
        policy=p.get("Policy"),
        policy_arns=[x["arn"] for x in p.get("PolicyArns") or []],
    )
    return {**_common(result), "SubjectFromWebIdentityToken": result.subject, "Provider": result.provider}


@operation("sts", "AssumeRoleWithSAML")
def assume_role_with_saml(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "MinimumSessionTokenSize", service="sts")
    result = federation.assume_role_with_saml(
        ctx,
        role_arn=p.get("RoleArn"),
        principal_arn=p.get("PrincipalArn"),
        saml_assertion=p.get("SAMLAssertion"),
        duration_seconds=p.get("DurationSeconds"),
        policy=p.get("Policy"),
        policy_arns=[x["arn"] for x in p.get("PolicyArns") or []],
    )
    return {
        **_common(result),
        "Subject": result.subject,
        "SubjectType": result.subject_type,
        "Issuer": result.provider,
        "NameQualifier": result.name_qualifier,
    }
