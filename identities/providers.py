"""IAM identity providers (SAML 2.0 and OpenID Connect) and service-linked roles: one function per AWS action.

The plain lookups at the top (``oidc_provider_for_issuer``, ``saml_provider_by_arn``, ``saml_signing_certificates``)
do no authorization: STS's AssumeRoleWithWebIdentity/SAML use them to find the provider a token names.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from xml.parsers.expat import ExpatError

from cryptography import x509
from django.db.models import QuerySet

from core import arns, clock, ids
from core.calls import iam_call
from core.context import CallContext
from core.errors import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    UnmodifiableEntity,
    ValidationError,
)
from core.validation import check_input
from identities.models import OpenIdConnectProvider, Role, SamlProvider, ServiceLinkedRoleDeletion
from identities.services import Tag, check_tags, merge_tags
from policies.models import ManagedPolicy, RolePolicyAttachment

SAML_PROVIDERS_PER_ACCOUNT = 100
OIDC_PROVIDERS_PER_ACCOUNT = 100
CLIENT_IDS_PER_PROVIDER = 100
THUMBPRINTS_PER_PROVIDER = 5
SERVICE_ROLE_PATH = "/aws-service-role/"
_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_DS = "http://www.w3.org/2000/09/xmldsig#"
_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")


# ---- ARNs and plain lookups (no authorization) ---------------------------------------------------------------


def saml_provider_arn(account_id: str, name: str) -> str:
    return f"arn:{arns.PARTITION}:iam::{account_id}:saml-provider/{name}"


def oidc_provider_arn(account_id: str, url: str) -> str:
    return f"arn:{arns.PARTITION}:iam::{account_id}:oidc-provider/{_bare_url(url)}"


def _bare_url(url: str) -> str:
    """The provider URL as IAM keeps it: without ``https://`` (the ARN and GetOpenIDConnectProvider's Url)."""
    return url[len("https://") :] if url.lower().startswith("https://") else url


def oidc_provider_for_issuer(account_id: str, url: str) -> OpenIdConnectProvider | None:
    """The account's OIDC provider for a token's ``iss`` (with or without ``https://``, trailing ``/`` ignored)."""
    bare = _bare_url(url)
    candidates = {bare, bare.rstrip("/")}
    return OpenIdConnectProvider.objects.in_account(account_id).filter(url__in=candidates).first()


def saml_provider_by_arn(account_id: str, arn: str) -> SamlProvider | None:
    return SamlProvider.objects.in_account(account_id).filter(arn=arn).first()


def saml_signing_certificates(provider: SamlProvider) -> list[x509.Certificate]:
    """The IdP's signing certificates from the provider's metadata document."""
    return _parse_metadata(provider.metadata_document)[0]


def is_service_linked(role: Role) -> bool:
    return role.path.startswith(SERVICE_ROLE_PATH)


def check_role_modifiable(role: Role) -> None:
    """Service-linked roles belong to their service: IAM refuses every change made through the ordinary actions."""
    if is_service_linked(role):
        raise UnmodifiableEntity(
            f"Cannot perform the operation on the protected role '{role.name}' - this role is only modifiable by AWS"
        )


# ---- SAML metadata ------------------------------------------------------------------------------------------


def _parse_metadata(document: str) -> tuple[list[x509.Certificate], datetime | None]:
    """An IdP's SAML metadata: EntityDescriptor → IDPSSODescriptor → signing KeyDescriptor → X509Certificate.

    Returns the signing certificates and the metadata's ``validUntil``; anything else is "Could not parse metadata".
    """
    if "<!DOCTYPE" in document or "<!ENTITY" in document:
        raise InvalidInput("Could not parse metadata")  # no DTDs: nothing to expand
    try:
        root = ET.fromstring(document)
    except (ET.ParseError, ExpatError):
        raise InvalidInput("Could not parse metadata") from None
    entities = [root] if root.tag == f"{{{_MD}}}EntityDescriptor" else root.findall(f"{{{_MD}}}EntityDescriptor")
    certificates: list[x509.Certificate] = []
    valid_until: datetime | None = None
    for entity in entities:
        for idp in entity.findall(f"{{{_MD}}}IDPSSODescriptor"):
            for key in idp.findall(f"{{{_MD}}}KeyDescriptor"):
                if key.get("use", "signing") != "signing":
                    continue
                for cert in key.iter(f"{{{_DS}}}X509Certificate"):
                    certificates.append(_certificate(cert.text or ""))
        if entity.get("validUntil") and valid_until is None:
            valid_until = _metadata_time(entity.get("validUntil", ""))
    if not certificates:
        raise InvalidInput("Could not parse metadata")
    return certificates, valid_until


def _certificate(text: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(text.split()), validate=True))
    except (ValueError, binascii.Error):
        raise InvalidInput("Could not parse metadata") from None


def _metadata_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("Could not parse metadata") from None
    if value.tzinfo is None:
        raise InvalidInput("Could not parse metadata")
    return value


def _valid_until(document: str, now: datetime) -> datetime:
    """The metadata's validUntil, or 100 years from now as IAM sets it when the metadata names none."""
    _, valid_until = _parse_metadata(document)
    return valid_until or now.replace(year=now.year + 100)


# ---- SAML providers -----------------------------------------------------------------------------------------


def find_saml_provider(account_id: str, arn: str) -> SamlProvider:
    provider = saml_provider_by_arn(account_id, arn)
    if provider is None:
        raise NoSuchEntity(f"Manifest not found for arn {arn}")
    return provider


def _tag_dicts(tags: Sequence[Tag]) -> list[dict[str, str]] | None:
    return [t.as_dict() for t in tags] or None


def create_saml_provider(
    ctx: CallContext, *, name: str, saml_metadata_document: str, tags: Sequence[Tag] = ()
) -> SamlProvider:
    arn = saml_provider_arn(ctx.account_id, name)
    with iam_call(ctx, "iam:CreateSAMLProvider", arn, {"name": name, "tags": _tag_dicts(tags)}) as call:
        check_input(
            "iam", "CreateSAMLProvider", Name=name, SAMLMetadataDocument=saml_metadata_document, Tags=_tag_dicts(tags)
        )
        check_tags(tags)
        now = clock.now()
        valid_until = _valid_until(saml_metadata_document, now)
        call.on_conflict = EntityAlreadyExists(f"Provider with name {name} already exists.")
        providers = SamlProvider.objects.in_account(ctx.account_id)
        if providers.filter(name=name).exists():
            raise call.on_conflict
        if providers.count() >= SAML_PROVIDERS_PER_ACCOUNT:
            raise LimitExceeded(f"Cannot exceed quota for SamlProvidersPerAccount: {SAML_PROVIDERS_PER_ACCOUNT}")
        provider = SamlProvider.objects.create(
            account_id=ctx.account_id,
            name=name,
            arn=arn,
            metadata_document=saml_metadata_document,
            valid_until=valid_until,
            created_at=now,
            tags=[t.as_dict() for t in tags],
            provider_uuid=ids.new_id("", 26),
        )
        call.response = {"sAMLProviderArn": arn}
        return provider


def update_saml_provider(ctx: CallContext, *, saml_provider_arn: str, saml_metadata_document: str) -> SamlProvider:
    with iam_call(ctx, "iam:UpdateSAMLProvider", saml_provider_arn, {"sAMLProviderArn": saml_provider_arn}) as call:
        check_input(
            "iam", "UpdateSAMLProvider", SAMLProviderArn=saml_provider_arn, SAMLMetadataDocument=saml_metadata_document
        )
        provider = find_saml_provider(ctx.account_id, saml_provider_arn)
        provider.valid_until = _valid_until(saml_metadata_document, clock.now())
        provider.metadata_document = saml_metadata_document
        provider.save(update_fields=["metadata_document", "valid_until"])
        call.response = {"sAMLProviderArn": provider.arn}
        return provider


def get_saml_provider(ctx: CallContext, *, saml_provider_arn: str) -> SamlProvider:
    with iam_call(ctx, "iam:GetSAMLProvider", saml_provider_arn, {"sAMLProviderArn": saml_provider_arn}):
        check_input("iam", "GetSAMLProvider", SAMLProviderArn=saml_provider_arn)
        return find_saml_provider(ctx.account_id, saml_provider_arn)


def list_saml_providers(ctx: CallContext) -> QuerySet[SamlProvider]:
    with iam_call(ctx, "iam:ListSAMLProviders", arns.account_wildcard(ctx.account_id, "saml-provider")):
        return SamlProvider.objects.in_account(ctx.account_id).order_by("name")


def delete_saml_provider(ctx: CallContext, *, saml_provider_arn: str) -> None:
    """Roles that trust the provider keep their trust policies, as in AWS (they just can't be assumed through it)."""
    with iam_call(ctx, "iam:DeleteSAMLProvider", saml_provider_arn, {"sAMLProviderArn": saml_provider_arn}):
        check_input("iam", "DeleteSAMLProvider", SAMLProviderArn=saml_provider_arn)
        find_saml_provider(ctx.account_id, saml_provider_arn).delete()


def tag_saml_provider(ctx: CallContext, *, saml_provider_arn: str, tags: Sequence[Tag]) -> None:
    with iam_call(
        ctx, "iam:TagSAMLProvider", saml_provider_arn, {"sAMLProviderArn": saml_provider_arn, "tags": _tag_dicts(tags)}
    ):
        check_input("iam", "TagSAMLProvider", SAMLProviderArn=saml_provider_arn, Tags=[t.as_dict() for t in tags])
        provider = find_saml_provider(ctx.account_id, saml_provider_arn)
        provider.tags = merge_tags(provider.tags, tags, "saml-provider")
        provider.save(update_fields=["tags"])


def untag_saml_provider(ctx: CallContext, *, saml_provider_arn: str, tag_keys: Sequence[str]) -> None:
    with iam_call(
        ctx,
        "iam:UntagSAMLProvider",
        saml_provider_arn,
        {"sAMLProviderArn": saml_provider_arn, "tagKeys": list(tag_keys)},
    ):
        check_input("iam", "UntagSAMLProvider", SAMLProviderArn=saml_provider_arn, TagKeys=list(tag_keys))
        provider = find_saml_provider(ctx.account_id, saml_provider_arn)
        drop = {k.lower() for k in tag_keys}
        provider.tags = [t for t in provider.tags if t["Key"].lower() not in drop]
        provider.save(update_fields=["tags"])


def list_saml_provider_tags(ctx: CallContext, *, saml_provider_arn: str) -> list[dict[str, str]]:
    with iam_call(ctx, "iam:ListSAMLProviderTags", saml_provider_arn, {"sAMLProviderArn": saml_provider_arn}):
        check_input("iam", "ListSAMLProviderTags", SAMLProviderArn=saml_provider_arn)
        return list(find_saml_provider(ctx.account_id, saml_provider_arn).tags)


# ---- OpenID Connect providers -------------------------------------------------------------------------------


def find_oidc_provider(account_id: str, arn: str) -> OpenIdConnectProvider:
    provider = OpenIdConnectProvider.objects.in_account(account_id).filter(arn=arn).first()
    if provider is None:
        raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}")
    return provider


def _check_url(url: str) -> None:
    host = url[len("https://") :].split("/", 1)[0] if url.lower().startswith("https://") else ""
    if not host or "?" in url or "#" in url or " " in url:
        raise ValidationError("Invalid Open ID Connect Provider URL")


def _check_thumbprints(thumbprints: Sequence[str]) -> None:
    if len(thumbprints) > THUMBPRINTS_PER_PROVIDER:
        raise InvalidInput("Thumbprint list must contain fewer than 5 entries.")
    bad = [t for t in thumbprints if not _THUMBPRINT.fullmatch(t)]
    if bad:
        raise InvalidInput(f"Thumbprint {bad[0]} is not a valid SHA-1 hex fingerprint (40 hexadecimal characters).")


def create_open_id_connect_provider(
    ctx: CallContext,
    *,
    url: str,
    client_id_list: Sequence[str] = (),
    thumbprint_list: Sequence[str] = (),
    tags: Sequence[Tag] = (),
) -> OpenIdConnectProvider:
    arn = oidc_provider_arn(ctx.account_id, url)
    params = {
        "url": url,
        "clientIDList": list(client_id_list) or None,
        "thumbprintList": list(thumbprint_list) or None,
        "tags": _tag_dicts(tags),
    }
    with iam_call(ctx, "iam:CreateOpenIDConnectProvider", arn, params) as call:
        check_input(
            "iam",
            "CreateOpenIDConnectProvider",
            Url=url,
            ClientIDList=list(client_id_list) or None,
            ThumbprintList=list(thumbprint_list) or None,
            Tags=_tag_dicts(tags),
        )
        check_tags(tags)
        _check_url(url)
        _check_thumbprints(thumbprint_list)
        client_ids = list(dict.fromkeys(client_id_list))
        if len(client_ids) > CLIENT_IDS_PER_PROVIDER:
            raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_PER_PROVIDER}")
        call.on_conflict = EntityAlreadyExists(f"Provider with url {url} already exists.")
        providers = OpenIdConnectProvider.objects.in_account(ctx.account_id)
        if providers.filter(url=_bare_url(url)).exists():
            raise call.on_conflict
        if providers.count() >= OIDC_PROVIDERS_PER_ACCOUNT:
            raise LimitExceeded(
                f"Cannot exceed quota for OpenIdConnectProvidersPerAccount: {OIDC_PROVIDERS_PER_ACCOUNT}"
            )
        provider = OpenIdConnectProvider.objects.create(
            account_id=ctx.account_id,
            url=_bare_url(url),
            arn=arn,
            client_ids=client_ids,
            thumbprints=[t.lower() for t in thumbprint_list],
            created_at=clock.now(),
            tags=[t.as_dict() for t in tags],
        )
        call.response = {"openIDConnectProviderArn": arn}
        return provider


def get_open_id_connect_provider(ctx: CallContext, *, open_id_connect_provider_arn: str) -> OpenIdConnectProvider:
    arn = open_id_connect_provider_arn
    with iam_call(ctx, "iam:GetOpenIDConnectProvider", arn, {"openIDConnectProviderArn": arn}):
        check_input("iam", "GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
        return find_oidc_provider(ctx.account_id, arn)


def list_open_id_connect_providers(ctx: CallContext) -> QuerySet[OpenIdConnectProvider]:
    with iam_call(ctx, "iam:ListOpenIDConnectProviders", arns.account_wildcard(ctx.account_id, "oidc-provider")):
        return OpenIdConnectProvider.objects.in_account(ctx.account_id).order_by("url")


def delete_open_id_connect_provider(ctx: CallContext, *, open_id_connect_provider_arn: str) -> None:
    """Idempotent, as AWS documents it: deleting a provider that does not exist (or is already gone) succeeds."""
    arn = open_id_connect_provider_arn
    with iam_call(ctx, "iam:DeleteOpenIDConnectProvider", arn, {"openIDConnectProviderArn": arn}):
        check_input("iam", "DeleteOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
        if arn.split(":")[4:5] != [ctx.account_id]:
            raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}")  # never another account's
        OpenIdConnectProvider.objects.in_account(ctx.account_id).filter(arn=arn).delete()


def add_client_id_to_open_id_connect_provider(
    ctx: CallContext, *, open_id_connect_provider_arn: str, client_id: str
) -> None:
    """Adding a client ID the provider already has is a no-op, as in AWS."""
    arn = open_id_connect_provider_arn
    with iam_call(
        ctx, "iam:AddClientIDToOpenIDConnectProvider", arn, {"openIDConnectProviderArn": arn, "clientID": client_id}
    ):
        check_input("iam", "AddClientIDToOpenIDConnectProvider", OpenIDConnectProviderArn=arn, ClientID=client_id)
        provider = find_oidc_provider(ctx.account_id, arn)
        OpenIdConnectProvider.objects.select_for_update().filter(pk=provider.pk).first()  # serialize the quota check
        provider.refresh_from_db(fields=["client_ids"])
        if client_id in provider.client_ids:
            return
        if len(provider.client_ids) >= CLIENT_IDS_PER_PROVIDER:
            raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_PER_PROVIDER}")
        provider.client_ids = [*provider.client_ids, client_id]
        provider.save(update_fields=["client_ids"])


def remove_client_id_from_open_id_connect_provider(
    ctx: CallContext, *, open_id_connect_provider_arn: str, client_id: str
) -> None:
    """Removing a client ID the provider doesn't have is a no-op, as in AWS."""
    arn = open_id_connect_provider_arn
    with iam_call(
        ctx,
        "iam:RemoveClientIDFromOpenIDConnectProvider",
        arn,
        {"openIDConnectProviderArn": arn, "clientID": client_id},
    ):
        check_input("iam", "RemoveClientIDFromOpenIDConnectProvider", OpenIDConnectProviderArn=arn, ClientID=client_id)
        provider = find_oidc_provider(ctx.account_id, arn)
        provider.client_ids = [c for c in provider.client_ids if c != client_id]
        provider.save(update_fields=["client_ids"])


def update_open_id_connect_provider_thumbprint(
    ctx: CallContext, *, open_id_connect_provider_arn: str, thumbprint_list: Sequence[str]
) -> None:
    arn = open_id_connect_provider_arn
    with iam_call(
        ctx,
        "iam:UpdateOpenIDConnectProviderThumbprint",
        arn,
        {"openIDConnectProviderArn": arn, "thumbprintList": list(thumbprint_list)},
    ):
        check_input(
            "iam",
            "UpdateOpenIDConnectProviderThumbprint",
            OpenIDConnectProviderArn=arn,
            ThumbprintList=list(thumbprint_list),
        )
        _check_thumbprints(thumbprint_list)
        provider = find_oidc_provider(ctx.account_id, arn)
        provider.thumbprints = [t.lower() for t in thumbprint_list]
        provider.save(update_fields=["thumbprints"])


def tag_open_id_connect_provider(ctx: CallContext, *, open_id_connect_provider_arn: str, tags: Sequence[Tag]) -> None:
    arn = open_id_connect_provider_arn
    with iam_call(
        ctx, "iam:TagOpenIDConnectProvider", arn, {"openIDConnectProviderArn": arn, "tags": _tag_dicts(tags)}
    ):
        check_input("iam", "TagOpenIDConnectProvider", OpenIDConnectProviderArn=arn, Tags=[t.as_dict() for t in tags])
        provider = find_oidc_provider(ctx.account_id, arn)
        provider.tags = merge_tags(provider.tags, tags, "oidc-provider")
        provider.save(update_fields=["tags"])


def untag_open_id_connect_provider(
    ctx: CallContext, *, open_id_connect_provider_arn: str, tag_keys: Sequence[str]
) -> None:
    arn = open_id_connect_provider_arn
    with iam_call(
        ctx, "iam:UntagOpenIDConnectProvider", arn, {"openIDConnectProviderArn": arn, "tagKeys": list(tag_keys)}
    ):
        check_input("iam", "UntagOpenIDConnectProvider", OpenIDConnectProviderArn=arn, TagKeys=list(tag_keys))
        provider = find_oidc_provider(ctx.account_id, arn)
        drop = {k.lower() for k in tag_keys}
        provider.tags = [t for t in provider.tags if t["Key"].lower() not in drop]
        provider.save(update_fields=["tags"])


def list_open_id_connect_provider_tags(ctx: CallContext, *, open_id_connect_provider_arn: str) -> list[dict[str, str]]:
    arn = open_id_connect_provider_arn
    with iam_call(ctx, "iam:ListOpenIDConnectProviderTags", arn, {"openIDConnectProviderArn": arn}):
        check_input("iam", "ListOpenIDConnectProviderTags", OpenIDConnectProviderArn=arn)
        return list(find_oidc_provider(ctx.account_id, arn).tags)


# ---- service-linked roles -----------------------------------------------------------------------------------

#: AWSServiceName → (the role name after "AWSServiceRoleFor", its AWS managed policy under /aws-service-role/).
SERVICE_LINKED_ROLES: dict[str, tuple[str, str]] = {
    "autoscaling.amazonaws.com": ("AutoScaling", "AutoScalingServiceRolePolicy"),
    "elasticloadbalancing.amazonaws.com": ("ElasticLoadBalancing", "AWSElasticLoadBalancingServiceRolePolicy"),
    "organizations.amazonaws.com": ("Organizations", "AWSOrganizationsServiceTrustPolicy"),
    "ecs.amazonaws.com": ("ECS", "AmazonECSServiceRolePolicy"),
    "rds.amazonaws.com": ("RDS", "AmazonRDSServiceRolePolicy"),
    "elasticbeanstalk.amazonaws.com": ("ElasticBeanstalk", "AWSElasticBeanstalkServiceRolePolicy"),
    "support.amazonaws.com": ("Support", "AWSSupportServiceRolePolicy"),
    "trustedadvisor.amazonaws.com": ("TrustedAdvisor", "AWSTrustedAdvisorServiceRolePolicy"),
    "eks.amazonaws.com": ("AmazonEKS", "AmazonEKSServiceRolePolicy"),
    "guardduty.amazonaws.com": ("AmazonGuardDuty", "AmazonGuardDutyServiceRolePolicy"),
    "config.amazonaws.com": ("Config", "AWSConfigServiceRolePolicy"),
    "cloudtrail.amazonaws.com": ("CloudTrail", "CloudTrailServiceRolePolicy"),
    "securityhub.amazonaws.com": ("SecurityHub", "AWSSecurityHubServiceRolePolicy"),
    "access-analyzer.amazonaws.com": ("AccessAnalyzer", "AccessAnalyzerServiceRolePolicy"),
    "sso.amazonaws.com": ("SSO", "AWSSSOServiceRolePolicy"),
    "ssm.amazonaws.com": ("AmazonSSM", "AmazonSSMServiceRolePolicy"),
    "elasticache.amazonaws.com": ("ElastiCache", "ElastiCacheServiceRolePolicy"),
    "spot.amazonaws.com": ("EC2Spot", "AWSEC2SpotServiceRolePolicy"),
    "spotfleet.amazonaws.com": ("EC2SpotFleet", "AWSEC2SpotFleetServiceRolePolicy"),
    "redshift.amazonaws.com": ("Redshift", "AmazonRedshiftServiceLinkedRolePolicy"),
    "inspector2.amazonaws.com": ("AmazonInspector2", "AmazonInspector2ServiceRolePolicy"),
    "compute-optimizer.amazonaws.com": ("ComputeOptimizer", "ComputeOptimizerServiceRolePolicy"),
    "ses.amazonaws.com": ("AmazonSES", "AmazonSESServiceRolePolicy"),
    "ram.amazonaws.com": ("ResourceAccessManager", "AWSResourceAccessManagerServiceRolePolicy"),
    "lambda.amazonaws.com": ("Lambda", "AWSLambdaServiceRolePolicy"),
    "dynamodb.application-autoscaling.amazonaws.com": (
        "ApplicationAutoScaling_DynamoDBTable",
        "AWSApplicationAutoscalingDynamoDBTablePolicy",
    ),
    "ecs.application-autoscaling.amazonaws.com": (
        "ApplicationAutoScaling_ECSService",
        "AWSApplicationAutoscalingECSServicePolicy",
    ),
}
#: How AWS capitalizes a few service names inside role names (otherwise each hyphenated word is capitalized).
_SERVICE_WORDS = {
    "autoscaling": "AutoScaling",
    "application-autoscaling": "ApplicationAutoScaling",
    "elasticbeanstalk": "ElasticBeanstalk",
}
#: Services whose service-linked role may carry a CustomSuffix (several roles of one service per account).
SUFFIX_ALLOWED = {"autoscaling.amazonaws.com", "elasticbeanstalk.amazonaws.com"}


def _service_role_name(service_name: str) -> tuple[str, str | None]:
    """``AWSServiceRoleFor…`` for a service principal, and the managed policy name if the table knows one."""
    known = SERVICE_LINKED_ROLES.get(service_name)
    if known:
        return f"AWSServiceRoleFor{known[0]}", known[1]
    labels = service_name.removesuffix(".amazonaws.com").split(".")
    camel = [
        _SERVICE_WORDS.get(label) or "".join(part[:1].upper() + part[1:] for part in label.split("-"))
        for label in labels
    ]
    name = camel[-1] if len(camel) == 1 else f"{camel[-1]}_{''.join(camel[:-1])}"
    return f"AWSServiceRoleFor{name}", None


def create_service_linked_role(
    ctx: CallContext, *, aws_service_name: str, description: str | None = None, custom_suffix: str | None = None
) -> Role:
    role_name, policy_name = _service_role_name(aws_service_name)
    if custom_suffix:
        role_name = f"{role_name}_{custom_suffix}"
    path = f"{SERVICE_ROLE_PATH}{aws_service_name}/"
    arn = arns.role(ctx.account_id, path, role_name)
    params = {"aWSServiceName": aws_service_name, "description": description, "customSuffix": custom_suffix}
    with iam_call(
        ctx, "iam:CreateServiceLinkedRole", arn, params, condition_context={"iam:AWSServiceName": aws_service_name}
    ) as call:
        check_input(
            "iam",
            "CreateServiceLinkedRole",
            AWSServiceName=aws_service_name,
            Description=description,
            CustomSuffix=custom_suffix,
        )
        if not aws_service_name.endswith(".amazonaws.com") or aws_service_name == ".amazonaws.com":
            raise InvalidInput(f"Invalid service name: {aws_service_name}")
        if custom_suffix and aws_service_name not in SUFFIX_ALLOWED:
            raise InvalidInput(f"Custom suffix is not allowed for {aws_service_name}")
        if len(role_name) > 64:
            raise InvalidInput(f"Role name {role_name} is longer than 64 characters.")
        call.on_conflict = InvalidInput(
            f"Service role name {role_name} has been taken in this account, please try a different suffix."
        )
        if Role.objects.in_account(ctx.account_id).named(role_name).exists():
            raise call.on_conflict
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": aws_service_name}, "Action": "sts:AssumeRole"}
                ],
            },
            indent=2,
        )
        now = clock.now()
        role = Role.objects.create(
            account_id=ctx.account_id,
            role_id=ids.new_id("AROA"),
            name=role_name,
            path=path,
            arn=arn,
            description=description or "",
            assume_role_policy=trust,
            created_at=now,
        )
        policy_arn = arns.aws_managed_policy(SERVICE_ROLE_PATH, policy_name) if policy_name else ""
        policy = ManagedPolicy.objects.filter(account=None, arn=policy_arn).first() if policy_name else None
        if policy is not None:
            RolePolicyAttachment.objects.create(account_id=ctx.account_id, role=role, policy=policy, created_at=now)
        call.response = {"role": {"path": path, "roleName": role_name, "roleId": role.role_id, "arn": arn}}
        return role


def delete_service_linked_role(ctx: CallContext, *, role_name: str) -> str:
    """Deletes the role at once (no resources of the service use it here) and returns the DeletionTaskId."""
    existing = Role.objects.in_account(ctx.account_id).named(role_name).only("arn").first()
    arn = existing.arn if existing else arns.role(ctx.account_id, "/", role_name)
    with iam_call(ctx, "iam:DeleteServiceLinkedRole", arn, {"roleName": role_name}) as call:
        check_input("iam", "DeleteServiceLinkedRole", RoleName=role_name)
        role = Role.objects.in_account(ctx.account_id).named(role_name).first()
        if role is None:
            raise NoSuchEntity(f"The role with name {role_name} cannot be found.")
        if not is_service_linked(role):
            raise InvalidInput(f"Role {role.name} is not a service-linked role.")
        service = role.path[len(SERVICE_ROLE_PATH) :].strip("/")
        task_id = f"task/aws-service-role/{service}/{role.name}/{uuid.uuid4()}"
        role.delete()
        ServiceLinkedRoleDeletion.objects.create(
            account_id=ctx.account_id, task_id=task_id, role_name=role.name, created_at=clock.now()
        )
        call.response = {"deletionTaskId": task_id}
        return task_id


def get_service_linked_role_deletion_status(ctx: CallContext, *, deletion_task_id: str) -> ServiceLinkedRoleDeletion:
    role_name = deletion_task_id.split("/")[-2] if deletion_task_id.count("/") >= 4 else "*"
    with iam_call(
        ctx,
        "iam:GetServiceLinkedRoleDeletionStatus",
        arns.role(ctx.account_id, "/", role_name),
        {"deletionTaskId": deletion_task_id},
    ):
        check_input("iam", "GetServiceLinkedRoleDeletionStatus", DeletionTaskId=deletion_task_id)
        task = ServiceLinkedRoleDeletion.objects.in_account(ctx.account_id).filter(task_id=deletion_task_id).first()
        if task is None:
            raise NoSuchEntity(f"Deletion task {deletion_task_id} cannot be found.")
        return task
