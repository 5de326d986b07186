"""AssumeRoleWithWebIdentity and AssumeRoleWithSAML: temporary credentials for a federated caller.

Both calls arrive unsigned: the token or assertion is the credential. Each one is checked in AWS's order
(well-formed → the IAM identity provider exists in the role's account → signature → time → audience), then the
role's trust policy decides through the engine, as for ``sts.services.assume_role``: the caller is a
``WebIdentityUser`` / ``SAMLUser`` principal whose ARN is the provider's, so a trust statement with
``{"Federated": <provider ARN>}`` names it, and the claims become condition keys (``<provider-url>:aud``,
``SAML:sub``…).

Only tokens of the classroom's own IdPs (``sts.idp``) can be verified: nothing here can fetch another issuer's keys,
which AWS reports as it does when an IdP's keys cannot be retrieved. Each account is its own IdP, and a token or
assertion is accepted only for a role of the account that issued it, verified with that account's key: the issuer
must be the one the role's account registered (the OIDC provider's URL, the SAML metadata's entity ID and
certificate), and a classroom issuer of another account is refused even if the role's account registered it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidInput, InvalidSignature

from audit.services import build_record, save_record
from core import arns, clock
from core.calls import iam_call
from core.context import CallContext, Principal
from core.errors import AccessDenied, IamError
from core.validation import check_input
from identities.models import Account, OpenIdConnectProvider, Role, SamlProvider
from identities.roles import find_role_by_arn
from sts import idp
from sts.models import IdentityProviderKey, TemporaryCredential
from sts.services import (
    IssuedCredentials,
    assumed_role_record,
    mint_credentials,
    session_duration,
    session_policy_arns,
)

CLOCK_SKEW = timedelta(minutes=5)
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


class InvalidIdentityToken(IamError):
    code, status = "InvalidIdentityToken", 400


class ExpiredTokenException(IamError):
    code, status = "ExpiredTokenException", 400


NOT_VALIDATED = (
    "The web identity token that was passed could not be validated by AWS. Get a new identity token "
    "from the identity provider and then retry the request."
)
NO_KEYS = (
    "Couldn't retrieve verification key from your identity provider, please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)
NOT_A_JWT = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"


@dataclass(frozen=True)
class FederatedCredentials:
    """What AssumeRoleWith* return besides the credentials (``SubjectFromWebIdentityToken``/``Subject``…)."""

    issued: IssuedCredentials
    subject: str
    audience: str
    provider: str  # web identity: the OIDC provider's ARN; SAML: the assertion's issuer
    subject_type: str = ""
    name_qualifier: str = ""


def _caller(
    ctx: CallContext, kind: str, account_id: str, provider_arn: str, name: str, principal_id: str
) -> CallContext:
    """The federated caller: no IAM identity of its own, known to the engine by its provider's ARN."""
    principal = Principal(kind, account_id, provider_arn, name, principal_id)  # type: ignore[arg-type]
    return CallContext(
        principal, source_ip=ctx.source_ip, user_agent=ctx.user_agent, origin="api", request_id=ctx.request_id
    )


def _audit_refusal(
    ctx: CallContext, kind: str, account_id: str, event_name: str, params: dict[str, Any], error: IamError
) -> None:
    """A call refused before the trust policy was evaluated is history too, in the role's account (if any)."""
    if not account_id or not Account.objects.filter(pk=account_id).exists():
        return
    if ctx.principal.type != kind:  # refused before the provider was known
        ctx = _caller(ctx, kind, account_id, "", "", "")
    record = build_record(
        ctx,
        event_source="sts.amazonaws.com",
        event_name=event_name,
        request_parameters={k: v for k, v in params.items() if v is not None} or None,
        error_code=error.code,
        error_message=error.message,
    )
    save_record(ctx, record, resource_arn=params.get("roleArn") or "")


def _role_account(role_arn: str | None) -> str:
    parts = (role_arn or "").split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else ""


def _issue(
    call: Any,
    role: Role,
    *,
    session_name: str,
    source_arn: str,
    duration_seconds: int | None,
    policy: str | None,
    policy_arns: Sequence[str],
) -> IssuedCredentials:
    """The role session itself, as ``assume_role`` creates it."""
    duration = session_duration(role, duration_seconds, chained=False)
    session_arns = session_policy_arns(policy_arns, policy)
    now = clock.now()
    issued = mint_credentials(
        account_id=role.account_id,
        kind=TemporaryCredential.KIND_ROLE,
        role=role,
        source_arn=source_arn,
        session_name=session_name,
        arn=arns.assumed_role(role.account_id, role.name, session_name),
        principal_id=f"{role.role_id}:{session_name}",
        issued_at=now,
        expires_at=now + timedelta(seconds=duration),
        session_policy=policy or "",
        session_policy_arns=session_arns,
    )
    call.resources = [{"ARN": role.arn, "accountId": role.account_id, "type": "AWS::IAM::Role"}]
    return issued


def _assume(
    caller: CallContext,
    action: str,
    role_arn: str,
    params: dict[str, Any],
    context: dict[str, Any],
    response: dict[str, Any],
    **issue: Any,
) -> IssuedCredentials:
    """Trust evaluation through ``iam_call`` (the engine, with the role's trust policy as the resource policy),
    then the session. AWS answers a refusal with a terse message; the audit record keeps the engine's reason."""
    try:
        with iam_call(caller, action, role_arn, params, condition_context=context) as call:
            role = find_role_by_arn(role_arn)
            if role is None:  # a race with DeleteRole
                raise AccessDenied(f"Not authorized to perform {action}")
            issued = _issue(call, role, source_arn=caller.principal.arn, **issue)
            call.response = {**assumed_role_record(issued.credential), **response}
            return issued
    except AccessDenied as exc:
        raise AccessDenied(f"Not authorized to perform {action}", explanation=exc.explanation) from None


# ---- AssumeRoleWithWebIdentity ----------------------------------------------------------------------------------


def _token_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidIdentityToken(NOT_A_JWT) from None
    if not isinstance(claims.get("iss"), str) or not claims.get("sub"):
        raise InvalidIdentityToken(NOT_A_JWT)
    return header, claims


def _verify_signature(token: str, header: dict[str, Any], issuer: str, account_id: str) -> None:
    """Only this server's issuers have keys we can reach: each account's own, in the database. A token is verified
    with the key of the account its issuer names, and that account must be the role's."""
    owner = idp.issuer_account(issuer)
    if owner is None:
        raise InvalidIdentityToken(NO_KEYS)
    if owner != account_id:  # another student's issuer, even when this account registered it
        raise InvalidIdentityToken(NOT_VALIDATED)
    key = idp.existing_signing_key(owner, IdentityProviderKey.KIND_OIDC)
    if key is None or header.get("kid") != key.key_id:
        raise InvalidIdentityToken(NO_KEYS)
    try:
        jwt.decode(
            token,
            key.public_key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        raise InvalidIdentityToken(NOT_VALIDATED) from None


def _check_times(claims: dict[str, Any]) -> None:
    now = clock.now()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise InvalidIdentityToken(NOT_VALIDATED)
    if now.timestamp() >= exp:
        raise ExpiredTokenException(
            f"Token expired: current date/time {int(now.timestamp())} must be before the expiration date/time{int(exp)}"
        )
    if datetime.fromtimestamp(iat, UTC) > now + CLOCK_SKEW:
        raise InvalidIdentityToken(NOT_VALIDATED)


def assume_role_with_web_identity(
    ctx: CallContext,
    *,
    role_arn: str,
    role_session_name: str,
    web_identity_token: str,
    provider_id: str | None = None,
    duration_seconds: int | None = None,
    policy: str | None = None,
    policy_arns: Sequence[str] = (),
) -> FederatedCredentials:
    action = "sts:AssumeRoleWithWebIdentity"
    account_id = _role_account(role_arn)
    params: dict[str, Any] = {
        "roleArn": role_arn,
        "roleSessionName": role_session_name,
        "durationSeconds": duration_seconds,
        "providerId": provider_id,
        "policyArns": [{"arn": a} for a in policy_arns] or None,
    }
    try:
        check_input(
            "sts",
            "AssumeRoleWithWebIdentity",
            RoleArn=role_arn,
            RoleSessionName=role_session_name,
            WebIdentityToken=web_identity_token,
            ProviderId=provider_id,
            DurationSeconds=duration_seconds,
            Policy=policy,
        )
        header, claims = _token_parts(web_identity_token)
        issuer = claims["iss"]
        url = issuer.removeprefix("https://")
        provider = (
            OpenIdConnectProvider.objects.in_account(account_id).filter(url__in={url, url.rstrip("/")}).first()
            if account_id and issuer.startswith("https://")
            else None
        )
        if provider is None:
            raise InvalidIdentityToken(f"No OpenIDConnect provider found in your account for {issuer}")
        sub = str(claims["sub"])
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        audience = next((a for a in audiences if a in provider.client_ids), audiences[0] if audiences else "")
        ctx = _caller(ctx, "WebIdentityUser", account_id, provider.arn, sub, f"{provider.arn}:{audience}:{sub}")
        _verify_signature(web_identity_token, header, issuer, account_id)
        _check_times(claims)
        if audience not in provider.client_ids:
            raise InvalidIdentityToken("Incorrect token audience")
    except IamError as exc:
        _audit_refusal(ctx, "WebIdentityUser", account_id, "AssumeRoleWithWebIdentity", params, exc)
        raise
    context = {
        f"{url}:aud": audience,
        f"{url}:sub": sub,
        "aws:FederatedProvider": provider.arn,
        "sts:RoleSessionName": role_session_name,
    }
    response = {"subjectFromWebIdentityToken": sub, "audience": audience, "provider": provider.arn}
    issued = _assume(
        ctx,
        action,
        role_arn,
        params,
        context,
        response,
        session_name=role_session_name,
        duration_seconds=duration_seconds,
        policy=policy,
        policy_arns=policy_arns,
    )
    return FederatedCredentials(issued, subject=sub, audience=audience, provider=provider.arn)


# ---- AssumeRoleWithSAML -----------------------------------------------------------------------------------------

_NS = {"saml": idp.NS_SAML, "samlp": idp.NS_SAMLP, "md": idp.NS_MD, "ds": idp.NS_DS}
_SUBJECT_TYPES = {
    idp.NAMEID_PERSISTENT: "persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient": "transient",
}


@dataclass(frozen=True)
class SamlClaims:
    issuer: str
    subject: str
    subject_type: str
    recipient: str
    audiences: tuple[str, ...]
    not_on_or_after: datetime | None
    not_before: datetime | None
    attributes: dict[str, list[str]]


def _xml(data: bytes | str) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    return etree.fromstring(data.encode() if isinstance(data, str) else data, parser=parser)


def metadata_signing_certificates(metadata: str) -> tuple[str, list[str]]:
    """The entityID and the signing certificates (PEM) of a SAML IdP metadata document."""
    try:
        root = _xml(metadata)
    except etree.XMLSyntaxError:
        return "", []
    descriptor = root if root.tag == f"{{{idp.NS_MD}}}EntityDescriptor" else root.find(".//md:EntityDescriptor", _NS)
    if descriptor is None:
        return "", []
    pems = []
    for key in descriptor.iterfind(".//md:IDPSSODescriptor/md:KeyDescriptor", _NS):
        if key.get("use") not in (None, "signing"):
            continue
        for cert in key.iterfind(".//ds:X509Certificate", _NS):
            body = "".join((cert.text or "").split())
            lines = [body[i : i + 64] for i in range(0, len(body), 64)]
            pems.append("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n")
    return descriptor.get("entityID", ""), pems


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidIdentityToken("Invalid SAML response") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _verified_assertion(saml_response: bytes, certificates: list[str]) -> Any:
    """The signed assertion (only what the signature covers is read: no signature-wrapping)."""
    for pem in certificates:
        try:
            result = XMLVerifier().verify(saml_response, x509_cert=pem)
        except (InvalidSignature, InvalidInput, ValueError):
            continue
        results = result if isinstance(result, list) else [result]
        signed = results[0].signed_xml
        if signed is not None and signed.tag == f"{{{idp.NS_SAML}}}Assertion":
            return signed
    raise InvalidIdentityToken("Response signature invalid")


def _check_classroom_issuer(saml_response: bytes, issuer: str, account_id: str) -> None:
    """An assertion from one of this server's IdPs must come from the role's account and verify with that account's
    own key, whatever certificate the provider's metadata holds (another student's metadata, an old one)."""
    owner = idp.saml_entity_account(issuer)
    if owner is None:
        return  # an external IdP: its metadata's certificate is all there is, as in AWS
    key = idp.existing_signing_key(owner, IdentityProviderKey.KIND_SAML)
    if owner != account_id or key is None:
        raise InvalidIdentityToken("Response signature invalid")
    _verified_assertion(saml_response, [key.certificate_pem])


def _claims(assertion: Any) -> SamlClaims:
    def text(path: str) -> str:
        node = assertion.find(path, _NS)
        return (node.text or "").strip() if node is not None else ""

    name_id = assertion.find("saml:Subject/saml:NameID", _NS)
    confirmation = assertion.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", _NS)
    conditions = assertion.find("saml:Conditions", _NS)
    ends = [_time(el.get("NotOnOrAfter")) for el in (confirmation, conditions) if el is not None]
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", _NS):
        values = [(v.text or "").strip() for v in attribute.iterfind("saml:AttributeValue", _NS)]
        attributes.setdefault(attribute.get("Name", ""), []).extend(values)
    fmt = name_id.get("Format", "") if name_id is not None else ""
    return SamlClaims(
        issuer=text("saml:Issuer"),
        subject=(name_id.text or "").strip() if name_id is not None else "",
        subject_type=_SUBJECT_TYPES.get(fmt, fmt),
        recipient=confirmation.get("Recipient", "") if confirmation is not None else "",
        audiences=tuple(
            (a.text or "").strip()
            for a in assertion.iterfind("saml:Conditions/saml:AudienceRestriction/saml:Audience", _NS)
        ),
        not_on_or_after=min((e for e in ends if e is not None), default=None),
        not_before=_time(conditions.get("NotBefore")) if conditions is not None else None,
        attributes=attributes,
    )


def name_qualifier(issuer: str, account_id: str, provider_name: str) -> str:
    """AWS's NameQualifier: base64(SHA-1(issuer + account ID + "/" + provider name))."""
    return base64.b64encode(hashlib.sha1(f"{issuer}{account_id}/{provider_name}".encode()).digest()).decode()  # noqa: S324


def _role_pairs(values: list[str]) -> set[tuple[str, str]]:
    """Role attribute values are "role ARN,provider ARN", in either order."""
    pairs = set()
    for value in values:
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 2:
            continue
        role, provider = sorted(parts, key=lambda a: ":saml-provider/" in a)
        pairs.add((role, provider))
    return pairs


def assume_role_with_saml(
    ctx: CallContext,
    *,
    role_arn: str,
    principal_arn: str,
    saml_assertion: str,
    duration_seconds: int | None = None,
    policy: str | None = None,
    policy_arns: Sequence[str] = (),
) -> FederatedCredentials:
    action = "sts:AssumeRoleWithSAML"
    account_id = _role_account(role_arn)
    params: dict[str, Any] = {
        "roleArn": role_arn,
        "principalArn": principal_arn,
        "durationSeconds": duration_seconds,
        "policyArns": [{"arn": a} for a in policy_arns] or None,
    }
    try:
        check_input(
            "sts",
            "AssumeRoleWithSAML",
            RoleArn=role_arn,
            PrincipalArn=principal_arn,
            SAMLAssertion=saml_assertion,
            DurationSeconds=duration_seconds,
            Policy=policy,
        )
        try:
            document = base64.b64decode(saml_assertion, validate=True)
            _xml(document)
        except (binascii.Error, ValueError, etree.XMLSyntaxError):
            raise InvalidIdentityToken("Invalid SAML response") from None
        provider = SamlProvider.objects.in_account(account_id).filter(arn=principal_arn).first() if account_id else None
        if provider is None:
            raise InvalidIdentityToken("Specified provider doesn't exist.")
        ctx = _caller(ctx, "SAMLUser", account_id, provider.arn, "", "")
        entity_id, certificates = metadata_signing_certificates(provider.metadata_document)
        claims = _claims(_verified_assertion(document, certificates))
        qualifier = name_qualifier(claims.issuer, provider.account_id, provider.name)
        ctx = _caller(ctx, "SAMLUser", account_id, provider.arn, claims.subject, f"{qualifier}:{claims.subject}")
        if entity_id and claims.issuer != entity_id:
            raise InvalidIdentityToken("Issuer not present in specified provider")
        _check_classroom_issuer(document, claims.issuer, account_id)
        now = clock.now()
        if claims.not_on_or_after is not None and now >= claims.not_on_or_after:
            raise ExpiredTokenException("Token must be redeemed within 5 minutes of issuance")
        if claims.not_before is not None and claims.not_before > now + CLOCK_SKEW:
            raise InvalidIdentityToken("Response is not yet valid")
        if idp.SAML_AUDIENCE not in claims.audiences:
            raise InvalidIdentityToken("Response does not contain the required audience.")
        if (role_arn, principal_arn) not in _role_pairs(claims.attributes.get(idp.SAML_ROLE_ATTRIBUTE, [])):
            raise AccessDenied(f"Not authorized to perform {action}")
        session_names = claims.attributes.get(idp.SAML_SESSION_NAME_ATTRIBUTE) or []
        if not session_names or not session_names[0]:
            raise InvalidIdentityToken("RoleSessionName is required in AuthnResponse")
        session_name = session_names[0]
        if not SESSION_NAME.match(session_name):
            raise InvalidIdentityToken("RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}")
    except IamError as exc:
        _audit_refusal(ctx, "SAMLUser", account_id, "AssumeRoleWithSAML", params, exc)
        raise
    audience = claims.recipient or idp.SAML_AUDIENCE
    context = {
        "SAML:aud": audience,
        "SAML:sub": claims.subject,
        "SAML:sub_type": claims.subject_type,
        "SAML:iss": claims.issuer,
        "SAML:namequalifier": qualifier,
        "SAML:doc": f"{provider.account_id}/{provider.name}",
        "aws:FederatedProvider": provider.arn,
        "sts:RoleSessionName": session_name,
    }
    response = {
        "subject": claims.subject,
        "subjectType": claims.subject_type,
        "issuer": claims.issuer,
        "audience": audience,
        "nameQualifier": qualifier,
    }
    issued = _assume(
        ctx,
        action,
        role_arn,
        params,
        context,
        response,
        session_name=session_name,
        duration_seconds=duration_seconds,
        policy=policy,
        policy_arns=policy_arns,
    )
    return FederatedCredentials(
        issued,
        subject=claims.subject,
        audience=audience,
        provider=claims.issuer,
        subject_type=claims.subject_type,
        name_qualifier=qualifier,
    )
