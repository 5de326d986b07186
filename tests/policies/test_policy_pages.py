"""Policies pages: the list over the whole AWS catalog, create with live findings, detail, versions, edit, delete."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from identities import services as identity_services
from policies import services
from policies.models import ManagedPolicy, PolicyVersion

GOOD = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}, indent=4)
TYPO = GOOD.replace("s3:GetObject", "s3:GetObjekt")


def url(arn: str, suffix: str = "") -> str:
    return f"/iam/policies/{quote(arn, safe='')}{suffix}"


def test_list_search_type_and_pages(root_client):
    page = root_client.get("/iam/policies?q=S3ReadOnly").content.decode()
    assert "AmazonS3ReadOnlyAccess" in page and "AdministratorAccess" not in page
    job = root_client.get("/iam/policies?type=job").content.decode()
    assert "ViewOnlyAccess" in job and "AmazonS3ReadOnlyAccess" not in job
    assert root_client.get("/iam/policies?page=9999&size=100").status_code == 200


def test_list_runs_a_constant_number_of_queries(root_client, root_ctx, django_assert_max_num_queries):
    root_client.get("/iam/policies")
    with django_assert_max_num_queries(20) as few:
        root_client.get("/iam/policies")
    for i in range(30):
        services.create_policy(root_ctx, policy_name=f"p{i}", policy_document=GOOD)
        identity_services.create_user(root_ctx, user_name=f"u{i}")
        services.attach_user_policy(root_ctx, user_name=f"u{i}", policy_arn=f"arn:aws:iam::111122223333:policy/p{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        root_client.get("/iam/policies?type=customer")


def test_findings_panel_reacts_to_an_invalid_action(root_client):
    panel = root_client.post("/iam/policies/validate", {"policy_document": TYPO}, HTTP_HX_REQUEST="true").content.decode()
    assert "Errors (1)" in panel and "s3:GetObjekt" in panel and "Line" in panel
    broken = root_client.post("/iam/policies/validate", {"policy_document": "{nope"}).content.decode()
    assert "Errors (1)" in broken


def test_next_is_refused_while_there_is_an_error(root_client):
    response = root_client.post("/iam/policies/create", {"policy_document": "{nope", "action": "next"})
    assert response.status_code == 400 and b"Syntax errors in policy." in response.content
    response = root_client.post("/iam/policies/create", {"policy_document": TYPO, "action": "next"})
    assert b'data-testid="document-error"' in response.content


def test_create_edit_versions_and_delete(root_client, root_ctx):
    review = root_client.post("/iam/policies/create", {"policy_document": GOOD, "action": "next"})
    assert b"Policy name" in review.content and b"Amazon S3" in review.content
    created = root_client.post("/iam/policies/create", {"policy_document": GOOD, "action": "create",
                                                        "policy_name": "ReadReports", "description": "reports"})
    assert created.status_code == 302
    arn = "arn:aws:iam::111122223333:policy/ReadReports"
    detail = root_client.get(created.url).content.decode()
    assert "Customer managed" in detail and arn in detail
    edited = root_client.post(url(arn, "/edit"), {"action": "save", "policy_document": GOOD.replace("reports", "team")})
    assert edited.status_code == 302
    versions = root_client.get(url(arn, "?tab=versions")).content.decode()
    assert "v2 (Default)" in versions and "v1" in versions
    root_client.post(url(arn, "/versions"), {"action": "set_default", "version_id": "v1"})
    assert ManagedPolicy.objects.get(arn=arn).default_version_id == "v1"
    for _ in range(5):  # the sixth save drops the oldest non-default version, as the console's dialog says
        root_client.post(url(arn, "/edit"), {"action": "save", "policy_document": GOOD})
    assert PolicyVersion.objects.filter(policy__arn=arn).count() == 5
    identity_services.create_user(root_ctx, user_name="reader")
    services.attach_user_policy(root_ctx, user_name="reader", policy_arn=arn)
    assert root_client.post(url(arn, "/delete"), {"confirm": "wrong"}).status_code == 400
    assert root_client.post(url(arn, "/delete"), {"confirm": "ReadReports"}).status_code == 302
    assert not ManagedPolicy.objects.filter(arn=arn).exists()


def test_aws_managed_policy_detail_shows_the_summary(root_client):
    page = root_client.get(url("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")).content.decode()
    assert "AWS managed - job function" in page and 'data-testid="permissions-summary"' in page
    json_view = root_client.get(url("arn:aws:iam::aws:policy/AdministratorAccess", "?tab=permissions&view=json"))
    assert b'&quot;Action&quot;: &quot;*&quot;' in json_view.content
    assert root_client.get(url("arn:aws:iam::aws:policy/AdministratorAccess", "/edit")).status_code == 404


@pytest.mark.parametrize("suffix", ["", "/edit", "/delete", "?tab=versions", "?tab=entities"])
def test_other_accounts_policies_are_not_reachable(root_ctx, other_root_client, suffix):
    policy = services.create_policy(root_ctx, policy_name="Private", policy_document=GOOD)
    response = other_root_client.get(url(policy.arn, suffix))
    assert response.status_code in (403, 404)
    assert b"Private" not in response.content or response.status_code == 403
    post = other_root_client.post(url(policy.arn, "/delete"), {"confirm": "Private"})
    assert post.status_code in (403, 404)
    assert ManagedPolicy.objects.filter(arn=policy.arn).exists()


def test_unknown_policy_is_a_404(root_client):
    assert root_client.get(url("arn:aws:iam::111122223333:policy/Nope")).status_code == 404
    assert root_client.get("/iam/policies/not-an-arn").status_code in (400, 404)
