"""Identity providers and service-linked roles through a real boto3 client against the live server."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from tests.awsapi.conftest import client, issue_key
from tests.identities.saml_fixtures import metadata

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GITHUB = "https://token.actions.githubusercontent.com"
THUMB = "6938fd4d98bab03faadb97b34396831e3780aea1"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_saml_provider_lifecycle(iam):
    document = metadata(valid_until="2030-01-01T00:00:00Z")
    created = iam.create_saml_provider(Name="Okta", SAMLMetadataDocument=document, Tags=[{"Key": "a", "Value": "1"}])
    arn = created["SAMLProviderArn"]
    assert arn == "arn:aws:iam::111122223333:saml-provider/Okta"
    assert created["Tags"] == [{"Key": "a", "Value": "1"}]

    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == document
    assert got["ValidUntil"].year == 2030 and isinstance(got["CreateDate"], datetime)
    assert len(got["SAMLProviderUUID"]) >= 22
    listed = iam.list_saml_providers()["SAMLProviderList"]
    assert [p["Arn"] for p in listed] == [arn]

    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["a"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]

    updated = iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=metadata())
    assert updated["SAMLProviderArn"] == arn

    with pytest.raises(ClientError) as exc:
        iam.create_saml_provider(Name="Bad", SAMLMetadataDocument="z" * 1000)
    assert error(exc) == ("InvalidInput", "Could not parse metadata", 400)

    iam.delete_saml_provider(SAMLProviderArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.get_saml_provider(SAMLProviderArn=arn)
    assert error(exc) == ("NoSuchEntity", f"Manifest not found for arn {arn}", 404)


def test_oidc_provider_lifecycle(iam):
    arn = iam.create_open_id_connect_provider(Url=GITHUB, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[THUMB])[
        "OpenIDConnectProviderArn"
    ]
    assert arn == "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="my-app")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["a" * 40, THUMB])
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "ci", "Value": "gh"}])

    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "token.actions.githubusercontent.com"
    assert got["ClientIDList"] == ["my-app"] and got["ThumbprintList"] == ["a" * 40, THUMB]
    assert got["Tags"] == [{"Key": "ci", "Value": "gh"}]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": arn}]
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["ci"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == []

    with pytest.raises(ClientError) as exc:
        iam.create_open_id_connect_provider(Url=GITHUB)
    assert error(exc) == ("EntityAlreadyExists", f"Provider with url {GITHUB} already exists.", 409)
    with pytest.raises(ClientError) as exc:
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[THUMB] * 6)
    assert error(exc) == ("InvalidInput", "Thumbprint list must contain fewer than 5 entries.", 400)

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_other_account_cannot_reach_providers(live_server, iam, other_account):
    arn = iam.create_open_id_connect_provider(Url=GITHUB)["OpenIDConnectProviderArn"]
    other = client(live_server, "iam", *issue_key(other_account.id))
    assert other.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    with pytest.raises(ClientError) as exc:
        other.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error(exc)[0] in ("NoSuchEntity", "AccessDenied")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": arn}]


def test_service_linked_role_lifecycle(iam):
    role = iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")["Role"]
    name = "AWSServiceRoleForElasticLoadBalancing"
    assert role["RoleName"] == name and role["Path"] == "/aws-service-role/elasticloadbalancing.amazonaws.com/"
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "elasticloadbalancing.amazonaws.com"}
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSElasticLoadBalancingServiceRolePolicy"]

    protected = f"Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS"
    for call in (
        lambda: iam.delete_role(RoleName=name),
        lambda: iam.put_role_policy(
            RoleName=name,
            PolicyName="x",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        ),
        lambda: iam.detach_role_policy(RoleName=name, PolicyArn=attached[0]["PolicyArn"]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == ("UnmodifiableEntity", protected, 400)

    task = iam.delete_service_linked_role(RoleName=name)["DeletionTaskId"]
    assert task.startswith(f"task/aws-service-role/elasticloadbalancing.amazonaws.com/{name}/")
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as exc:
        iam.get_role(RoleName=name)
    assert error(exc)[0] == "NoSuchEntity"
