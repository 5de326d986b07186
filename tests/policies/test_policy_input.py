"""Every door a policy document enters through answers IAM's MalformedPolicyDocument message (issue 14 §1), and
bad policy input never gives a 500 (issue 12 §5): deeply nested JSON, odd Condition shapes, lone surrogates."""

from __future__ import annotations

import json

import pytest

from core.errors import MalformedPolicyDocument
from identities import roles
from identities import services as identity_services
from policies import services, simulator
from policies.engine import validate_policy
from policies.models import InlinePolicy, ManagedPolicy

V = "2012-10-17"
OK = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::example_bucket"}
DEEP = "[" * 3000 + "]" * 3000  # under the 131072-character limit, deeper than Python's JSON decoder goes
NOT_OBJECT_CONDITION = json.dumps({"Version": "2012-10-17", "Statement": [dict(OK, Condition=["x"])]})
LIST_BLOCK = json.dumps({"Version": "2012-10-17", "Statement": [dict(OK, Condition={"StringEquals": [1]})]})
SCALAR_BLOCK = json.dumps({"Version": "2012-10-17", "Statement": {"Condition": {"StringEquals": 5}}})
SURROGATE = (
    '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::\\ud800"}}'
)
BAD_INPUTS = [DEEP, NOT_OBJECT_CONDITION, LIST_BLOCK, SCALAR_BLOCK]


@pytest.mark.parametrize("document", BAD_INPUTS, ids=["deep", "condition-list", "block-list", "block-scalar"])
def test_context_keys_for_bad_documents_answer_malformed_policy(root_ctx, document):
    with pytest.raises(MalformedPolicyDocument, match="Syntax errors in policy."):
        simulator.get_context_keys_for_custom_policy(root_ctx, policy_input_list=[document])


@pytest.mark.parametrize("document", BAD_INPUTS, ids=["deep", "condition-list", "block-list", "block-scalar"])
def test_simulate_custom_policy_reports_bad_documents(root_ctx, document):
    simulation = simulator.custom(root_ctx, identity=[document])
    (result,) = simulator.run(root_ctx, simulation, ["s3:ListBucket"], ["*"], {})
    assert result.decision == "ImplicitDeny" and "Syntax errors in policy." in result.errors[0]


@pytest.mark.parametrize("document", BAD_INPUTS, ids=["deep", "condition-list", "block-list", "block-scalar"])
def test_console_simulator_custom_mode_explains_bad_documents(root_client, document):
    page = root_client.post(
        "/iam/policy_simulator", {"mode": "custom", "identity": [document], "actions": ["s3:GetObject"], "context": ""}
    )
    assert page.status_code in (200, 400) and b"Syntax errors in policy." in page.content


def test_lone_surrogate_is_refused_at_every_door(root_ctx):
    with pytest.raises(MalformedPolicyDocument, match="Syntax errors in policy."):
        services.create_policy(root_ctx, policy_name="Odd", policy_document=SURROGATE)
    identity_services.create_user(root_ctx, user_name="alice")
    with pytest.raises(MalformedPolicyDocument, match="Syntax errors in policy."):
        services.put_user_policy(root_ctx, user_name="alice", policy_name="odd", policy_document=SURROGATE)
    assert not ManagedPolicy.objects.filter(account_id=root_ctx.account_id).exists()
    assert not InlinePolicy.objects.exists()


def test_managed_policies_need_version_2012_inline_ones_do_not(root_ctx):
    # IAM JSON policy elements: Version — without Version the language defaults to 2008-10-17; IAM answers
    # CreatePolicy (a managed policy) with "Policy document must be version 2012-10-17 or greater."
    no_version = json.dumps({"Statement": [OK]})
    with pytest.raises(MalformedPolicyDocument, match="Policy document must be version 2012-10-17 or greater."):
        services.create_policy(root_ctx, policy_name="NoVersion", policy_document=no_version)
    good = services.create_policy(
        root_ctx, policy_name="Good", policy_document=json.dumps({"Version": "2012-10-17", "Statement": [OK]})
    )
    with pytest.raises(MalformedPolicyDocument, match="Policy document must be version 2012-10-17 or greater."):
        services.create_policy_version(
            root_ctx, policy_arn=good.arn, policy_document=json.dumps({"Version": "2008-10-17", "Statement": OK})
        )
    identity_services.create_user(root_ctx, user_name="alice")
    services.put_user_policy(root_ctx, user_name="alice", policy_name="old", policy_document=no_version)
    assert InlinePolicy.objects.filter(name="old").exists()


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (dict(OK, Resource="invalid resource"), 'Resource invalid resource must be in ARN format or "*".'),
        (dict(OK, Action="s3:List:Bucket"), "Actions/Condition can contain only one colon."),
        (dict(OK, Effect="denY"), "The policy failed legacy parsing"),
    ],
)
@pytest.mark.parametrize("owner", ["user", "group", "role"])
def test_inline_policies_are_refused_with_iams_message(root_ctx, statement, message, owner):
    # Put{User,Group,Role}Policy: the same door, the same message.
    trust = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    if owner == "user":
        identity_services.create_user(root_ctx, user_name="alice")
    elif owner == "group":
        identity_services.create_group(root_ctx, group_name="alice")
    else:
        roles.create_role(
            root_ctx, role_name="alice", assume_role_policy_document=json.dumps({"Version": V, "Statement": trust})
        )
    put = {"user": services.put_user_policy, "group": services.put_group_policy, "role": services.put_role_policy}
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement, dict(OK, Sid="A")]})
    with pytest.raises(MalformedPolicyDocument) as info:
        put[owner](root_ctx, **{f"{owner}_name": "alice"}, policy_name="p", policy_document=document)
    assert info.value.message == message
    assert not InlinePolicy.objects.exists()


def test_findings_are_not_refusals(root_ctx):
    # Access Analyzer's findings (an action that does not exist is an ERROR finding, a missing Version a WARNING)
    # never change what IAM accepts: IAM saves a document naming an unknown action of a known format.
    typo = json.dumps({"Version": V, "Statement": [dict(OK, Action="s3:GetObjct")]})
    assert "INVALID_ACTION" in {f.issue_code for f in validate_policy(typo, "identity", managed=True)}
    services.create_policy(root_ctx, policy_name="Typo", policy_document=typo)
    no_version = json.dumps({"Statement": [OK]})
    assert "MISSING_VERSION" in {f.issue_code for f in validate_policy(no_version, "identity")}
    identity_services.create_user(root_ctx, user_name="alice")
    services.put_user_policy(root_ctx, user_name="alice", policy_name="old", policy_document=no_version)
    assert ManagedPolicy.objects.filter(name="Typo").exists() and InlinePolicy.objects.filter(name="old").exists()


def test_trust_policy_with_resource_is_refused(root_ctx):
    trust = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    with pytest.raises(MalformedPolicyDocument, match="Has prohibited field Resource."):
        roles.create_role(
            root_ctx,
            role_name="r",
            assume_role_policy_document=json.dumps({"Version": "2012-10-17", "Statement": dict(trust, Resource="*")}),
        )


def test_console_editor_shows_iams_refusal_before_saving(root_client):
    duplicate = json.dumps({"Version": "2012-10-17", "Statement": [dict(OK, Sid="A"), dict(OK, Sid="A")]})
    page = root_client.post("/iam/policies/create", {"policy_document": duplicate, "action": "next"})
    assert page.status_code == 400
    assert b'data-testid="document-error">Statement IDs (SID) in a single policy must be unique.<' in page.content
    no_version = json.dumps({"Statement": [OK]})
    page = root_client.post("/iam/policies/create", {"policy_document": no_version, "action": "next"})
    assert b"Policy document must be version 2012-10-17 or greater." in page.content


def test_trust_and_session_policies_get_iams_messages(root_ctx):
    from console.services import user_principal
    from core.context import CallContext
    from sts import services as sts

    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{root_ctx.account_id}:root"},
        "Action": "sts:AssumeRole",
    }
    roles.create_role(
        root_ctx, role_name="r", assume_role_policy_document=json.dumps({"Version": "2012-10-17", "Statement": trust})
    )
    bad_trust = json.dumps({"Version": "2012-10-17", "Statement": dict(trust, Action="sts:Assume:Role")})
    with pytest.raises(MalformedPolicyDocument, match="Actions/Condition can contain only one colon."):
        roles.update_assume_role_policy(root_ctx, role_name="r", policy_document=bad_trust)
    user = identity_services.create_user(root_ctx, user_name="alice")
    assume = json.dumps({"Version": "2012-10-17", "Statement": dict(OK, Action="sts:AssumeRole", Resource="*")})
    services.put_user_policy(root_ctx, user_name="alice", policy_name="assume", policy_document=assume)
    alice = CallContext(user_principal(user), origin="api")
    session = json.dumps({"Statement": dict(OK, Resource="arn:aws:s3:us-east-1::example_bucket")})
    with pytest.raises(MalformedPolicyDocument, match="can not contain region information"):
        sts.assume_role(
            alice, role_arn=f"arn:aws:iam::{root_ctx.account_id}:role/r", role_session_name="s1", policy=session
        )


@pytest.mark.parametrize("document", BAD_INPUTS, ids=["deep", "condition-list", "block-list", "block-scalar"])
def test_query_api_answers_4xx_not_500(account, managed_policies, document):
    from tests.awsapi.conftest import issue_key
    from tests.awsapi.test_wire_format import Wire

    wire = Wire(*issue_key(account.id))
    status, out = wire.call("iam", "GetContextKeysForCustomPolicy", PolicyInputList=[document])
    assert status == 400 and out["Error"]["Code"] == "MalformedPolicyDocument"
    status, out = wire.call("iam", "SimulateCustomPolicy", PolicyInputList=[document], ActionNames=["s3:GetObject"])
    assert status < 500, out
