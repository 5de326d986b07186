"""Policies console pages: the list over the whole AWS managed catalog, Create policy with live validation
findings, the detail page (summary, entities, versions), Edit (new default version, the 5-versions rule), Delete,
account isolation, and bad input that must give a 4xx, never a 500."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import LimitExceeded
from identities import roles as role_services
from identities import services as identity_services
from identities.models import IamUser
from policies import services
from policies.documents import STARTER_POLICY as STARTER
from policies.models import ManagedPolicy, PolicyVersion, UserPolicyAttachment

ACCOUNT = "111122223333"
GOOD = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}],
    },
    indent=4,
)
TYPO = GOOD.replace("s3:GetObject", "s3:GetObjekt")
PASS_ROLE = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}, indent=4
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
HX = {"HTTP_HX_REQUEST": "true"}


def url(arn: str, suffix: str = "") -> str:
    return f"/iam/policies/{quote(arn, safe='')}{suffix}"


def arn_of(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def make_policy(ctx, name: str = "ReadReports", document: str = GOOD) -> ManagedPolicy:
    return services.create_policy(ctx, policy_name=name, policy_document=document)


# ---- list -------------------------------------------------------------------------------------------------------


def test_list_filters_by_text_and_type_and_pages(root_client, root_ctx):
    make_policy(root_ctx, "TeamS3ReadOnly")
    page = root_client.get("/iam/policies?q=S3ReadOnly").content.decode()
    assert "AmazonS3ReadOnlyAccess" in page and "TeamS3ReadOnly" in page and "AdministratorAccess" not in page
    job = root_client.get("/iam/policies?type=job").content.decode()
    assert "ViewOnlyAccess" in job and "AmazonS3ReadOnlyAccess" not in job and "AWS managed - job function" in job
    customer = root_client.get("/iam/policies?type=customer").content.decode()
    assert 'data-testid="policy-count">(1)' in customer and "TeamS3ReadOnly" in customer
    aws = root_client.get("/iam/policies?type=aws&q=TeamS3").content.decode()
    assert "No policies to display." in aws
    first = root_client.get("/iam/policies?size=10").content.decode()
    second = root_client.get("/iam/policies?size=10&page=2").content.decode()
    assert first != second and 'aria-current="page">2<' in second
    assert root_client.get("/iam/policies?page=9999&size=100&sort=-type").status_code == 200


def test_list_refreshes_only_the_table_for_htmx(root_client):
    response = root_client.get("/iam/policies?q=Admin", HTTP_HX_TARGET="policy-table", **HX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section class="container" id="policy-table"')
    assert "<html" not in body and "AdministratorAccess" in body


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_list_runs_a_constant_number_of_queries(root_client, root_ctx, django_assert_num_queries):
    make_policy(root_ctx, "p-first")
    root_client.get("/iam/policies")  # warm-up: session, caches
    everything, customer = _queries(root_client, "/iam/policies"), _queries(root_client, "/iam/policies?type=customer")
    for i in range(30):
        policy = make_policy(root_ctx, f"p{i}")
        identity_services.create_user(root_ctx, user_name=f"u{i}")
        services.attach_user_policy(root_ctx, user_name=f"u{i}", policy_arn=policy.arn)
    with django_assert_num_queries(everything):
        root_client.get("/iam/policies")
    with django_assert_num_queries(customer):
        page = root_client.get("/iam/policies?type=customer&size=50").content.decode()
    assert page.count("Permissions policy") == 30 and page.count(">Not used<") == 1


def test_list_delete_goes_to_the_confirmation_page(root_client, root_ctx):
    policy = make_policy(root_ctx)
    assert f'name="delete" value="{policy.arn}"' in root_client.get("/iam/policies?type=customer").content.decode()
    response = root_client.get("/iam/policies", {"delete": policy.arn})
    assert response.status_code == 302 and response.url == url(policy.arn, "/delete")
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert root_client.get("/iam/policies", {"delete": admin}).status_code == 404
    assert root_client.get("/iam/policies", {"delete": ""}).status_code == 404


# ---- create -----------------------------------------------------------------------------------------------------


def test_create_page_starts_with_the_console_starter_document(root_client):
    page = root_client.get("/iam/policies/create").content.decode()
    assert "&quot;Sid&quot;: &quot;Statement1&quot;" in page and 'hx-post="/iam/policies/validate"' in page
    assert 'name="editor_mode" value="visual"' in page and "Errors (2)" in page  # no actions, no resources
    json_tab = root_client.post(
        "/iam/policies/visual", {"visual_op": "mode:json", "policy_document": STARTER}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="input changed delay:400ms"' in json_tab and "&quot;Statement1&quot;" in json_tab


def test_findings_panel_shows_errors_with_their_location(root_client):
    panel = root_client.post("/iam/policies/validate", {"policy_document": TYPO}, **HX).content.decode()
    assert 'id="validation-findings"' in panel and "<html" not in panel
    assert "Errors (1)" in panel and "Security (0)" in panel and "General (0)" in panel and "Suggestions (0)" in panel
    assert "The action s3:GetObjekt does not exist. Did you mean s3:GetObject?" in panel and "Line 6, Col" in panel
    broken = root_client.post("/iam/policies/validate", {"policy_document": "{nope"}).content.decode()
    assert "Errors (1)" in broken and "Syntax errors in policy." in broken and "Line 1, Col" in broken


def test_findings_panel_tabs_pick_the_findings_shown(root_client):
    panel = root_client.post("/iam/policies/validate", {"policy_document": PASS_ROLE}).content.decode()
    assert "Security (1)" in panel and "Pass role with star in resource" in panel  # the only non-empty tab
    other = root_client.post("/iam/policies/validate", {"policy_document": PASS_ROLE, "findings_tab": "SUGGESTION"})
    assert b"Pass role with star in resource" not in other.content and b"No suggestions findings." in other.content
    oversize = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": f"S{i}", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::bucket-{i}/*"}
                for i in range(120)
            ],
        }
    )
    assert (
        b"Policy size exceeds identity policy quota"
        in root_client.post("/iam/policies/validate", {"policy_document": oversize}).content
    )


def test_next_is_refused_while_there_is_an_error(root_client):
    response = root_client.post("/iam/policies/create", {"policy_document": "{nope", "action": "next"})
    assert response.status_code == 400 and b'data-testid="document-error">Syntax errors in policy.<' in response.content
    response = root_client.post("/iam/policies/create", {"policy_document": TYPO, "action": "next"})
    assert response.status_code == 400 and b"s3:GetObjekt does not exist" in response.content
    assert b"Review and create" not in response.content.split(b"wizard-body")[1][:2000]
    principal = json.loads(GOOD)
    principal["Statement"][0]["Principal"] = "*"
    response = root_client.post("/iam/policies/create", {"policy_document": json.dumps(principal), "action": "next"})
    assert b"Policy document should not specify a principal." in response.content
    hx = root_client.post(
        "/iam/policies/create", {"policy_document": "{nope", "action": "next"}, HTTP_HX_TARGET="policy-wizard", **HX
    )
    assert hx.status_code == 200 and hx.content.decode().lstrip().startswith('<form id="policy-wizard"')
    # Skipping straight to "create" is refused the same way.
    assert (
        root_client.post(
            "/iam/policies/create", {"policy_document": TYPO, "action": "create", "policy_name": "Sneaky"}
        ).status_code
        == 400
    )
    assert not ManagedPolicy.objects.filter(name="Sneaky").exists()


def test_create_policy_from_the_review_step(root_client):
    review = root_client.post("/iam/policies/create", {"policy_document": GOOD, "action": "next"})
    body = review.content.decode()
    assert review.status_code == 200 and "Review and create" in body and "Amazon S3" in body
    assert 'data-testid="permissions-summary"' in body and "Limited: Read" in body
    created = root_client.post(
        "/iam/policies/create",
        {
            "policy_document": GOOD,
            "action": "create",
            "step": "2",
            "policy_name": "ReadReports",
            "description": "Read the reports",
            "tag_key": ["team"],
            "tag_value": ["analytics"],
        },
    )
    assert created.status_code == 302 and created.url == url(arn_of("ReadReports"))
    policy = ManagedPolicy.objects.get(arn=arn_of("ReadReports"))
    assert policy.description == "Read the reports" and policy.tags == [{"Key": "team", "Value": "analytics"}]
    assert list(policy.versions.values_list("version_id", "is_default")) == [("v1", True)]
    detail = root_client.get(created.url).content.decode()
    assert "Policy ReadReports created." in detail and "Customer managed" in detail and arn_of("ReadReports") in detail


def test_create_shows_name_and_tag_errors_inline(root_client, root_ctx):
    make_policy(root_ctx, "Taken")
    check = root_client.get("/iam/policies/check_name", {"policy_name": "bad name!"}, **HX).content.decode()
    assert 'id="policy-name-error"' in check and "failed to satisfy constraint" in check and "[\\w+=,.@-]+" in check
    assert (
        "A policy called taken already exists."
        in root_client.get("/iam/policies/check_name", {"policy_name": "taken"}).content.decode()
    )
    assert "></span>" in root_client.get("/iam/policies/check_name", {"policy_name": "Fine"}).content.decode()
    long = root_client.post(
        "/iam/policies/create", {"policy_document": GOOD, "action": "create", "step": "2", "policy_name": "x" * 129}
    )
    assert long.status_code == 400 and b"Member must have length less than or equal to 128" in long.content
    dup = root_client.post(
        "/iam/policies/create", {"policy_document": GOOD, "action": "create", "step": "2", "policy_name": "TAKEN"}
    )
    assert b"A policy called TAKEN already exists. Duplicate names are not allowed." in dup.content
    tags = root_client.post(
        "/iam/policies/create",
        {
            "policy_document": GOOD,
            "action": "create",
            "step": "2",
            "policy_name": "Tagged",
            "tag_key": ["a", "A"],
            "tag_value": ["1", "2"],
        },
    )
    assert b"Duplicate tag keys found." in tags.content
    too_many = root_client.post(
        "/iam/policies/create",
        {
            "policy_document": GOOD,
            "action": "create",
            "step": "2",
            "policy_name": "Tagged",
            "tag_key": [f"k{i}" for i in range(51)],
            "tag_value": ["v"] * 51,
        },
    )
    assert too_many.status_code == 400 and b"less than or equal to 50" in too_many.content
    assert not ManagedPolicy.objects.filter(name="Tagged").exists()
    add = root_client.post("/iam/policies/create", {"policy_document": GOOD, "action": "add_tag", "step": "2"})
    assert add.content.count(b'name="tag_key"') == 1 and b"You can add up to 49 more tags." in add.content
    back = root_client.post(
        "/iam/policies/create",
        {
            "policy_document": GOOD,
            "action": "previous",
            "step": "2",
            "policy_name": "Kept",
            "tag_key": ["team"],
            "tag_value": ["x"],
        },
    )
    assert b'type="hidden" name="policy_name" value="Kept"' in back.content and b'value="team"' in back.content


# ---- detail -----------------------------------------------------------------------------------------------------


def test_aws_managed_policy_detail_shows_its_summary_and_document(root_client):
    page = root_client.get(url("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")).content.decode()
    assert "AWS managed - job function" in page and 'data-testid="permissions-summary"' in page
    assert "Show remaining" in page and 'href="/iam/policies/arn' not in page.split("page-header")[1][:400]  # no Edit
    everything = root_client.get(url("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "?tab=permissions&all=1"))
    assert b"Show remaining" not in everything.content and b"Uncategorized services" in everything.content
    admin = root_client.get(url("arn:aws:iam::aws:policy/AdministratorAccess", "?tab=permissions&view=json"))
    assert b"&quot;Action&quot;: &quot;*&quot;" in admin.content and b'data-testid="policy-json"' in admin.content
    read_only = root_client.get(url("arn:aws:iam::aws:policy/ReadOnlyAccess", "?tab=permissions&view=json"))
    doc = ManagedPolicy.objects.get(arn="arn:aws:iam::aws:policy/ReadOnlyAccess").versions.get(is_default=True).document
    assert len(doc) > 6144 and read_only.content.count(b"&quot;") >= doc.count('"')  # the whole document
    versions = root_client.get(url("arn:aws:iam::aws:policy/AdministratorAccess", "?tab=versions")).content.decode()
    assert "(Default)" in versions and "Set as default" not in versions


def test_service_summary_lists_the_actions(root_client, root_ctx):
    policy = make_policy(root_ctx)
    page = root_client.get(
        url(policy.arn, "?tab=permissions&service=s3&effect=Allow"), HTTP_HX_TARGET="policy-tab", **HX
    ).content.decode()
    assert page.lstrip().startswith('<div id="policy-tab"') and 'data-testid="service-summary"' in page
    assert "GetObject" in page and "Read (1 of" in page and "Back to summary" in page
    assert root_client.get(url(policy.arn, "?tab=permissions&service=nope&effect=Deny")).status_code == 200


def test_tabs_render_and_last_accessed_is_a_placeholder(root_client, root_ctx):
    policy = services.create_policy(
        root_ctx, policy_name="Tagged", policy_document=GOOD, tags=[identity_services.Tag("env", "prod")]
    )
    assert (
        b"Last accessed information appears once calls have been recorded."
        in root_client.get(url(policy.arn, "?tab=last_accessed")).content
    )
    tags = root_client.get(url(policy.arn, "?tab=tags")).content.decode()
    assert "env" in tags and "prod" in tags
    assert root_client.get(url(policy.arn, "?tab=bogus")).status_code == 200


def test_entities_tab_attach_and_detach(root_client, root_ctx):
    policy = make_policy(root_ctx)
    identity_services.create_user(root_ctx, user_name="alice")
    identity_services.create_group(root_ctx, group_name="Analysts")
    role_services.create_role(root_ctx, role_name="Worker", assume_role_policy_document=TRUST)
    picker = root_client.get(url(policy.arn, "/attach")).content.decode()
    assert "alice" in picker and "Analysts" in picker and "Worker" in picker
    filtered = root_client.post(
        url(policy.arn, "/attach"),
        {"q": "ali", "entities": ["group:Analysts"]},
        HTTP_HX_TARGET="attach-candidates",
        **HX,
    ).content.decode()
    assert "alice" in filtered and "Worker" not in filtered and 'value="group:Analysts"' in filtered  # kept
    nothing = root_client.post(url(policy.arn, "/attach"), {"action": "attach"})
    assert nothing.status_code == 400 and b"Select at least one user, group or role." in nothing.content
    done = root_client.post(
        url(policy.arn, "/attach"), {"action": "attach", "entities": ["user:alice", "group:Analysts", "role:Worker"]}
    )
    assert done.status_code == 302 and done.url == url(policy.arn, "?tab=entities")
    tab = root_client.get(done.url).content.decode()
    assert 'data-testid="entity-count">(3)' in tab and "Permissions policy" in tab
    assert "alice" not in root_client.get(url(policy.arn, "/attach")).content.decode().split("attach-candidates")[2]
    only_roles = root_client.get(url(policy.arn, "?tab=entities&entity_type=role")).content.decode()
    assert "Worker" in only_roles and ">alice<" not in only_roles
    root_client.post(url(policy.arn, "/detach"), {"entities": ["user:alice", "role:Worker"]})
    entities = services.list_entities_for_policy(root_ctx, policy_arn=policy.arn)
    assert [g.name for g in entities.groups] == ["Analysts"] and not entities.users and not entities.roles
    # A missing entity fails the whole batch, with the AWS message.
    root_client.post(url(policy.arn, "/attach"), {"action": "attach", "entities": ["user:alice", "user:ghost"]})
    assert not UserPolicyAttachment.objects.filter(policy=policy).exists()
    assert (
        b"The user with name ghost cannot be found."
        in root_client.post(url(policy.arn, "/attach"), {"action": "attach", "entities": ["user:ghost"]}).content
    )


# ---- edit and versions ------------------------------------------------------------------------------------------


def test_edit_creates_a_new_default_version(root_client, root_ctx):
    policy = make_policy(root_ctx)
    page = root_client.get(url(policy.arn, "/edit")).content.decode()
    assert "s3:GetObject" in page and "Policy validation findings" in page
    refused = root_client.post(url(policy.arn, "/edit"), {"action": "next", "policy_document": TYPO})
    assert refused.status_code == 400 and b"s3:GetObjekt does not exist" in refused.content
    review = root_client.post(url(policy.arn, "/edit"), {"action": "next", "policy_document": GOOD})
    assert b"Review and save" in review.content and b"version limit" not in review.content
    saved = root_client.post(
        url(policy.arn, "/edit"), {"action": "save", "step": "2", "policy_document": GOOD.replace("reports", "team")}
    )
    assert saved.status_code == 302 and saved.url == url(policy.arn, "?tab=versions")
    policy.refresh_from_db()
    assert policy.default_version_id == "v2" and "team" in policy.versions.get(version_id="v2").document
    versions = root_client.get(saved.url).content.decode()
    assert "v2 (Default)" in versions and ">v1<" in versions and "Policy ReadReports updated." in versions


def test_set_default_view_and_delete_versions(root_client, root_ctx):
    policy = make_policy(root_ctx)
    services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=PASS_ROLE, set_as_default=True)
    shown = root_client.get(url(policy.arn, "?tab=versions&version=v2")).content.decode()
    assert 'data-testid="version-json"' in shown and "iam:PassRole" in shown
    missing = root_client.get(url(policy.arn, "?tab=versions&version=v9")).content.decode()
    assert f"Policy {policy.arn} version v9 does not exist or is not attachable." in missing
    root_client.post(url(policy.arn, "/versions"), {"action": "set_default", "version_id": "v1"})
    policy.refresh_from_db()
    assert policy.default_version_id == "v1"
    refused = root_client.post(url(policy.arn, "/versions"), {"action": "delete", "version_id": "v1"}, follow=True)
    assert b"Cannot delete the default version of a policy." in refused.content
    root_client.post(url(policy.arn, "/versions"), {"action": "delete", "version_id": "v2"})
    assert list(policy.versions.values_list("version_id", flat=True)) == ["v1"]


def test_sixth_version_replaces_the_oldest_non_default_one(root_client, root_ctx):
    policy = make_policy(root_ctx)
    for _ in range(3):
        services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=GOOD)
    services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=GOOD, set_as_default=True)
    services.set_default_policy_version(root_ctx, policy_arn=policy.arn, version_id="v1")  # v1 is the default
    review = root_client.post(url(policy.arn, "/edit"), {"action": "next", "policy_document": PASS_ROLE})
    body = review.content.decode()
    assert 'data-testid="version-limit"' in body and "<strong>v2</strong>" in body and "Delete v2 and save" in body
    saved = root_client.post(url(policy.arn, "/edit"), {"action": "save", "step": "2", "policy_document": PASS_ROLE})
    assert saved.status_code == 302
    versions = dict(PolicyVersion.objects.filter(policy=policy).values_list("version_id", "is_default"))
    assert versions == {"v1": False, "v3": False, "v4": False, "v5": False, "v6": True}


def test_sixth_version_is_all_or_nothing(root_client, root_ctx, monkeypatch):
    policy = make_policy(root_ctx)
    for _ in range(4):
        services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=GOOD)

    def refuse(*args, **kwargs):
        raise LimitExceeded("Cannot exceed quota for PolicySize: 6144")

    monkeypatch.setattr(services, "create_policy_version", refuse)
    response = root_client.post(url(policy.arn, "/edit"), {"action": "save", "policy_document": GOOD})
    assert response.status_code == 400 and b"Cannot exceed quota for PolicySize: 6144" in response.content
    assert policy.versions.count() == 5 and policy.versions.filter(version_id="v2").exists()


# ---- delete -----------------------------------------------------------------------------------------------------


def test_delete_needs_the_name_and_detaches_everything_first(root_client, root_ctx):
    policy = make_policy(root_ctx)
    services.create_policy_version(root_ctx, policy_arn=policy.arn, policy_document=GOOD, set_as_default=True)
    identity_services.create_user(root_ctx, user_name="reader")
    identity_services.create_user(root_ctx, user_name="bounded")
    identity_services.create_group(root_ctx, group_name="Readers")
    role_services.create_role(root_ctx, role_name="Worker", assume_role_policy_document=TRUST)
    services.attach_user_policy(root_ctx, user_name="reader", policy_arn=policy.arn)
    services.attach_group_policy(root_ctx, group_name="Readers", policy_arn=policy.arn)
    services.attach_role_policy(root_ctx, role_name="Worker", policy_arn=policy.arn)
    identity_services.put_user_permissions_boundary(root_ctx, user_name="bounded", permissions_boundary=policy.arn)
    page = root_client.get(url(policy.arn, "/delete")).content.decode()
    assert 'data-testid="delete-entities"' in page and "reader" in page and "Worker" in page
    wrong = root_client.post(url(policy.arn, "/delete"), {"confirm": "readreports"})
    assert wrong.status_code == 400
    assert b"To confirm deletion, enter ReadReports in the text input field." in wrong.content
    assert ManagedPolicy.objects.filter(pk=policy.pk).exists()
    done = root_client.post(url(policy.arn, "/delete"), {"confirm": "ReadReports"})
    assert done.status_code == 302 and done.url == "/iam/policies"
    assert not ManagedPolicy.objects.filter(pk=policy.pk).exists()
    assert IamUser.objects.get(name="bounded").permissions_boundary is None
    assert b"Policy ReadReports deleted." in root_client.get("/iam/policies").content


def test_aws_managed_policies_cannot_be_edited_or_deleted(root_client):
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    for suffix in ("/edit", "/delete"):
        assert root_client.get(url(admin, suffix)).status_code == 404
    assert root_client.post(url(admin, "/delete"), {"confirm": "AdministratorAccess"}).status_code == 404
    assert root_client.post(url(admin, "/versions"), {"action": "delete", "version_id": "v1"}).status_code == 404
    assert ManagedPolicy.objects.filter(arn=admin).exists()


# ---- isolation and bad input ------------------------------------------------------------------------------------

GET_SUFFIXES = ["", "?tab=versions", "?tab=entities", "?tab=permissions&view=json", "/edit", "/delete", "/attach"]
POST_CALLS = [
    ("/edit", {"action": "save", "policy_document": GOOD}),
    ("/delete", {"confirm": "Private"}),
    ("/versions", {"action": "set_default", "version_id": "v1"}),
    ("/versions", {"action": "delete", "version_id": "v1"}),
    ("/attach", {"action": "attach", "entities": ["user:intruder"]}),
    ("/detach", {"entities": ["user:owner"]}),
]


@pytest.mark.parametrize("suffix", GET_SUFFIXES)
def test_another_accounts_policy_is_a_404_on_every_page(root_ctx, other_root_client, suffix):
    policy = make_policy(root_ctx, "Private")
    response = other_root_client.get(url(policy.arn, suffix))
    assert response.status_code == 404 and b"s3:GetObject" not in response.content


@pytest.mark.parametrize(("suffix", "data"), POST_CALLS)
def test_another_account_cannot_change_a_policy(root_ctx, other_root_ctx, other_root_client, suffix, data):
    policy = make_policy(root_ctx, "Private")
    identity_services.create_user(root_ctx, user_name="owner")
    services.attach_user_policy(root_ctx, user_name="owner", policy_arn=policy.arn)
    identity_services.create_user(other_root_ctx, user_name="intruder")
    assert other_root_client.post(url(policy.arn, suffix), data).status_code == 404
    policy.refresh_from_db()
    assert policy.versions.count() == 1 and UserPolicyAttachment.objects.filter(policy=policy).count() == 1
    assert not ManagedPolicy.objects.filter(account_id=other_root_ctx.account_id).exists()


def test_bad_input_is_a_4xx_never_a_500(root_client, root_ctx):
    assert root_client.get(url(arn_of("Nope"))).status_code == 404
    assert root_client.get(url(arn_of("Nope"), "/edit")).status_code == 404
    assert root_client.get("/iam/policies/not-an-arn").status_code == 404
    assert root_client.get("/iam/policies/" + quote("arn:aws:iam::1:policy/" + "x" * 3000, safe="")).status_code == 404
    assert root_client.get("/iam/policies?page=abc&size=-1&sort=bogus&type=nope").status_code == 200
    assert root_client.get("/iam/policies?q=" + "%" * 500).status_code == 200
    assert root_client.get("/iam/policies?q=a%00b").status_code == 400
    huge = "[" * 100_000
    assert root_client.post("/iam/policies/validate", {"policy_document": huge}).status_code == 200
    assert root_client.post("/iam/policies/create", {"policy_document": huge, "action": "next"}).status_code == 400
    create = "/iam/policies/create"
    assert root_client.post(create, {"policy_document": "x" * 200_000, "action": "next"}).status_code == 400
    assert root_client.post(create, {"policy_document": '{"a": "\x00"}', "action": "next"}).status_code == 400
    assert root_client.post(create, {"policy_document": GOOD, "action": "bogus", "step": "9"}).status_code == 200
    policy = make_policy(root_ctx)
    assert root_client.post(url(policy.arn, "/versions"), {"version_id": "v" * 40}).status_code == 302
    bogus = {"action": "attach", "entities": ["nope", "user:"]}
    assert root_client.post(url(policy.arn, "/attach"), bogus).status_code == 400
    assert root_client.post(url(policy.arn, "/edit"), {"action": "save", "policy_document": "[]"}).status_code == 400
    assert root_client.get(url(policy.arn, "?tab=versions&version=" + "v" * 300)).status_code == 200
    assert root_client.post("/iam/policies/validate").status_code == 200
    assert root_client.get("/iam/policies/validate").status_code == 405


def test_a_policy_named_like_an_action_page_opens_its_detail(root_client, root_ctx):
    policy = make_policy(root_ctx, "edit")
    page = root_client.get(url(policy.arn))
    assert page.status_code == 200
    assert b'data-testid="policy-arn">arn:aws:iam::111122223333:policy/edit<' in page.content
    assert root_client.get(url(policy.arn, "/edit")).status_code == 200


def test_signed_out_visitors_go_to_sign_in(client, db):
    response = client.get("/iam/policies")
    assert response.status_code == 302 and response.url.startswith("/signin")
