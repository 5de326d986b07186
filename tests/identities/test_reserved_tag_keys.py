"""Tag keys beginning with ``aws:`` (any letter case) are AWS's own (issue 12, section 5): every IAM path that
sets tags refuses them with InvalidInput and changes nothing: Create*/Tag* for users, roles, customer managed
policies, SAML and OIDC providers (the operations that take tags; instance-profile and MFA tagging are not
implemented, see docs/api-coverage.md), the Query API, and the console's tag editors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.utils.html import escape

from core.errors import InvalidInput
from core.validation import RESERVED_TAG_KEY
from identities import providers, roles, services
from identities.models import IamUser, OpenIdConnectProvider, Role, SamlProvider
from identities.services import Tag
from policies import services as policy_services
from policies.models import ManagedPolicy
from tests.awsapi.conftest import client, issue_key
from tests.identities.saml_fixtures import metadata

GITHUB = "https://token.actions.githubusercontent.com"
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},'
    '"Action":"sts:AssumeRole"}]}'
)
DOCUMENT = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
SHOWN = escape(RESERVED_TAG_KEY)  # as a page shows it
RESERVED = ["aws:team", "AWS:team", "Aws:cloudformation:stack-name", "aWs:"]


def refused(call) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.message == RESERVED_TAG_KEY


@pytest.mark.parametrize("key", RESERVED)
def test_create_with_a_reserved_key_creates_nothing(root_ctx, managed_policies, key):
    tags = [Tag("team", "ok"), Tag(key, "x")]
    refused(lambda: services.create_user(root_ctx, user_name="u", tags=tags))
    refused(lambda: roles.create_role(root_ctx, role_name="r", assume_role_policy_document=TRUST, tags=tags))
    refused(lambda: policy_services.create_policy(root_ctx, policy_name="p", policy_document=DOCUMENT, tags=tags))
    refused(lambda: providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata(), tags=tags))
    refused(lambda: providers.create_open_id_connect_provider(root_ctx, url=GITHUB, client_id_list=["a"], tags=tags))
    assert not IamUser.objects.exists() and not Role.objects.exists()
    assert not ManagedPolicy.objects.filter(account_id=root_ctx.account_id).exists()
    assert not SamlProvider.objects.exists() and not OpenIdConnectProvider.objects.exists()


def test_tag_with_a_reserved_key_changes_nothing(root_ctx, managed_policies):
    ok = [Tag("team", "blue")]
    services.create_user(root_ctx, user_name="u", tags=ok)
    roles.create_role(root_ctx, role_name="r", assume_role_policy_document=TRUST, tags=ok)
    policy = policy_services.create_policy(root_ctx, policy_name="p", policy_document=DOCUMENT, tags=ok)
    saml = providers.create_saml_provider(root_ctx, name="Okta", saml_metadata_document=metadata(), tags=ok)
    oidc = providers.create_open_id_connect_provider(root_ctx, url=GITHUB, client_id_list=["a"], tags=ok)
    bad = [Tag("env", "dev"), Tag("aws:env", "dev")]
    refused(lambda: services.tag_user(root_ctx, user_name="u", tags=bad))
    refused(lambda: roles.tag_role(root_ctx, role_name="r", tags=bad))
    refused(lambda: policy_services.tag_policy(root_ctx, policy_arn=policy.arn, tags=bad))
    refused(lambda: providers.tag_saml_provider(root_ctx, saml_provider_arn=saml.arn, tags=bad))
    refused(lambda: providers.tag_open_id_connect_provider(root_ctx, open_id_connect_provider_arn=oidc.arn, tags=bad))
    expected = [{"Key": "team", "Value": "blue"}]
    assert IamUser.objects.get().tags == expected and Role.objects.get().tags == expected
    assert ManagedPolicy.objects.get(pk=policy.pk).tags == expected
    assert SamlProvider.objects.get().tags == expected and OpenIdConnectProvider.objects.get().tags == expected


def test_keys_that_only_contain_aws_are_fine(root_ctx):
    user = services.create_user(root_ctx, user_name="u", tags=[Tag("my:aws:key", "aws:value"), Tag("awsome", "")])
    assert [t["Key"] for t in user.tags] == ["my:aws:key", "awsome"]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_query_api_answers_invalid_input(live_server, account, managed_policies):
    iam = client(live_server, "iam", *issue_key(account.id))
    for call in (
        lambda: iam.create_user(UserName="u", Tags=[{"Key": "aws:team", "Value": "x"}]),
        lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "AWS:team", "Value": "x"}]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response["Error"]
        assert (caught.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"]) == (400, "InvalidInput")
        assert error["Message"] == RESERVED_TAG_KEY
    iam.create_user(UserName="u")
    with pytest.raises(ClientError, match="InvalidInput"):
        iam.tag_user(UserName="u", Tags=[{"Key": "aws:team", "Value": "x"}])
    assert iam.list_user_tags(UserName="u")["Tags"] == []


# ---- the console's tag editors -----------------------------------------------------------------------------------


def test_create_user_wizard(root_client):
    response = root_client.post(
        "/iam/users/create",
        {
            "step": "3",
            "action": "create",
            "user_name": "alice",
            "permissions_option": "groups",
            "tag_key": ["aws:team"],
            "tag_value": ["x"],
        },
    )
    assert response.status_code == 400 and SHOWN in response.content.decode()
    assert not IamUser.objects.exists()


def test_user_and_role_tag_pages(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    roles.create_role(root_ctx, role_name="app", assume_role_policy_document=TRUST)
    for url in ("/iam/users/alice/tags", "/iam/roles/app/tags"):
        response = root_client.post(url, {"tag_key": ["env", "AWS:env"], "tag_value": ["dev", "dev"]})
        assert response.status_code == 400 and SHOWN in response.content.decode(), url
    assert IamUser.objects.get().tags == [] and Role.objects.get().tags == []


def test_create_role_and_policy_pages(root_client, managed_policies):
    role = root_client.post(
        "/iam/roles/create",
        {
            "step": "3",
            "action": "create",
            "entity_type": "service",
            "service": "lambda",
            "use_case": "lambda",
            "role_name": "tagged",
            "tag_key": ["aws:team"],
            "tag_value": ["1"],
        },
    )
    assert role.status_code == 400 and SHOWN in role.content.decode()
    policy = root_client.post(
        "/iam/policies/create",
        {
            "policy_document": DOCUMENT,
            "action": "create",
            "step": "2",
            "policy_name": "Tagged",
            "tag_key": ["aws:team"],
            "tag_value": ["1"],
        },
    )
    assert SHOWN in policy.content.decode()
    assert not Role.objects.exists() and not ManagedPolicy.objects.filter(name="Tagged").exists()


def test_identity_provider_pages(root_client, root_ctx):
    created = root_client.post(
        "/iam/identity_providers/create",
        {
            "provider_type": "oidc",
            "url": GITHUB,
            "audience": "a",
            "action": "create",
            "tag_key": "aws:ci",
            "tag_value": "",
        },
    )
    assert created.status_code == 400 and SHOWN in created.content.decode()
    assert not OpenIdConnectProvider.objects.exists()
    providers.create_open_id_connect_provider(root_ctx, url=GITHUB, client_id_list=["a"])
    detail = "/iam/identity_providers/oidc/token.actions.githubusercontent.com"
    added = root_client.post(detail, {"action": "add_tag", "tag_key": "Aws:ci", "tag_value": "x"})
    assert added.status_code == 400 and SHOWN in added.content.decode()
    assert OpenIdConnectProvider.objects.get().tags == []
