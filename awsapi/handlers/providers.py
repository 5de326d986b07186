"""Query API handlers for SAML and OIDC identity providers and service-linked roles (thin adapters)."""

from __future__ import annotations

from typing import Any

from awsapi.dispatch import operation
from awsapi.handlers import shapes
from core.context import CallContext
from identities import providers
from identities.services import Tag

P = dict[str, Any]


def _tags(p: P) -> list[Tag]:
    return [Tag(t["Key"], t.get("Value", "")) for t in p.get("Tags") or []]


def _tag_page(items: list[dict[str, str]], p: P) -> P:
    return shapes.page(shapes.tags(items), p, "Tags")


# ---- SAML ---------------------------------------------------------------------------------------------------


@operation("iam", "CreateSAMLProvider")
def create_saml_provider(ctx: CallContext, p: P) -> P:
    # Assertion encryption and Identity Center propagation are not modelled: only AWS's default is accepted.
    shapes.refuse(p, "AssertionEncryptionMode", allowed="Allowed")
    shapes.refuse(p, "AddPrivateKey", "ContextProvider", "IdentityCenterInstanceArn")
    provider = providers.create_saml_provider(
        ctx, name=p.get("Name"), tags=_tags(p), saml_metadata_document=p.get("SAMLMetadataDocument")
    )
    return {"SAMLProviderArn": provider.arn, "Tags": shapes.tags(provider.tags) or None}


@operation("iam", "UpdateSAMLProvider")
def update_saml_provider(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "AssertionEncryptionMode", allowed="Allowed")
    shapes.refuse(p, "AddPrivateKey", "RemovePrivateKey", "ContextProvider", "IdentityCenterInstanceArn")
    shapes.refuse(p, "RemoveContextProvider", "RemoveIdentityCenterInstance")
    provider = providers.update_saml_provider(
        ctx, saml_provider_arn=p.get("SAMLProviderArn"), saml_metadata_document=p.get("SAMLMetadataDocument")
    )
    return {"SAMLProviderArn": provider.arn}


@operation("iam", "GetSAMLProvider")
def get_saml_provider(ctx: CallContext, p: P) -> P:
    provider = providers.get_saml_provider(ctx, saml_provider_arn=p.get("SAMLProviderArn"))
    return {
        "SAMLProviderUUID": provider.provider_uuid or None,
        "SAMLMetadataDocument": provider.metadata_document,
        "CreateDate": provider.created_at,
        "ValidUntil": provider.valid_until,
        "Tags": shapes.tags(provider.tags) or None,
        "AssertionEncryptionMode": "Allowed",
    }


@operation("iam", "ListSAMLProviders")
def list_saml_providers(ctx: CallContext, p: P) -> P:
    return {
        "SAMLProviderList": [
            {"Arn": s.arn, "ValidUntil": s.valid_until, "CreateDate": s.created_at}
            for s in providers.list_saml_providers(ctx)
        ]
    }


@operation("iam", "DeleteSAMLProvider")
def delete_saml_provider(ctx: CallContext, p: P) -> None:
    providers.delete_saml_provider(ctx, saml_provider_arn=p.get("SAMLProviderArn"))


@operation("iam", "TagSAMLProvider")
def tag_saml_provider(ctx: CallContext, p: P) -> None:
    providers.tag_saml_provider(ctx, saml_provider_arn=p.get("SAMLProviderArn"), tags=_tags(p))


@operation("iam", "UntagSAMLProvider")
def untag_saml_provider(ctx: CallContext, p: P) -> None:
    providers.untag_saml_provider(ctx, saml_provider_arn=p.get("SAMLProviderArn"), tag_keys=p.get("TagKeys") or [])


@operation("iam", "ListSAMLProviderTags")
def list_saml_provider_tags(ctx: CallContext, p: P) -> P:
    return _tag_page(providers.list_saml_provider_tags(ctx, saml_provider_arn=p.get("SAMLProviderArn")), p)


# ---- OpenID Connect -----------------------------------------------------------------------------------------


@operation("iam", "CreateOpenIDConnectProvider")
def create_open_id_connect_provider(ctx: CallContext, p: P) -> P:
    shapes.refuse(p, "ContextProvider", "IdentityCenterInstanceArn")  # Identity Center is not modelled
    provider = providers.create_open_id_connect_provider(
        ctx,
        url=p.get("Url"),
        client_id_list=p.get("ClientIDList") or [],
        thumbprint_list=p.get("ThumbprintList") or [],
        tags=_tags(p),
    )
    return {"OpenIDConnectProviderArn": provider.arn, "Tags": shapes.tags(provider.tags) or None}


@operation("iam", "GetOpenIDConnectProvider")
def get_open_id_connect_provider(ctx: CallContext, p: P) -> P:
    arn = p.get("OpenIDConnectProviderArn")
    provider = providers.get_open_id_connect_provider(ctx, open_id_connect_provider_arn=arn)
    return {
        "Url": provider.url,
        "ClientIDList": provider.client_ids,
        "ThumbprintList": provider.thumbprints,
        "CreateDate": provider.created_at,
        "Tags": shapes.tags(provider.tags) or None,
    }


@operation("iam", "ListOpenIDConnectProviders")
def list_open_id_connect_providers(ctx: CallContext, p: P) -> P:
    return {"OpenIDConnectProviderList": [{"Arn": o.arn} for o in providers.list_open_id_connect_providers(ctx)]}


@operation("iam", "DeleteOpenIDConnectProvider")
def delete_open_id_connect_provider(ctx: CallContext, p: P) -> None:
    providers.delete_open_id_connect_provider(ctx, open_id_connect_provider_arn=p.get("OpenIDConnectProviderArn"))


@operation("iam", "AddClientIDToOpenIDConnectProvider")
def add_client_id_to_open_id_connect_provider(ctx: CallContext, p: P) -> None:
    providers.add_client_id_to_open_id_connect_provider(
        ctx, open_id_connect_provider_arn=p.get("OpenIDConnectProviderArn"), client_id=p.get("ClientID")
    )


@operation("iam", "RemoveClientIDFromOpenIDConnectProvider")
def remove_client_id_from_open_id_connect_provider(ctx: CallContext, p: P) -> None:
    providers.remove_client_id_from_open_id_connect_provider(
        ctx, open_id_connect_provider_arn=p.get("OpenIDConnectProviderArn"), client_id=p.get("ClientID")
    )


@operation("iam", "UpdateOpenIDConnectProviderThumbprint")
def update_open_id_connect_provider_thumbprint(ctx: CallContext, p: P) -> None:
    providers.update_open_id_connect_provider_thumbprint(
        ctx,
        open_id_connect_provider_arn=p.get("OpenIDConnectProviderArn"),
        thumbprint_list=p.get("ThumbprintList") or [],
    )


@operation("iam", "TagOpenIDConnectProvider")
def tag_open_id_connect_provider(ctx: CallContext, p: P) -> None:
    providers.tag_open_id_connect_provider(
        ctx, open_id_connect_provider_arn=p.get("OpenIDConnectProviderArn"), tags=_tags(p)
    )


@operation("iam", "UntagOpenIDConnectProvider")
def untag_open_id_connect_provider(ctx: CallContext, p: P) -> None:
    providers.untag_open_id_connect_provider(
        ctx, open_id_connect_provider_arn=p.get("OpenIDConnectProviderArn"), tag_keys=p.get("TagKeys") or []
    )


@operation("iam", "ListOpenIDConnectProviderTags")
def list_open_id_connect_provider_tags(ctx: CallContext, p: P) -> P:
    arn = p.get("OpenIDConnectProviderArn")
    return _tag_page(providers.list_open_id_connect_provider_tags(ctx, open_id_connect_provider_arn=arn), p)


# ---- service-linked roles -----------------------------------------------------------------------------------


@operation("iam", "CreateServiceLinkedRole")
def create_service_linked_role(ctx: CallContext, p: P) -> P:
    role = providers.create_service_linked_role(
        ctx,
        aws_service_name=p.get("AWSServiceName"),
        description=p.get("Description"),
        custom_suffix=p.get("CustomSuffix"),
    )
    return {"Role": shapes.role(role)}


@operation("iam", "DeleteServiceLinkedRole")
def delete_service_linked_role(ctx: CallContext, p: P) -> P:
    return {"DeletionTaskId": providers.delete_service_linked_role(ctx, role_name=p.get("RoleName"))}


@operation("iam", "GetServiceLinkedRoleDeletionStatus")
def get_service_linked_role_deletion_status(ctx: CallContext, p: P) -> P:
    task = providers.get_service_linked_role_deletion_status(ctx, deletion_task_id=p.get("DeletionTaskId"))
    return {"Status": task.status}
