"""Every operation of the Query API's registry is decided and recorded under its own IAM action.

The test walks ``awsapi.dispatch.HANDLERS`` (so an operation added later is covered without touching this file),
builds valid parameters for each from botocore's input shape (required members only), and calls it over the wire as
an IAM user with no policy at all. Each call must answer ``AccessDenied`` naming ``<service>:<Operation>`` and leave
an audit record whose ``eventName`` is the operation. The few operations AWS decides differently are listed below,
each with the AWS page that says so.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.model import Shape, StructureShape

from audit.models import AuditEvent
from awsapi import dispatch
from console.services import user_principal
from core.context import CallContext, Principal
from core.errors import AccessDenied, NoSuchEntity, ValidationError
from core.validation import service_model
from identities import instance_profiles, roles
from identities import services as identities
from identities.models import IamUser
from policies import services as policy_services
from tests.awsapi.conftest import issue_key
from tests.awsapi.test_wire_format import Wire
from tests.identities.saml_fixtures import metadata

pytestmark = pytest.mark.django_db

# Operations that need no permission: the call succeeds for a principal with no policy (and is still recorded).
NO_PERMISSION_NEEDED = {
    # "No permissions are required to perform this operation."
    ("sts", "GetCallerIdentity"): "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html",
    # "No permissions are required for a user to get a session token."
    ("sts", "GetSessionToken"): (
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_getsessiontoken.html"
    ),
}
# Operations that are not signed: the caller has no identity policy to evaluate; the role's trust policy and the
# token or assertion decide (tests/sts/test_federation.py, tests/awsapi/test_federation_api.py).
UNSIGNED = {
    # "Calling AssumeRoleWithWebIdentity does not require the use of AWS security credentials."
    ("sts", "AssumeRoleWithWebIdentity"): (
        "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html"
    ),
    # "Calling AssumeRoleWithSAML does not require the use of AWS security credentials."
    ("sts", "AssumeRoleWithSAML"): "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithSAML.html",
}

ACCOUNT = "111122223333"
DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def plausible_values(target_key_id: str) -> dict[str, Any]:
    """A valid value for each input member name the registry's operations use, naming the resources the fixture
    creates (so a call that looked its resource up before authorizing would still reach authorization)."""
    return {
        "UserName": "target",
        "GroupName": "team",
        "RoleName": "app",
        "PolicyName": "inline",
        "InstanceProfileName": "profile",
        "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/managed",
        "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/managed",
        "PolicyDocument": DOC,
        "AssumeRolePolicyDocument": TRUST,
        "PolicyInputList": [DOC],
        "ActionNames": ["s3:GetObject"],
        "PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/target",
        "VersionId": "v1",
        "AccessKeyId": target_key_id,
        "Status": "Inactive",
        "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/device",
        "VirtualMFADeviceName": "device",
        "AuthenticationCode1": "123456",
        "AuthenticationCode2": "654321",
        "OldPassword": "Old-Passw0rd!",
        "NewPassword": "New-Passw0rd!",
        "Tags": [{"Key": "team", "Value": "blue"}],
        "TagKeys": ["team"],
        "Url": "https://idp.example.com",
        "OpenIDConnectProviderArn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com",
        "ClientID": "client-app",
        "ThumbprintList": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
        "Name": "corp",
        "SAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/corp",
        "SAMLMetadataDocument": metadata(),
        "AWSServiceName": "elasticbeanstalk.amazonaws.com",
        "DeletionTaskId": "task/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk/"
        "00000000-0000-0000-0000-000000000000",
        "AccountAlias": "alpha-school",
        "Description": "An updated description",
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/app",
        "RoleSessionName": "session",
        "EncodedMessage": "encoded-message",
    }


def required_params(shape: StructureShape | None, values: dict[str, Any]) -> dict[str, Any]:
    """The required members of an input shape, each with a plausible value: a known member name's value, else one
    built from the member's shape (so a new operation with new member names still gets a well-formed call)."""
    if shape is None:
        return {}
    return {
        name: values[name] if name in values else from_shape(shape.members[name]) for name in shape.required_members
    }


def from_shape(shape: Shape) -> Any:
    if shape.type_name == "structure":
        return required_params(shape, {})  # type: ignore[arg-type]
    if shape.type_name == "list":
        return [from_shape(shape.member)]  # type: ignore[attr-defined]
    if shape.type_name in ("integer", "long"):
        return max(int(shape.metadata.get("min", 1)), 1)
    if shape.type_name == "boolean":
        return False
    if shape.enum:  # type: ignore[attr-defined]
        return shape.enum[0]  # type: ignore[attr-defined]
    return "a" * max(int(shape.metadata.get("min", 1)), 1)


@pytest.fixture
def world(account, managed_policies):
    """The resources the calls name, created by the root user; and a user with no policy holding an access key."""
    root = CallContext(Principal.root(account.id), user_agent="pytest", origin="console")
    identities.create_user(root, user_name="target")
    identities.create_user(root, user_name="nopolicy")
    target_key_id, _ = issue_key(account.id, IamUser.objects.get(account=account, name="target"))
    return Wire(*issue_key(account.id, IamUser.objects.get(account=account, name="nopolicy"))), target_key_id


OPERATIONS = sorted(set(dispatch.HANDLERS) - set(UNSIGNED))


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}:{o}" for s, o in OPERATIONS])
def test_denied_under_its_own_action_and_recorded(world, account, service, operation):
    wire, target_key_id = world
    model = service_model(service).operation_model(operation)
    params = required_params(model.input_shape, plausible_values(target_key_id))
    AuditEvent.objects.all().delete()

    status, out = wire.call(service, operation, **params)

    if (service, operation) in NO_PERMISSION_NEEDED:
        assert status == 200, out
    else:
        error = out.get("Error", {})
        assert (status, error.get("Code")) == (403, "AccessDenied"), out
        action = f"{service}:{operation}"
        assert f"arn:aws:iam::{ACCOUNT}:user/nopolicy is not authorized to perform: {action} " in error["Message"]
    events = list(AuditEvent.objects.filter(account=account).values_list("event_name", "username", "error_code"))
    expected_error = "" if (service, operation) in NO_PERMISSION_NEEDED else "AccessDenied"
    assert events == [(operation, "nopolicy", expected_error)]


def test_the_exceptions_name_registered_operations():
    """An exception listed here that the registry no longer has would silently widen the walk's blind spot."""
    assert set(NO_PERMISSION_NEEDED) | set(UNSIGNED) <= set(dispatch.HANDLERS)
    assert set(UNSIGNED) == dispatch.UNSIGNED


# ---- the operations the walk found decided or recorded under another name ----------------------------------------


def allow(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


def user_with(root_ctx: CallContext, name: str, *actions: str) -> CallContext:
    user = identities.create_user(root_ctx, user_name=name)
    if actions:
        policy_services.put_user_policy(root_ctx, user_name=name, policy_name="p", policy_document=allow(*actions))
    return CallContext(user_principal(user), origin="api")


def recorded() -> list[tuple[str, str, str]]:
    return list(AuditEvent.objects.order_by("id").values_list("event_name", "username", "error_code"))


def test_tags_are_read_under_their_own_actions(root_ctx):
    identities.create_user(root_ctx, user_name="target", tags=[identities.Tag("team", "blue")])
    roles.create_role(
        root_ctx, role_name="app", assume_role_policy_document=TRUST.replace(ACCOUNT, root_ctx.account_id)
    )
    tagger = user_with(root_ctx, "tagger", "iam:ListUserTags", "iam:ListRoleTags")
    AuditEvent.objects.all().delete()

    assert identities.list_user_tags(tagger, user_name="target") == [{"Key": "team", "Value": "blue"}]
    assert roles.list_role_tags(tagger, role_name="app") == []
    assert recorded() == [("ListUserTags", "tagger", ""), ("ListRoleTags", "tagger", "")]


def test_update_role_description_is_its_own_action(root_ctx):
    roles.create_role(
        root_ctx, role_name="app", assume_role_policy_document=TRUST.replace(ACCOUNT, root_ctx.account_id)
    )
    updater = user_with(root_ctx, "updater", "iam:UpdateRole")  # UpdateRole does not grant UpdateRoleDescription
    AuditEvent.objects.all().delete()

    with pytest.raises(AccessDenied, match="not authorized to perform: iam:UpdateRoleDescription "):
        roles.update_role_description(updater, role_name="app", description="new")
    assert roles.get_role(root_ctx, role_name="app").description == ""
    assert recorded()[0] == ("UpdateRoleDescription", "updater", "AccessDenied")


def test_get_instance_profile_is_authorized_and_recorded(root_ctx):
    instance_profiles.create_instance_profile(root_ctx, instance_profile_name="web", path="/apps/")
    reader = user_with(root_ctx, "reader")
    # Allowed on the profile's real ARN (with its path) only: the call is authorized against that ARN.
    only_apps = {
        "Effect": "Allow",
        "Action": "iam:GetInstanceProfile",
        "Resource": "arn:aws:iam::*:instance-profile/apps/*",
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [only_apps]})
    policy_services.put_user_policy(root_ctx, user_name="reader", policy_name="p", policy_document=document)
    AuditEvent.objects.all().delete()

    assert instance_profiles.get_instance_profile(reader, instance_profile_name="web").name == "web"
    with pytest.raises(
        AccessDenied, match="iam:GetInstanceProfile on resource: arn:aws:iam::111122223333:instance-profile/db "
    ):
        instance_profiles.get_instance_profile(
            reader, instance_profile_name="db"
        )  # a profile that doesn't exist: no leak
    with pytest.raises(NoSuchEntity):
        instance_profiles.get_instance_profile(root_ctx, instance_profile_name="db")
    assert recorded() == [
        ("GetInstanceProfile", "reader", ""),
        ("GetInstanceProfile", "reader", "AccessDenied"),
        ("GetInstanceProfile", "root", "NoSuchEntity"),
    ]


def test_root_get_user_without_a_name_is_recorded(account, managed_policies):
    wire = Wire(*issue_key(account.id))
    AuditEvent.objects.all().delete()

    status, out = wire.call("iam", "GetUser")

    assert status == 200 and out["User"]["Arn"] == f"arn:aws:iam::{account.id}:root"
    assert recorded() == [("GetUser", "root", "")]


def test_login_profile_calls_without_a_name_are_about_the_caller(root_ctx):
    identities.create_user(root_ctx, user_name="self")
    identities.create_login_profile(root_ctx, user_name="self", password="Corr3ct-Horse!")
    me = user_with(root_ctx, "me", "iam:GetLoginProfile", "iam:CreateLoginProfile")
    identities.create_login_profile(me, user_name=None, password="Corr3ct-Horse!")
    assert identities.get_login_profile(me, user_name=None).user.name == "me"
    AuditEvent.objects.all().delete()

    # Root (outside an AssumeRoot session) must name the user: refused as AWS does, and recorded.
    with pytest.raises(ValidationError, match="Must specify userName when calling with non-User credentials"):
        identities.get_login_profile(root_ctx, user_name=None)
    assert recorded() == [("GetLoginProfile", "root", "ValidationError")]
