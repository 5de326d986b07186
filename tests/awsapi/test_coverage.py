"""Every handler answers an operation of botocore's IAM/STS models; every other modelled operation is answered
InvalidAction; docs/api-coverage.md is what ``python -m awsapi.coverage`` writes."""

from __future__ import annotations

import pytest

from awsapi import coverage, dispatch
from awsapi.views import VERSIONS
from core.validation import service_model


def test_every_handler_is_a_modelled_operation():
    unknown = [key for key in dispatch.HANDLERS if key[1] not in service_model(key[0]).operation_names]
    assert unknown == []


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_every_modelled_operation_has_a_handler_or_is_invalid_action(service):
    for name in service_model(service).operation_names:
        if (service, name) in dispatch.HANDLERS:
            continue
        with pytest.raises(dispatch.InvalidAction) as err:
            dispatch.handler_for(service, name, VERSIONS[service])
        assert err.value.message == f"Could not find operation {name} for version {VERSIONS[service]}"
        assert err.value.status == 400


def test_the_issue_list_is_covered():
    wanted = {
        "CreateUser",
        "CreateGroup",
        "CreateRole",
        "CreateInstanceProfile",
        "CreatePolicyVersion",
        "PutUserPolicy",
        "AttachRolePolicy",
        "PutUserPermissionsBoundary",
        "TagUser",
        "TagRole",
        "TagPolicy",
        "CreateAccessKey",
        "GetAccessKeyLastUsed",
        "CreateLoginProfile",
        "CreateVirtualMFADevice",
        "CreateAccountAlias",
        "UpdateAccountPasswordPolicy",
        "GetAccountSummary",
        "GetAccountAuthorizationDetails",
        "GenerateCredentialReport",
        "GetCredentialReport",
        "SimulatePrincipalPolicy",
        "SimulateCustomPolicy",
        "GetContextKeysForPrincipalPolicy",
        "GetContextKeysForCustomPolicy",
    }
    assert wanted - {name for service, name in dispatch.HANDLERS if service == "iam"} == set()
    sts = {"AssumeRole", "GetSessionToken", "GetCallerIdentity", "GetAccessKeyInfo", "DecodeAuthorizationMessage"}
    assert sts - {name for service, name in dispatch.HANDLERS if service == "sts"} == set()


def test_committed_coverage_table_is_up_to_date():
    assert coverage.PATH.read_text() == coverage.render(), "run: python -m awsapi.coverage"


def test_every_unimplemented_operation_is_in_a_family_with_its_reason():
    """issue 14 §2: each family left InvalidAction is named on the coverage page with the reason."""
    missing = {
        f"{service}:{name}"
        for service in ("iam", "sts")
        for name in service_model(service).operation_names
        if (service, name) not in dispatch.HANDLERS
    }
    listed = {name for _, _, names in coverage.FAMILIES for name in names}
    assert missing == listed
    assert all(reason for _, reason, _ in coverage.FAMILIES)
