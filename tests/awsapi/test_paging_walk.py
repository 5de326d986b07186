"""Every operation that pages honours MaxItems and Marker (issue 14 §3), walked from botocore's model: each
operation whose input has ``Marker`` and whose output has ``IsTruncated`` is called once whole, then page by page
with ``MaxItems=1`` following the ``Marker``; the pages must hold one item each, say ``IsTruncated`` until the
last, and put back together the whole answer (IAM API Reference, "Using pagination": "IsTruncated … indicates
whether there are more items to return", Marker "to continue from where you left off").

The world has two of everything a listing lists, so that every operation really pages; the few that cannot have
two items here are named below with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.model import ListShape
from cryptography.hazmat.primitives.asymmetric import rsa

from awsapi.dispatch import HANDLERS
from awsapi.protocol import serializer
from core.context import CallContext
from core.errors import IamError
from core.validation import service_model
from tests.awsapi.test_classic_operations import certificate, ssh_rsa
from tests.awsapi.test_param_walk import DOCUMENT, TRUST, _world, parse_response
from tests.awsapi.test_server_certificates import issue, key_pem, pem

pytestmark = pytest.mark.django_db

# Operations this world cannot reach, each with the test that pages them instead.
ELSEWHERE: dict[str, str] = {
    "GetOrganizationsAccessReport": "needs a class's organization: tests/awsapi/test_root_access.py pages it",
}
# Operations that cannot list two items in this world, each with the reason (they are still walked).
SINGLE: dict[str, str] = {
    "ListAccountAliases": "an account has at most one alias (CreateAccountAlias)",
    "ListMFADevices": "enabling a second device for alice needs two TOTP codes per device; tested in test_mfa",
    "GetServiceLastAccessedDetailsWithEntities": "alice is the only entity that used the service in this world",
}


def call(ctx: CallContext, name: str, **params: Any) -> dict[str, Any]:
    return HANDLERS[("iam", name)](ctx, params) or {}


def _more(ctx: CallContext, world: dict[str, Any]) -> dict[str, Any]:
    """A second of each thing the world of test_param_walk has one of, and a few kinds it has none of."""
    tags = [{"Key": "k2", "Value": "v2"}, {"Key": "k3", "Value": "v3"}]
    call(ctx, "CreateUser", UserName="bob")
    call(ctx, "CreateGroup", GroupName="ops")
    for user in ("alice", "bob"):
        call(ctx, "AddUserToGroup", GroupName="ops", UserName=user)
    call(ctx, "AddUserToGroup", GroupName="devs", UserName="bob")
    call(ctx, "CreateRole", RoleName="web", AssumeRolePolicyDocument=TRUST)
    second = call(ctx, "CreatePolicy", PolicyName="pol2", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
    call(ctx, "CreatePolicyVersion", PolicyArn=world["PolicyArn"], PolicyDocument=DOCUMENT)
    for arn in (world["PolicyArn"], second):
        call(ctx, "AttachUserPolicy", UserName="alice", PolicyArn=arn)
        call(ctx, "AttachGroupPolicy", GroupName="devs", PolicyArn=arn)
        call(ctx, "AttachRolePolicy", RoleName="app", PolicyArn=arn)
    call(ctx, "AttachUserPolicy", UserName="bob", PolicyArn=world["PolicyArn"])
    call(ctx, "PutUserPolicy", UserName="alice", PolicyName="inline2", PolicyDocument=DOCUMENT.replace("s3:", "iam:"))
    call(ctx, "PutGroupPolicy", GroupName="devs", PolicyName="inline2", PolicyDocument=DOCUMENT)
    call(ctx, "PutRolePolicy", RoleName="app", PolicyName="inline2", PolicyDocument=DOCUMENT)
    call(ctx, "CreateInstanceProfile", InstanceProfileName="prof2")
    call(ctx, "AddRoleToInstanceProfile", InstanceProfileName="prof2", RoleName="app")
    call(ctx, "CreateAccessKey", UserName="alice")
    call(ctx, "CreateVirtualMFADevice", VirtualMFADeviceName="spare")
    call(ctx, "UploadSSHPublicKey", UserName="alice", SSHPublicKeyBody=ssh_rsa())
    call(ctx, "UploadSigningCertificate", UserName="alice", CertificateBody=certificate())
    call(ctx, "CreateServiceSpecificCredential", UserName="alice", ServiceName=world["ServiceName"])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate_body, private_key = pem(issue("www1", key)), key_pem(key)
    call(
        ctx,
        "UploadServerCertificate",
        ServerCertificateName="www1",
        CertificateBody=certificate_body,
        PrivateKey=private_key,
    )
    call(ctx, "TagUser", UserName="alice", Tags=tags)
    call(ctx, "TagRole", RoleName="app", Tags=tags)
    call(ctx, "TagPolicy", PolicyArn=world["PolicyArn"], Tags=tags)
    call(ctx, "TagInstanceProfile", InstanceProfileName="prof", Tags=tags)
    call(ctx, "TagMFADevice", SerialNumber=world["SerialNumber"], Tags=tags)
    call(ctx, "TagOpenIDConnectProvider", OpenIDConnectProviderArn=world["OpenIDConnectProviderArn"], Tags=tags)
    call(ctx, "TagSAMLProvider", SAMLProviderArn=world["SAMLProviderArn"], Tags=tags)
    call(ctx, "TagServerCertificate", ServerCertificateName="www1", Tags=tags)
    call(ctx, "CreateAccountAlias", AccountAlias="paging-walk")
    job = call(ctx, "GenerateServiceLastAccessedDetails", Arn=f"arn:aws:iam::{ctx.account_id}:user/alice")["JobId"]
    return {
        "ServerCertificateName": "www1",
        "JobId": job,
        "ServiceNamespace": "iam",
        "Arn": f"arn:aws:iam::{ctx.account_id}:user/alice",
        "ServiceNamespaces": ["s3", "iam"],
        "ActionNames": ["s3:GetObject", "s3:PutObject", "iam:ListUsers"],
        "Scope": "Local",  # ListPolicies: the account's own policies, not the whole AWS managed catalog
        "Filter": ["User", "Role", "Group", "LocalManagedPolicy"],  # GetAccountAuthorizationDetails, likewise
    }


def _parsed(name: str, result: dict[str, Any]) -> dict[str, Any]:
    operation = service_model("iam").operation_model(name)
    return parse_response(operation, serializer.serialize("iam", operation, result, "paging-walk"))


def _lists(name: str) -> list[str]:
    output = service_model("iam").operation_model(name).output_shape
    return [m for m, shape in output.members.items() if isinstance(shape, ListShape)]


def paging_operations() -> list[str]:
    out = []
    for service, name in sorted(HANDLERS):
        operation = service_model(service).operation_model(name)
        inputs = operation.input_shape.members if operation.input_shape is not None else {}
        outputs = operation.output_shape.members if operation.output_shape is not None else {}
        if service == "iam" and "Marker" in inputs and "MaxItems" in inputs and "IsTruncated" in outputs:
            out.append(name)
    return out


@pytest.fixture
def world(root_ctx, managed_policies) -> dict[str, Any]:
    base = _world(root_ctx)
    return {**base, **_more(root_ctx, base)}


def walk(ctx: CallContext, name: str, world: dict[str, Any]) -> tuple[int, list[str]]:
    """(items in the whole answer, problems found paging through it)."""
    operation = service_model("iam").operation_model(name)
    members = operation.input_shape.members
    params = {m: world[m] for m in members if m in world and m not in ("MaxItems", "Marker")}
    lists = _lists(name)
    whole = _parsed(name, call(ctx, name, **params))
    total = sum(len(whole.get(m, [])) for m in lists)
    problems = []
    if whole.get("IsTruncated"):
        problems.append("the whole answer (default MaxItems) is truncated")
    pages: list[dict[str, Any]] = []
    marker = None
    while len(pages) <= total + 1:
        page = _parsed(name, call(ctx, name, **params, MaxItems=1, **({"Marker": marker} if marker else {})))
        pages.append(page)
        if sum(len(page.get(m, [])) for m in lists) > 1:
            problems.append(f"page {len(pages)} holds more than MaxItems=1 items")
        if not page.get("IsTruncated"):
            break
        marker = page.get("Marker")
        if not marker:
            problems.append(f"page {len(pages)} is truncated without a Marker")
            break
    if len(pages) != max(total, 1):
        problems.append(f"{len(pages)} pages for {total} items")
    for member in lists:
        joined = [item for page in pages for item in page.get(member, [])]
        if joined != whole.get(member, []):
            problems.append(f"{member}: the pages put together differ from the whole answer")
    return total, problems


def test_every_listing_pages_with_max_items_and_marker(root_ctx, world):
    names = paging_operations()
    assert len(names) >= 35  # every List*, and the Get*/Simulate* operations that page
    problems: dict[str, list[str]] = {}
    single = []
    for name in names:
        if name in ELSEWHERE:
            continue
        try:
            total, found = walk(root_ctx, name, world)
        except IamError as exc:
            total, found = 0, [f"{exc.code}: {exc.message}"]
        if found:
            problems[name] = found
        if total < 2:
            single.append(name)
    assert not problems, "\n".join(f"{name}: {p}" for name, p in problems.items())
    assert sorted(single) == sorted(SINGLE), single


def test_the_one_listing_without_max_items_is_awss():
    # ListPoliciesGrantingServiceAccess: AWS's input has Marker and no MaxItems (it pages by its own page size).
    names = []
    for service, name in sorted(HANDLERS):
        inputs = service_model(service).operation_model(name).input_shape
        if inputs is not None and "Marker" in inputs.members and "MaxItems" not in inputs.members:
            names.append(name)
    assert names == ["ListPoliciesGrantingServiceAccess"]


def test_max_items_out_of_range_is_refused_with_awss_message(root_ctx, world):
    from core.errors import ValidationError

    with pytest.raises(ValidationError, match="Member must have value greater than or equal to 1"):
        call(root_ctx, "ListUsers", MaxItems=0)
    with pytest.raises(ValidationError, match="Member must have value less than or equal to 1000"):
        call(root_ctx, "ListUsers", MaxItems=1001)


def test_max_items_zero_over_the_wire(account, managed_policies):
    from tests.awsapi.conftest import issue_key
    from tests.awsapi.test_wire_format import Wire

    status, out = Wire(*issue_key(account.id)).call("iam", "ListUsers", client_validation=False, MaxItems=0)
    assert status == 400 and out["Error"]["Code"] == "ValidationError"
    assert "Member must have value greater than or equal to 1" in out["Error"]["Message"]
