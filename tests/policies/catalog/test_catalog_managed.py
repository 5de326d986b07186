from __future__ import annotations

import json

from policies.catalog import managed

JOB_FUNCTIONS = {
    "AdministratorAccess",
    "Billing",
    "DatabaseAdministrator",
    "DataScientist",
    "PowerUserAccess",
    "NetworkAdministrator",
    "ReadOnlyAccess",
    "SecurityAudit",
    "SupportUser",
    "SystemAdministrator",
    "ViewOnlyAccess",
}


def test_managed_policy_count_and_well_known_policies():
    policies = managed.managed_policies()
    assert len(policies) >= 1500
    assert managed.get("AdministratorAccess").arn == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert managed.get("IAMReadOnlyAccess").arn == "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    assert managed.get("AmazonS3FullAccess").arn == "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    assert managed.get("ViewOnlyAccess").arn == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    lam = managed.get("AWSLambdaBasicExecutionRole")
    assert lam.arn == "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert managed.get("NoSuchPolicy") is None
    assert managed.by_arn(lam.arn) is lam


def test_job_function_flags():
    assert {p.name for p in managed.job_function_policies()} == JOB_FUNCTIONS
    assert managed.get("AdministratorAccess").job_function
    assert managed.get("AdministratorAccess").path == "/"
    assert not managed.get("AmazonS3FullAccess").job_function


def test_record_fields_and_document_text():
    admin = managed.get("AdministratorAccess")
    assert admin.default_version_id.startswith("v")
    assert admin.create_date.startswith("20") and admin.update_date >= admin.create_date
    assert json.loads(admin.document) == admin.document_dict
    assert admin.document.lstrip().startswith('{\n    "Version": "2012-10-17"')
    assert admin.document_dict["Statement"][0]["Action"] == "*"


def test_descriptions_are_ours_and_never_empty():
    assert managed.get("AdministratorAccess").description == managed.DESCRIPTIONS["AdministratorAccess"]
    assert all(managed.get(name) for name in managed.DESCRIPTIONS), "every described policy exists"
    slr = next(p for p in managed.managed_policies() if p.path == "/aws-service-role/")
    assert slr.description.startswith("Policy for the ") and "service-linked role" in slr.description
    svc = next(
        p for p in managed.managed_policies() if p.path == "/service-role/" and p.name not in managed.DESCRIPTIONS
    )
    assert svc.description.startswith("Service role policy for ")
    other = next(p for p in managed.managed_policies() if p.path == "/" and p.name not in managed.DESCRIPTIONS)
    assert other.description.startswith("Provides access to ")
    assert all(p.description for p in managed.managed_policies())


def test_derive_description_names_services():
    doc = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "iam:GetUser"], "Resource": "*"}]}
    text = managed.derive_description("X", "/", doc)
    assert text == "Provides access to Amazon S3 and AWS Identity and Access Management (IAM) as defined by AWS."
    assert "all AWS services" in managed.derive_description("X", "/", {"Statement": {"Action": "*"}})
    assert managed.derive_description("X", "/", {}) == "Provides access to AWS resources as defined by AWS."
