"""SAML and OIDC identity providers and service-linked roles through the service layer and the console pages:
ARNs, metadata validation, quotas, denial, isolation between accounts, and the service-linked role guard."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from audit.models import AuditEvent
from console.services import user_principal
from core.context import CallContext
from core.errors import (
    AccessDenied,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    UnmodifiableEntity,
    ValidationError,
)
from identities import providers, roles, services, workflows
from identities.models import OpenIdConnectProvider, Role, SamlProvider
from identities.services import Tag
from policies import services as policy_services
from tests.identities.saml_fixtures import certificate_base64, metadata

SAML_ARN = "arn:aws:iam::111122223333:saml-provider/Okta"
GITHUB = "https://token.actions.githubusercontent.com"
GITHUB_ARN = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
THUMB = "6938fd4d98bab03faadb97b34396831e3780aea1"


def user_ctx(root_ctx, name: str, *documents: str) -> CallContext:
    user = services.create_user(root_ctx, user_name=name)
    for i, doc in enumerate(documents):
        policy_services.put_user_policy(root_ctx, user_name=name, policy_name=f"p{i}", policy_document=doc)
    return CallContext(user_principal(user), origin="api")


def allow(*actions: str, resource: str = "*") -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}]}
    )


# ---- SAML ---------------------------------------------------------------------------------------------------


def test_create_saml_provider_keeps_metadata_and_audits(root_ctx):
    document = metadata(valid_until="2030-01-01T00:00:00Z")
    provider = providers.create_saml_provider(
        root_ctx, name="Okta", saml_metadata_document=document, tags=[Tag("team", "sec")]
    )

    assert provider.arn == SAML_ARN
    assert provider.valid_until == datetime(2030, 1, 1, tzinfo=UTC)
    assert len(provider.provider_uuid) >= 22
    got = providers.get_saml_provider(root_ctx, saml_provider_arn=SAML_ARN)
    assert got.metadata_document == document
    assert [p.name for p in providers.list_saml_providers(root_ctx)] == ["Okta"]
    assert providers.list_saml_provider_tags(root_ctx, saml_provider_arn=SAML_ARN) == [{"Key": "team", "Value": "sec"}]
    event = AuditEvent.objects.get(event_name="CreateSAMLProvider")
    assert event.record["responseElements"] == {"sAMLProviderArn": SAML_ARN}
    assert not event.error_code


def test_saml_provider_without_valid_until_lasts_a_hundred_years(root_ctx):
    provider = providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata())
    assert provider.valid_until.year == provider.created_at.year + 100


def test_lookups_for_sts_find_providers_without_authorization(root_ctx, other_root_ctx):
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata())
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB, client_id_list=["sts.amazonaws.com"])

    saml = providers.saml_provider_by_arn("111122223333", SAML_ARN)
    assert saml is not None and len(providers.saml_signing_certificates(saml)) == 1
    assert providers.oidc_provider_for_issuer("111122223333", GITHUB).arn == GITHUB_ARN
    assert providers.oidc_provider_for_issuer("111122223333", GITHUB + "/").arn == GITHUB_ARN
    assert providers.oidc_provider_for_issuer("111122223333", "token.actions.githubusercontent.com").arn == GITHUB_ARN
    assert providers.oidc_provider_for_issuer("444455556666", GITHUB) is None
    assert providers.saml_provider_by_arn("444455556666", SAML_ARN) is None


@pytest.mark.parametrize(
    "document",
    [
        "x" * 1200,  # not XML
        metadata(descriptor="SPSSODescriptor"),  # a service provider's metadata, not an IdP's
        metadata(certificate="bm90IGEgY2VydGlmaWNhdGU=" * 30),  # base64, but not a certificate
        '<!DOCTYPE x [<!ENTITY a "aaaa">]>' + metadata()[38:],  # entity declarations are refused
    ],
)
def test_bad_metadata_is_refused_with_aws_wording(root_ctx, document):
    with pytest.raises(InvalidInput, match="InvalidInput: Could not parse metadata$"):
        providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=document)
    assert not SamlProvider.objects.exists()
    assert AuditEvent.objects.get().error_code == "InvalidInput"


def test_saml_name_and_document_length_follow_the_api_model(root_ctx):
    with pytest.raises(ValidationError) as err:
        providers.create_saml_provider(root_ctx, name="bad name!", saml_metadata_document="<x/>")
    assert err.value.message.startswith("2 validation errors detected: ")
    assert "Member must satisfy regular expression pattern: [\\w._-]+" in err.value.message
    assert "Member must have length greater than or equal to 1000" in err.value.message


def test_duplicate_saml_name_and_quota(root_ctx):
    document = metadata()
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=document)
    with pytest.raises(EntityAlreadyExists, match="Provider with name Okta already exists."):
        providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=document)
    SamlProvider.objects.bulk_create(
        [
            SamlProvider(
                account_id="111122223333",
                name=f"p{i}",
                arn=providers.saml_provider_arn("111122223333", f"p{i}"),
                metadata_document=document,
                created_at=datetime.now(UTC),
            )
            for i in range(99)
        ]
    )
    with pytest.raises(LimitExceeded, match="Cannot exceed quota for SamlProvidersPerAccount: 100"):
        providers.create_saml_provider(root_ctx, name="one-too-many", saml_metadata_document=document)


def test_update_saml_provider_replaces_metadata(root_ctx):
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata())
    new = metadata(valid_until="2031-06-01T00:00:00Z", certificate=certificate_base64("new.example.com"))
    providers.update_saml_provider(root_ctx, saml_provider_arn=SAML_ARN, saml_metadata_document=new)
    provider = SamlProvider.objects.get()
    assert provider.metadata_document == new and provider.valid_until.year == 2031
    with pytest.raises(InvalidInput):
        providers.update_saml_provider(root_ctx, saml_provider_arn=SAML_ARN, saml_metadata_document="y" * 1000)
    assert SamlProvider.objects.get().metadata_document == new


def test_saml_tags_merge_and_untag(root_ctx):
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata(), tags=[Tag("a", "1")])
    providers.tag_saml_provider(root_ctx, saml_provider_arn=SAML_ARN, tags=[Tag("A", "2"), Tag("b", "3")])
    assert providers.list_saml_provider_tags(root_ctx, saml_provider_arn=SAML_ARN) == [
        {"Key": "A", "Value": "2"},
        {"Key": "b", "Value": "3"},
    ]
    providers.untag_saml_provider(root_ctx, saml_provider_arn=SAML_ARN, tag_keys=["a"])
    assert providers.list_saml_provider_tags(root_ctx, saml_provider_arn=SAML_ARN) == [{"Key": "b", "Value": "3"}]


def test_delete_saml_provider_even_when_a_role_trusts_it(root_ctx):
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata())
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Federated": SAML_ARN}, "Action": "sts:AssumeRoleWithSAML"}
            ],
        }
    )
    roles.create_role(root_ctx, role_name="Federated", assume_role_policy_document=trust)
    providers.delete_saml_provider(root_ctx, saml_provider_arn=SAML_ARN)
    assert not SamlProvider.objects.exists() and Role.objects.filter(name="Federated").exists()
    with pytest.raises(NoSuchEntity, match=f"Manifest not found for arn {SAML_ARN}"):
        providers.get_saml_provider(root_ctx, saml_provider_arn=SAML_ARN)


def test_another_account_can_neither_see_nor_touch_a_provider(root_ctx, other_root_ctx):
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata())
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB, client_id_list=["sts.amazonaws.com"])

    assert list(providers.list_saml_providers(other_root_ctx)) == []
    assert list(providers.list_open_id_connect_providers(other_root_ctx)) == []
    with pytest.raises((NoSuchEntity, AccessDenied)):
        providers.get_saml_provider(other_root_ctx, saml_provider_arn=SAML_ARN)
    with pytest.raises((NoSuchEntity, AccessDenied)):
        providers.delete_saml_provider(other_root_ctx, saml_provider_arn=SAML_ARN)
    with pytest.raises((NoSuchEntity, AccessDenied)):
        providers.add_client_id_to_open_id_connect_provider(
            other_root_ctx, open_id_connect_provider_arn=GITHUB_ARN, client_id="evil"
        )
    with pytest.raises((NoSuchEntity, AccessDenied)):
        providers.delete_open_id_connect_provider(other_root_ctx, open_id_connect_provider_arn=GITHUB_ARN)
    assert SamlProvider.objects.count() == 1
    assert OpenIdConnectProvider.objects.get().client_ids == ["sts.amazonaws.com"]
    # The other account may create its own provider for the same issuer.
    own = providers.create_open_id_connect_provider(other_root_ctx, url=GITHUB)
    assert own.arn == "arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com"


def test_user_without_permission_is_denied_and_audited(root_ctx):
    reader = user_ctx(root_ctx, "reader", allow("iam:ListSAMLProviders", "iam:GetOpenIDConnectProvider"))
    with pytest.raises(AccessDenied) as err:
        providers.create_saml_provider(reader, name="Okta", saml_metadata_document=metadata())
    assert "iam:CreateSAMLProvider on resource: " + SAML_ARN in err.value.message
    assert list(providers.list_saml_providers(reader)) == []
    assert not SamlProvider.objects.exists()
    assert AuditEvent.objects.filter(event_name="CreateSAMLProvider", error_code="AccessDenied").exists()


# ---- OIDC ---------------------------------------------------------------------------------------------------


def test_create_oidc_provider_strips_the_scheme(root_ctx):
    provider = providers.create_open_id_connect_provider(
        root_ctx,
        url=GITHUB,
        client_id_list=["sts.amazonaws.com"],
        thumbprint_list=[THUMB.upper()],
        tags=[Tag("ci", "github")],
    )
    assert provider.arn == GITHUB_ARN and provider.url == "token.actions.githubusercontent.com"
    got = providers.get_open_id_connect_provider(root_ctx, open_id_connect_provider_arn=GITHUB_ARN)
    assert got.client_ids == ["sts.amazonaws.com"] and got.thumbprints == [THUMB]
    with pytest.raises(EntityAlreadyExists, match=f"Provider with url {GITHUB} already exists.$"):
        providers.create_open_id_connect_provider(root_ctx, url=GITHUB)


@pytest.mark.parametrize("url", ["http://example.com", "example.com", "https://", "https://a.example.com/?x=1"])
def test_oidc_url_must_be_https(root_ctx, url):
    with pytest.raises(ValidationError, match="Invalid Open ID Connect Provider URL"):
        providers.create_open_id_connect_provider(root_ctx, url=url)


def test_oidc_thumbprints_are_checked(root_ctx):
    with pytest.raises(InvalidInput, match="Thumbprint list must contain fewer than 5 entries."):
        providers.create_open_id_connect_provider(root_ctx, url=GITHUB, thumbprint_list=[THUMB] * 6)
    with pytest.raises(ValidationError, match="Member must have length greater than or equal to 40"):
        providers.create_open_id_connect_provider(root_ctx, url=GITHUB, thumbprint_list=["abc"])
    with pytest.raises(InvalidInput, match="40 hexadecimal characters"):
        providers.create_open_id_connect_provider(root_ctx, url=GITHUB, thumbprint_list=["z" * 40])
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB, thumbprint_list=[THUMB])
    providers.update_open_id_connect_provider_thumbprint(
        root_ctx, open_id_connect_provider_arn=GITHUB_ARN, thumbprint_list=[THUMB, "a" * 40]
    )
    assert OpenIdConnectProvider.objects.get().thumbprints == [THUMB, "a" * 40]


def test_client_ids_add_remove_idempotent_and_capped(root_ctx):
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB, client_id_list=[f"c{i}" for i in range(99)])
    providers.add_client_id_to_open_id_connect_provider(
        root_ctx, open_id_connect_provider_arn=GITHUB_ARN, client_id="c0"
    )  # already there: no-op
    providers.add_client_id_to_open_id_connect_provider(
        root_ctx, open_id_connect_provider_arn=GITHUB_ARN, client_id="c99"
    )
    with pytest.raises(LimitExceeded, match="Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100"):
        providers.add_client_id_to_open_id_connect_provider(
            root_ctx, open_id_connect_provider_arn=GITHUB_ARN, client_id="c100"
        )
    providers.remove_client_id_from_open_id_connect_provider(
        root_ctx, open_id_connect_provider_arn=GITHUB_ARN, client_id="c5"
    )
    providers.remove_client_id_from_open_id_connect_provider(
        root_ctx, open_id_connect_provider_arn=GITHUB_ARN, client_id="never-there"
    )
    assert len(OpenIdConnectProvider.objects.get().client_ids) == 99
    with pytest.raises(LimitExceeded):
        providers.create_open_id_connect_provider(
            root_ctx, url="https://x.example.com", client_id_list=[f"c{i}" for i in range(101)]
        )


def test_oidc_provider_quota(root_ctx):
    OpenIdConnectProvider.objects.bulk_create(
        [
            OpenIdConnectProvider(
                account_id="111122223333",
                url=f"p{i}.example.com",
                arn=providers.oidc_provider_arn("111122223333", f"p{i}.example.com"),
                created_at=datetime.now(UTC),
            )
            for i in range(100)
        ]
    )
    with pytest.raises(LimitExceeded, match="Cannot exceed quota for OpenIdConnectProvidersPerAccount: 100"):
        providers.create_open_id_connect_provider(root_ctx, url=GITHUB)


def test_oidc_tags_and_delete(root_ctx):
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB)
    providers.tag_open_id_connect_provider(root_ctx, open_id_connect_provider_arn=GITHUB_ARN, tags=[Tag("k", "v")])
    assert providers.list_open_id_connect_provider_tags(root_ctx, open_id_connect_provider_arn=GITHUB_ARN) == [
        {"Key": "k", "Value": "v"}
    ]
    providers.untag_open_id_connect_provider(root_ctx, open_id_connect_provider_arn=GITHUB_ARN, tag_keys=["K"])
    assert providers.list_open_id_connect_provider_tags(root_ctx, open_id_connect_provider_arn=GITHUB_ARN) == []
    providers.delete_open_id_connect_provider(root_ctx, open_id_connect_provider_arn=GITHUB_ARN)
    # Idempotent, as AWS documents (API_DeleteOpenIDConnectProvider): deleting it again succeeds and changes nothing.
    providers.delete_open_id_connect_provider(root_ctx, open_id_connect_provider_arn=GITHUB_ARN)
    assert not OpenIdConnectProvider.objects.exists()


# ---- service-linked roles -----------------------------------------------------------------------------------


def test_create_service_linked_role_for_a_known_service(root_ctx, managed_policies):
    role = providers.create_service_linked_role(root_ctx, aws_service_name="autoscaling.amazonaws.com")
    assert role.name == "AWSServiceRoleForAutoScaling"
    assert role.path == "/aws-service-role/autoscaling.amazonaws.com/"
    assert (
        role.arn
        == "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    trust = json.loads(role.assume_role_policy)
    assert trust["Statement"][0]["Principal"] == {"Service": "autoscaling.amazonaws.com"}
    attached = [p.arn for p in policy_services.list_attached_role_policies(root_ctx, role_name=role.name)]
    assert attached == ["arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"]


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing"),
        ("organizations.amazonaws.com", "AWSServiceRoleForOrganizations"),
        ("ecs.amazonaws.com", "AWSServiceRoleForECS"),
        ("rds.amazonaws.com", "AWSServiceRoleForRDS"),
        ("example-thing.amazonaws.com", "AWSServiceRoleForExampleThing"),
        (
            "custom-resource.application-autoscaling.amazonaws.com",
            "AWSServiceRoleForApplicationAutoScaling_CustomResource",
        ),
    ],
)
def test_service_linked_role_names(root_ctx, managed_policies, service, name):
    assert providers.create_service_linked_role(root_ctx, aws_service_name=service).name == name


def test_service_linked_role_suffix_and_duplicates(root_ctx, managed_policies):
    role = providers.create_service_linked_role(
        root_ctx, aws_service_name="autoscaling.amazonaws.com", custom_suffix="web", description="Web fleet"
    )
    assert role.name == "AWSServiceRoleForAutoScaling_web" and role.description == "Web fleet"
    with pytest.raises(InvalidInput, match="Service role name AWSServiceRoleForAutoScaling_web has been taken"):
        providers.create_service_linked_role(
            root_ctx, aws_service_name="autoscaling.amazonaws.com", custom_suffix="web"
        )
    with pytest.raises(InvalidInput, match="Custom suffix is not allowed"):
        providers.create_service_linked_role(root_ctx, aws_service_name="ecs.amazonaws.com", custom_suffix="x")


def test_service_linked_roles_are_unmodifiable(root_ctx, managed_policies):
    role = providers.create_service_linked_role(root_ctx, aws_service_name="ecs.amazonaws.com")
    message = (
        "Cannot perform the operation on the protected role 'AWSServiceRoleForECS' - "
        "this role is only modifiable by AWS"
    )
    attempts = [
        lambda: roles.update_assume_role_policy(root_ctx, role_name=role.name, policy_document=role.assume_role_policy),
        lambda: roles.delete_role(root_ctx, role_name=role.name),
        lambda: roles.put_role_permissions_boundary(
            root_ctx, role_name=role.name, permissions_boundary="arn:aws:iam::aws:policy/ReadOnlyAccess"
        ),
        lambda: policy_services.attach_role_policy(
            root_ctx, role_name=role.name, policy_arn="arn:aws:iam::aws:policy/AdministratorAccess"
        ),
        lambda: policy_services.detach_role_policy(
            root_ctx,
            role_name=role.name,
            policy_arn="arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy",
        ),
        lambda: policy_services.put_role_policy(
            root_ctx, role_name=role.name, policy_name="x", policy_document=allow("s3:*")
        ),
        lambda: workflows.revoke_role_sessions(root_ctx, role_name=role.name),
    ]
    for attempt in attempts:
        with pytest.raises(UnmodifiableEntity) as err:
            attempt()
        assert err.value.message == message and err.value.status == 400
    assert Role.objects.get(name="AWSServiceRoleForECS").policy_attachments.count() == 1


def test_delete_service_linked_role_and_deletion_status(root_ctx, other_root_ctx, managed_policies):
    providers.create_service_linked_role(root_ctx, aws_service_name="rds.amazonaws.com")
    task_id = providers.delete_service_linked_role(root_ctx, role_name="AWSServiceRoleForRDS")
    assert task_id.startswith("task/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS/")
    assert not Role.objects.filter(name="AWSServiceRoleForRDS").exists()
    assert providers.get_service_linked_role_deletion_status(root_ctx, deletion_task_id=task_id).status == "SUCCEEDED"
    with pytest.raises(NoSuchEntity):
        providers.get_service_linked_role_deletion_status(other_root_ctx, deletion_task_id=task_id)
    roles.create_role(
        root_ctx,
        role_name="plain",
        assume_role_policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    with pytest.raises(InvalidInput, match="is not a service-linked role"):
        providers.delete_service_linked_role(root_ctx, role_name="plain")
    with pytest.raises(NoSuchEntity, match="The role with name ghost cannot be found."):
        providers.delete_service_linked_role(root_ctx, role_name="ghost")


# ---- console pages ------------------------------------------------------------------------------------------


def upload(document: str, name: str = "metadata.xml"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, document.encode(), content_type="application/xml")


def test_navigation_links_identity_providers_after_policies(root_client):
    page = root_client.get("/iam/identity_providers").content.decode()
    nav = page[page.index('class="sidenav"') : page.index("</nav>")]
    assert nav.index(">Policies<") < nav.index(">Identity providers<") < nav.index(">Account settings<")
    assert 'href="/iam/identity_providers" aria-current="page"' in nav
    assert 'Identity providers <span class="counter">(0)</span>' in page and "No resources to display" in page


def test_add_saml_provider_from_the_console(root_client):
    response = root_client.post(
        "/iam/identity_providers/create",
        {
            "provider_type": "saml",
            "name": "Okta",
            "metadata_document": upload(metadata()),
            "action": "create",
            "tag_key": "team",
            "tag_value": "sec",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/iam/identity_providers/saml/Okta"
    provider = SamlProvider.objects.get()
    assert provider.arn == SAML_ARN and provider.tags == [{"Key": "team", "Value": "sec"}]

    page = root_client.get("/iam/identity_providers").content.decode()
    assert '<a href="/iam/identity_providers/saml/Okta">Okta</a>' in page and "<td>SAML</td>" in page
    detail = root_client.get("/iam/identity_providers/saml/Okta").content.decode()
    assert SAML_ARN in detail and "Download metadata" in detail and "Provider added" not in detail
    download = root_client.get("/iam/identity_providers/metadata/Okta")
    assert download.content.decode() == provider.metadata_document
    assert download["Content-Disposition"] == 'attachment; filename="Okta-metadata.xml"'


def test_add_provider_errors_show_on_the_form(root_client):
    bad = root_client.post(
        "/iam/identity_providers/create",
        {
            "provider_type": "saml",
            "name": "Okta",
            "metadata_document": upload("<not-metadata/>" * 80),
            "action": "create",
        },
    )
    assert bad.status_code == 400 and "Could not parse metadata" in bad.content.decode()
    missing = root_client.post(
        "/iam/identity_providers/create", {"provider_type": "saml", "name": "Okta", "action": "create"}
    )
    assert missing.status_code == 400 and "Choose a metadata document file." in missing.content.decode()
    http = root_client.post(
        "/iam/identity_providers/create",
        {"provider_type": "oidc", "url": "http://insecure.example.com", "audience": "app", "action": "create"},
    )
    assert http.status_code == 400 and "Invalid Open ID Connect Provider URL" in http.content.decode()
    assert not SamlProvider.objects.exists() and not OpenIdConnectProvider.objects.exists()


def test_provider_type_tiles_switch_the_fields_with_htmx(root_client):
    saml = root_client.get("/iam/identity_providers/create").content.decode()
    assert 'name="metadata_document"' in saml and 'name="url"' not in saml
    oidc = root_client.get(
        "/iam/identity_providers/create?provider_type=oidc", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="provider-form"
    ).content.decode()
    assert oidc.lstrip().startswith('<form id="provider-form"') and 'name="url"' in oidc and "Audience" in oidc
    assert "<html" not in oidc


def test_oidc_provider_detail_audiences_thumbprints_and_tags(root_client):
    response = root_client.post(
        "/iam/identity_providers/create",
        {"provider_type": "oidc", "url": GITHUB, "audience": "sts.amazonaws.com", "action": "create"},
    )
    detail_url = "/iam/identity_providers/oidc/token.actions.githubusercontent.com"
    assert response["Location"] == detail_url
    page = root_client.get(detail_url).content.decode()
    assert GITHUB_ARN in page and "OpenID Connect" in page and "sts.amazonaws.com" in page

    root_client.post(detail_url, {"action": "add_audience", "audience": "my-app"})
    root_client.post(detail_url, {"action": "remove_audience", "audience": "sts.amazonaws.com"})
    root_client.post(detail_url, {"action": "thumbprints", "thumbprints": f"{THUMB}\n\n{'b' * 40}\n"})
    root_client.post(detail_url, {"action": "add_tag", "tag_key": "ci", "tag_value": "github"})
    provider = OpenIdConnectProvider.objects.get()
    assert provider.client_ids == ["my-app"] and provider.thumbprints == [THUMB, "b" * 40]
    assert provider.tags == [{"Key": "ci", "Value": "github"}]
    bad = root_client.post(detail_url, {"action": "thumbprints", "thumbprints": "nope"})
    assert bad.status_code == 400 and "Member must have length greater than or equal to 40" in bad.content.decode()
    root_client.post(detail_url, {"action": "remove_tag", "tag_key": "ci"})
    assert OpenIdConnectProvider.objects.get().tags == []


def test_oidc_provider_with_a_path_has_its_own_page(root_client, root_ctx):
    providers.create_open_id_connect_provider(root_ctx, url="https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123")
    page = root_client.get("/iam/identity_providers")
    assert 'href="/iam/identity_providers/oidc/oidc.eks.eu-west-1.amazonaws.com/id/ABC123"' in page.content.decode()
    detail = root_client.get("/iam/identity_providers/oidc/oidc.eks.eu-west-1.amazonaws.com/id/ABC123")
    assert (
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123" in detail.content.decode()
    )


def test_delete_provider_needs_the_name_typed(root_client, root_ctx):
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata())
    wrong = root_client.post("/iam/identity_providers/delete/saml/Okta", {"confirm": "okta"})
    assert wrong.status_code == 400
    assert "To confirm deletion, enter Okta in the text input field." in wrong.content.decode()
    done = root_client.post("/iam/identity_providers/delete/saml/Okta", {"confirm": "Okta"})
    assert done.status_code == 302 and done["Location"] == "/iam/identity_providers"
    assert not SamlProvider.objects.exists()
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB)
    dialog = root_client.get("/iam/identity_providers/delete/oidc/token.actions.githubusercontent.com")
    assert "Delete token.actions.githubusercontent.com?" in dialog.content.decode()
    root_client.post(
        "/iam/identity_providers/delete/oidc/token.actions.githubusercontent.com",
        {"confirm": "token.actions.githubusercontent.com"},
    )
    assert not OpenIdConnectProvider.objects.exists()


def test_other_account_console_sees_nothing(root_ctx, other_root_client):
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata())
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB)
    assert 'Identity providers <span class="counter">(0)</span>' in (
        other_root_client.get("/iam/identity_providers").content.decode()
    )
    assert other_root_client.get("/iam/identity_providers/saml/Okta").status_code == 404
    assert other_root_client.get("/iam/identity_providers/metadata/Okta").status_code == 404
    assert other_root_client.post("/iam/identity_providers/delete/saml/Okta", {"confirm": "Okta"}).status_code == 404
    assert (
        other_root_client.post(
            "/iam/identity_providers/oidc/token.actions.githubusercontent.com",
            {"action": "add_audience", "audience": "x"},
        ).status_code
        == 404
    )
    assert SamlProvider.objects.count() == 1 and OpenIdConnectProvider.objects.get().client_ids == []


def test_service_linked_role_pages(root_client, root_ctx, managed_policies):
    providers.create_service_linked_role(root_ctx, aws_service_name="ecs.amazonaws.com")
    listing = root_client.get("/iam/roles").content.decode()
    assert "AWS Service: ecs (Service-linked role)" in listing
    detail = root_client.get("/iam/roles/AWSServiceRoleForECS").content.decode()
    assert "(Service-linked role)" in detail and "AmazonECSServiceRolePolicy" in detail
    refused = root_client.post(
        "/iam/roles/AWSServiceRoleForECS/detach_policy",
        {"policy_arn": "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"},
        follow=True,
    )
    assert "this role is only modifiable by AWS" in refused.content.decode()
    deleted = root_client.post("/iam/roles/AWSServiceRoleForECS/delete", {"confirm": "AWSServiceRoleForECS"})
    assert deleted.status_code == 302 and not Role.objects.filter(name="AWSServiceRoleForECS").exists()
    assert AuditEvent.objects.filter(event_name="DeleteServiceLinkedRole", error_code="").exists()


def test_dashboard_and_account_summary_count_providers(root_client, root_ctx):
    providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata())
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB)
    assert services.get_account_summary(root_ctx)["Providers"] == 2
    page = root_client.get("/").content.decode()
    assert '<span class="count-label">Identity providers</span><span class="count">2</span>' in page
