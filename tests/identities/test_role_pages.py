"""The console's Roles pages over HTTP: list, Create role wizard for every trusted entity type, detail tabs and
the actions reachable from them, delete; cross-account isolation and bad input."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from identities import roles
from identities.models import InstanceProfile, Role
from identities.services import Tag
from policies import services as policy_services
from policies.models import InlinePolicy, RolePolicyAttachment

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
)
ACCOUNT = "111122223333"


def trust(principal: dict, **extra) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}],
        }
    )


EC2_TRUST = trust({"Service": "ec2.amazonaws.com"})


def text(response) -> str:
    return html.unescape(response.content.decode())


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def listed_roles(response) -> list[str]:
    return re.findall(r'<td><a href="/iam/roles/([^"/?]+)">', response.content.decode())


def make_role(ctx, name: str, document: str = EC2_TRUST, *, policies=(), inline: bool = False) -> Role:
    role = roles.create_role(ctx, role_name=name, assume_role_policy_document=document)
    for arn in policies:
        policy_services.attach_role_policy(ctx, role_name=name, policy_arn=arn)
    if inline:
        policy_services.put_role_policy(ctx, role_name=name, policy_name="inline1", policy_document=DOC)
    return role


def statement(role_name: str) -> dict:
    return json.loads(Role.objects.get(name=role_name).assume_role_policy)["Statement"][0]


def create(client, step1: dict, *, name: str = "r1", **extra):
    """Walk the wizard: Next from Step 1 and Step 2, then Create role (the form carries the state in hidden fields)."""
    data = {"step": "1", "action": "next", **step1}
    first = client.post("/iam/roles/create", data)
    if first.status_code != 200 or 'name="step" value="2"' not in first.content.decode():
        return first
    data.update({"step": "2", "action": "next", **extra})
    client.post("/iam/roles/create", data)
    data.update({"step": "3", "action": "create", "role_name": name})
    return client.post("/iam/roles/create", data)


# ---- list ---------------------------------------------------------------------------------------------------------


def test_role_list_shows_trusted_entities(root_client, root_ctx, other_root_ctx):
    make_role(root_ctx, "ec2-app")
    make_role(root_ctx, "cross", trust({"AWS": "arn:aws:iam::123456789012:root"}))
    make_role(
        root_ctx,
        "google",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": "accounts.google.com"},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                    }
                ],
            }
        ),
    )
    make_role(other_root_ctx, "theirs")

    response = root_client.get("/iam/roles")

    assert response.status_code == 200
    page = plain(response)
    assert "Roles (3)" in page
    assert listed_roles(response) == ["cross", "ec2-app", "google"]
    assert "AWS Service: ec2" in page and "Account: 123456789012" in page
    assert "Identity Provider: accounts.google.com" in page
    assert "theirs" not in page


def test_role_list_filter_sort_pagination_and_partial(root_client, root_ctx):
    for i in range(12):
        make_role(root_ctx, f"app{i:02d}")

    assert listed_roles(root_client.get("/iam/roles?q=APP1")) == ["app10", "app11"]
    assert listed_roles(root_client.get("/iam/roles?sort=-name"))[0] == "app11"
    assert listed_roles(root_client.get("/iam/roles?size=10&page=2")) == ["app10", "app11"]
    assert root_client.get("/iam/roles?page=x&size=y&sort=nope").status_code == 200
    partial = text(root_client.get("/iam/roles?q=app", headers={"HX-Request": "true", "HX-Target": "role-table"}))
    assert partial.lstrip().startswith('<section class="container" id="role-table">') and "<html" not in partial


def test_role_list_runs_a_constant_number_of_queries(root_client, root_ctx, django_assert_num_queries):
    with CaptureQueriesContext(connection) as empty:
        assert root_client.get("/iam/roles").status_code == 200
    for i in range(20):
        make_role(root_ctx, f"r{i:02d}", policies=[READ_ONLY] if i % 2 else [], inline=i % 3 == 0)

    with django_assert_num_queries(len(empty)):
        response = root_client.get("/iam/roles?size=25")
    assert len(listed_roles(response)) == 20


def test_delete_selected_roles_with_confirm_page(root_client, root_ctx):
    make_role(root_ctx, "one", policies=[READ_ONLY])
    make_role(root_ctx, "two", inline=True)
    make_role(root_ctx, "keep")

    confirm = root_client.get("/iam/roles/delete_selected?roles=one&roles=two&roles=nope")
    assert confirm.status_code == 200 and "Delete 2 roles?" in plain(confirm)

    wrong = root_client.post("/iam/roles/delete_selected", {"roles": ["one", "two"], "confirm": "one"})
    assert wrong.status_code == 400 and "To confirm deletion, enter delete in the text input field." in text(wrong)
    assert Role.objects.count() == 3

    done = root_client.post("/iam/roles/delete_selected", {"roles": ["one", "two"], "confirm": "delete"})
    assert done.status_code == 302 and done["Location"] == "/iam/roles"
    assert list(Role.objects.values_list("name", flat=True)) == ["keep"]
    assert not RolePolicyAttachment.objects.exists() and not InlinePolicy.objects.exists()


# ---- create role wizard -------------------------------------------------------------------------------------------


def test_wizard_opens_on_the_trusted_entity_step(root_client):
    page = plain(root_client.get("/iam/roles/create"))
    for label in (
        "AWS service",
        "AWS account",
        "Web identity",
        "SAML 2.0 federation",
        "Custom trust policy",
        "Select trusted entity",
        "Add permissions",
        "Name, review, and create",
    ):
        assert label in page


def test_create_role_returns_to_the_list_with_a_flash_and_view_role(root_client):
    """AWS: after Create role the Roles list shows a green "Role X created." flash with a "View role" button."""
    response = create(root_client, {"entity_type": "service", "service": "ec2", "use_case": "ec2"}, name="web-server")
    assert response.status_code == 302 and response["Location"] == "/iam/roles"

    page = root_client.get("/iam/roles").content.decode()
    flash = re.search(r'<div class="flash flash-success".*?</div>', page, re.S)
    assert flash and "Role web-server created." in flash.group(0)
    assert '<a class="btn btn-inverse flash-action" href="/iam/roles/web-server">View role</a>' in flash.group(0)
    assert "Role web-server created." not in root_client.get("/iam/roles").content.decode()  # shown once


def test_create_role_from_htmx_redirects_the_page_to_the_list(root_client):
    data = {"entity_type": "service", "service": "ec2", "use_case": "ec2", "step": "3", "action": "create"}
    response = root_client.post("/iam/roles/create", {**data, "role_name": "hx"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"] == "/iam/roles"
    assert "View role" in root_client.get("/iam/roles").content.decode()


def test_wizard_ec2_use_case_creates_role_and_instance_profile(root_client):
    response = create(
        root_client,
        {"entity_type": "service", "service": "ec2", "use_case": "ec2"},
        name="web-server",
        policies=[S3_READ],
        description="Web tier",
    )

    assert response.status_code == 302 and response["Location"] == "/iam/roles"
    assert statement("web-server") == {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    role = Role.objects.get(name="web-server")
    profile = InstanceProfile.objects.get()
    assert profile.name == "web-server" and list(profile.roles.all()) == [role]
    assert list(role.policy_attachments.values_list("policy__arn", flat=True)) == [S3_READ]

    detail = text(root_client.get("/iam/roles/web-server"))
    assert f"arn:aws:iam::{ACCOUNT}:instance-profile/web-server" in detail


def test_wizard_review_step_shows_trust_policy_and_permissions(root_client):
    data = {
        "step": "2",
        "action": "next",
        "entity_type": "service",
        "service": "lambda",
        "use_case": "lambda",
        "policies": [READ_ONLY],
        "role_name": "",
    }
    review = root_client.post("/iam/roles/create", data)
    body = text(review)
    assert 'name="step" value="3"' in body
    assert '"Service": "lambda.amazonaws.com"' in body and "ReadOnlyAccess" in body
    assert "Create role" in body


def test_wizard_ssm_use_case_preselects_its_policy(root_client):
    step2 = root_client.post(
        "/iam/roles/create",
        {"step": "1", "action": "next", "entity_type": "service", "service": "ec2", "use_case": "ec2-ssm"},
    )
    assert re.search(r'value="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"[^>]*checked', text(step2))


def test_wizard_lambda_use_case_has_no_instance_profile(root_client):
    response = create(root_client, {"entity_type": "service", "service": "lambda", "use_case": "lambda"}, name="fn")
    assert response.status_code == 302
    assert statement("fn")["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert not InstanceProfile.objects.exists()


def test_wizard_another_account_with_mfa(root_client):
    response = create(
        root_client,
        {"entity_type": "account", "account_choice": "another", "account_id": "123456789012", "require_mfa": "on"},
        name="x-acct",
    )
    assert response.status_code == 302
    assert statement("x-acct") == {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }


def test_wizard_this_account_with_external_id(root_client):
    response = create(
        root_client,
        {"entity_type": "account", "account_choice": "this", "require_external_id": "on", "external_id": "Partner-42"},
        name="partner",
    )
    assert response.status_code == 302
    s = statement("partner")
    assert s["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert s["Condition"] == {"StringEquals": {"sts:ExternalId": "Partner-42"}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"account_choice": "another", "account_id": "12345"}, "Account ID must be 12 digits."),
        ({"account_choice": "another", "account_id": ""}, "Enter an account ID."),
        ({"require_external_id": "on", "external_id": ""}, "Enter an external ID."),
    ],
)
def test_wizard_account_fields_are_checked(root_client, fields, message):
    response = root_client.post(
        "/iam/roles/create", {"step": "1", "action": "next", "entity_type": "account", **fields}
    )
    assert response.status_code == 400 and message in text(response)
    assert 'name="step" value="1"' in text(response)


def test_wizard_web_identity_google(root_client):
    response = create(
        root_client,
        {"entity_type": "web", "web_provider": "google", "web_audience": "client-1.apps.googleusercontent.com"},
        name="web",
    )
    assert response.status_code == 302
    assert statement("web") == {
        "Effect": "Allow",
        "Principal": {"Federated": "accounts.google.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"accounts.google.com:aud": "client-1.apps.googleusercontent.com"}},
    }


def test_wizard_web_identity_oidc_and_cognito(root_client):
    assert (
        create(
            root_client,
            {
                "entity_type": "web",
                "web_provider": "oidc",
                "web_audience": "sts.amazonaws.com",
                "oidc_provider": "https://token.actions.githubusercontent.com",
            },
            name="gha",
        ).status_code
        == 302
    )
    s = statement("gha")
    assert s["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"}
    assert s["Condition"]["StringEquals"] == {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}

    assert (
        create(
            root_client,
            {"entity_type": "web", "web_provider": "cognito", "web_audience": "us-east-1:abcd"},
            name="pool",
        ).status_code
        == 302
    )
    assert statement("pool")["Condition"]["StringEquals"] == {"cognito-identity.amazonaws.com:aud": "us-east-1:abcd"}

    missing = root_client.post(
        "/iam/roles/create", {"step": "1", "action": "next", "entity_type": "web", "web_provider": "facebook"}
    )
    assert missing.status_code == 400 and "Enter the application id." in text(missing)


def test_wizard_saml_programmatic_and_console(root_client):
    provider = f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"
    assert (
        create(
            root_client,
            {"entity_type": "saml", "saml_provider": provider, "saml_access": "console"},
            name="saml-console",
        ).status_code
        == 302
    )
    s = statement("saml-console")
    assert s["Principal"] == {"Federated": provider} and s["Action"] == "sts:AssumeRoleWithSAML"
    assert s["Condition"] == {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}

    assert (
        create(
            root_client,
            {"entity_type": "saml", "saml_provider": provider, "saml_access": "programmatic"},
            name="saml-api",
        ).status_code
        == 302
    )
    assert "Condition" not in statement("saml-api")

    bad = root_client.post(
        "/iam/roles/create", {"step": "1", "action": "next", "entity_type": "saml", "saml_provider": "Okta"}
    )
    assert bad.status_code == 400 and "The SAML provider ARN must look like" in text(bad)


def test_wizard_custom_trust_policy(root_client):
    document = trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    assert create(root_client, {"entity_type": "custom", "custom_policy": document}, name="custom").status_code == 302
    assert Role.objects.get(name="custom").assume_role_policy == document


def test_wizard_custom_starter_is_prefilled_and_refused_until_completed(root_client):
    page = root_client.post("/iam/roles/create", {"step": "1", "action": "refresh", "entity_type": "custom"})
    body = text(page)
    assert '"Sid": "Statement1"' in body and '"Principal": {}' in body

    starter = re.search(r'name="custom_policy"[^>]*>(.*?)</textarea>', body, re.S).group(1)
    response = root_client.post(
        "/iam/roles/create", {"step": "1", "action": "next", "entity_type": "custom", "custom_policy": starter}
    )
    assert response.status_code == 400 and 'data-testid="trust-error"' in text(response)
    assert not Role.objects.exists()


def test_wizard_custom_with_prohibited_resource_shows_findings_and_creates_nothing(root_client):
    document = trust({"Service": "ec2.amazonaws.com"}, Resource="*")

    step1 = root_client.post(
        "/iam/roles/create", {"step": "1", "action": "next", "entity_type": "custom", "custom_policy": document}
    )
    assert step1.status_code == 400
    body = text(step1)
    assert "Has prohibited field Resource." in body and 'data-testid="validation-findings"' in body
    assert 'name="step" value="1"' in body

    # Skipping ahead to Create role with the hidden fields doesn't get round the check.
    forged = root_client.post(
        "/iam/roles/create",
        {"step": "3", "action": "create", "entity_type": "custom", "custom_policy": document, "role_name": "sneaky"},
    )
    assert forged.status_code == 400 and "Has prohibited field Resource." in text(forged)
    assert not Role.objects.exists()


def test_wizard_live_validation_of_a_custom_policy(root_client):
    response = root_client.post(
        "/iam/roles/validate_trust",
        {"custom_policy": trust({"Service": "ec2.amazonaws.com"}, Resource="*")},
        headers={"HX-Request": "true", "HX-Target": "validation-findings"},
    )
    body = text(response)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="validation-findings"')
    assert "Has prohibited field Resource." in body
    assert root_client.get("/iam/roles/validate_trust").status_code == 405


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Role name is required."),
        ("bad name!", "Member must satisfy regular expression pattern: [\\w+=,.@-]+"),
        ("r" * 65, "Member must have length less than or equal to 64"),
        ("EXISTING", "Role with name EXISTING already exists."),
    ],
)
def test_wizard_refuses_bad_role_names(root_client, root_ctx, name, message):
    make_role(root_ctx, "existing")
    response = root_client.post(
        "/iam/roles/create",
        {
            "step": "3",
            "action": "create",
            "entity_type": "service",
            "service": "ec2",
            "use_case": "ec2",
            "role_name": name,
        },
    )
    assert response.status_code == 400 and message in text(response)
    assert Role.objects.count() == 1 and not InstanceProfile.objects.exists()


def test_wizard_tags_boundary_and_all_or_nothing(root_client):
    response = create(
        root_client,
        {"entity_type": "service", "service": "lambda", "use_case": "lambda"},
        name="tagged",
        use_boundary="on",
        boundary=READ_ONLY,
        tag_key=["team"],
        tag_value=["blue"],
    )
    assert response.status_code == 302
    role = Role.objects.get(name="tagged")
    assert role.permissions_boundary.arn == READ_ONLY and role.tags == [{"Key": "team", "Value": "blue"}]

    dup = root_client.post(
        "/iam/roles/create",
        {
            "step": "3",
            "action": "create",
            "entity_type": "service",
            "service": "lambda",
            "use_case": "lambda",
            "role_name": "dup",
            "tag_key": ["a", "A"],
            "tag_value": ["1", "2"],
        },
    )
    assert dup.status_code == 400 and "Duplicate tag keys found." in text(dup)
    bad_policy = root_client.post(
        "/iam/roles/create",
        {
            "step": "3",
            "action": "create",
            "entity_type": "service",
            "service": "ec2",
            "use_case": "ec2",
            "role_name": "half",
            "policies": ["arn:aws:iam::aws:policy/NoSuchPolicy"],
        },
    )
    assert bad_policy.status_code in (400, 404) and "NoSuchPolicy" in text(bad_policy)
    assert not Role.objects.filter(name__in=["dup", "half"]).exists() and not InstanceProfile.objects.exists()


def test_wizard_survives_garbage(root_client):
    for data in (
        {"step": "x", "action": "next"},
        {"step": "9", "action": "goto:7"},
        {"entity_type": "nope", "service": "nope", "use_case": "nope", "web_provider": "x", "action": "next"},
        {"action": "remove_tag:99"},
        {"action": "filter", "policy_query": "S3", "step": "2"},
    ):
        assert root_client.post("/iam/roles/create", data).status_code in (200, 400)


# ---- detail -------------------------------------------------------------------------------------------------------


def test_role_detail_summary_and_tabs(root_client, root_ctx):
    make_role(root_ctx, "app", policies=[READ_ONLY], inline=True)
    roles.tag_role(root_ctx, role_name="app", tags=[Tag("env", "prod")])

    page = text(root_client.get("/iam/roles/APP"))  # names are case-insensitive
    assert f"arn:aws:iam::{ACCOUNT}:role/app" in page
    assert "1 hour" in page
    assert f"/switchrole?account={ACCOUNT}&roleName=app" in page
    assert "ReadOnlyAccess" in page and "inline1" in page
    trust_tab = text(root_client.get("/iam/roles/app?tab=trust"))
    assert '"Service": "ec2.amazonaws.com"' in trust_tab and "Edit trust policy" in trust_tab
    assert "prod" in text(root_client.get("/iam/roles/app?tab=tags"))
    assert root_client.get("/iam/roles/app?tab=last_accessed").status_code == 200
    revoke = text(root_client.get("/iam/roles/app?tab=revoke_sessions"))
    assert "I acknowledge that I am revoking all active sessions for this role." in revoke
    assert root_client.get("/iam/roles/app?tab=bogus").status_code == 200

    partial = text(root_client.get("/iam/roles/app?tab=trust", headers={"HX-Request": "true", "HX-Target": "role-tab"}))
    assert partial.lstrip().startswith('<div id="role-tab"') and "<html" not in partial


def test_role_detail_runs_a_constant_number_of_queries(root_client, root_ctx):
    make_role(root_ctx, "small", policies=[READ_ONLY], inline=True)
    make_role(root_ctx, "big", policies=[READ_ONLY, S3_READ], inline=True)
    policy_services.put_role_policy(root_ctx, role_name="big", policy_name="inline2", policy_document=DOC)
    for tab in ("permissions", "trust", "tags", "revoke_sessions"):
        counts = []
        for name in ("small", "big"):
            with CaptureQueriesContext(connection) as captured:
                assert root_client.get(f"/iam/roles/{name}?tab={tab}").status_code == 200
            counts.append(len(captured))
        assert counts[0] == counts[1], tab


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (
            "3599",
            "Value '3599' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater "
            "than or equal to 3600",
        ),
        (
            "43201",
            "Value '43201' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less "
            "than or equal to 43200",
        ),
        ("ten", "Enter the maximum session duration as a whole number of seconds"),
    ],
)
def test_max_session_duration_bounds(root_client, root_ctx, seconds, message):
    make_role(root_ctx, "app")
    response = root_client.post("/iam/roles/app/edit", {"description": "x", "duration": "custom", "custom": seconds})
    assert response.status_code == 400 and message in text(response)
    role = Role.objects.get(name="app")
    assert role.max_session_duration == 3600 and role.description == ""


def test_edit_role_description_and_duration(root_client, root_ctx):
    make_role(root_ctx, "app")
    page = text(root_client.get("/iam/roles/app/edit"))
    assert "12 hours" in page and "Custom duration" in page

    assert (
        root_client.post("/iam/roles/app/edit", {"description": "Batch jobs", "duration": "28800"}).status_code == 302
    )
    role = Role.objects.get(name="app")
    assert (role.description, role.max_session_duration) == ("Batch jobs", 28800)
    assert "8 hours" in text(root_client.get("/iam/roles/app"))

    assert root_client.post("/iam/roles/app/edit", {"duration": "custom", "custom": "43200"}).status_code == 302
    assert Role.objects.get(name="app").max_session_duration == 43200


def test_edit_trust_policy(root_client, root_ctx):
    make_role(root_ctx, "app")
    page = text(root_client.get("/iam/roles/app/trust"))
    assert '"Service": "ec2.amazonaws.com"' in page

    prohibited = root_client.post(
        "/iam/roles/app/trust", {"policy_document": trust({"Service": "ec2.amazonaws.com"}, Resource="*")}
    )
    assert prohibited.status_code == 400
    assert "MalformedPolicyDocument: Has prohibited field Resource." in plain(prohibited)

    assert root_client.post("/iam/roles/app/trust", {"policy_document": "   "}).status_code == 400
    assert Role.objects.get(name="app").assume_role_policy == EC2_TRUST

    new = trust({"Service": "lambda.amazonaws.com"})
    assert root_client.post("/iam/roles/app/trust", {"policy_document": new}).status_code == 302
    assert Role.objects.get(name="app").assume_role_policy == new


def test_edit_trust_policy_with_bad_json(root_client, root_ctx):
    make_role(root_ctx, "app")
    response = root_client.post("/iam/roles/app/trust", {"policy_document": '{"Version": "2012-10-17", "Statement": ['})
    assert response.status_code == 400 and "MalformedPolicyDocument" in text(response)
    assert Role.objects.get(name="app").assume_role_policy == EC2_TRUST


def test_edit_trust_policy_names_unknown_principal(root_client, root_ctx):
    make_role(root_ctx, "app")
    response = root_client.post(
        "/iam/roles/app/trust", {"policy_document": trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/ghost"})}
    )
    assert response.status_code == 400
    assert f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT}:user/ghost"' in text(response)


def test_revoke_sessions_adds_the_deny_policy(root_client, root_ctx):
    make_role(root_ctx, "app")

    unconfirmed = root_client.post("/iam/roles/app/revoke_sessions", {})
    assert unconfirmed.status_code == 400 and 'data-testid="revoke-error"' in text(unconfirmed)
    assert not InlinePolicy.objects.exists()

    response = root_client.post("/iam/roles/app/revoke_sessions", {"acknowledge": "on"})
    assert response.status_code == 302 and response["Location"] == "/iam/roles/app?tab=revoke_sessions"
    policy = InlinePolicy.objects.get(role__name="app")
    assert policy.name == "AWSRevokeOlderSessions"
    deny = json.loads(policy.document)["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Action"] == ["*"] and deny["Resource"] == ["*"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", deny["Condition"]["DateLessThan"]["aws:TokenIssueTime"])
    assert root_client.get("/iam/roles/app/revoke_sessions").status_code == 405


def test_attach_detach_inline_boundary_and_tags(root_client, root_ctx):
    make_role(root_ctx, "app")
    base = "/iam/roles/app"

    assert "ReadOnlyAccess" in text(root_client.get(f"{base}/attach_policies"))
    none = root_client.post(f"{base}/attach_policies", {"action": "attach"})
    assert none.status_code == 400 and "Select at least one policy." in text(none)
    assert (
        root_client.post(f"{base}/attach_policies", {"action": "attach", "policies": [READ_ONLY, S3_READ]}).status_code
        == 302
    )
    assert RolePolicyAttachment.objects.count() == 2
    assert root_client.post(f"{base}/detach_policy", {"policy_arn": S3_READ}).status_code == 302
    assert list(RolePolicyAttachment.objects.values_list("policy__arn", flat=True)) == [READ_ONLY]
    missing = root_client.post(f"{base}/detach_policy", {"policy_arn": S3_READ})
    assert missing.status_code == 404 and "AmazonS3ReadOnlyAccess" in text(missing)

    assert '"Sid": "Statement1"' in text(root_client.get(f"{base}/inline_policy"))
    bad = root_client.post(f"{base}/inline_policy", {"policy_name": "p1", "policy_document": "{}"})
    assert bad.status_code == 400 and "MalformedPolicyDocument" in text(bad)
    assert root_client.post(f"{base}/inline_policy", {"policy_name": "p1", "policy_document": DOC}).status_code == 302
    assert "s3:ListBucket" in text(root_client.get(f"{base}/inline_policy?name=p1"))
    assert root_client.get(f"{base}/inline_policy?name=nope").status_code == 404
    assert root_client.post(f"{base}/delete_inline_policy", {"policy_name": "p1"}).status_code == 302
    assert not InlinePolicy.objects.exists()

    assert root_client.post(f"{base}/boundary", {"action": "set"}).status_code == 400
    assert root_client.post(f"{base}/boundary", {"action": "set", "boundary": S3_READ}).status_code == 302
    assert Role.objects.get(name="app").permissions_boundary.arn == S3_READ
    assert "AmazonS3ReadOnlyAccess" in text(root_client.get(f"{base}?tab=permissions"))
    assert root_client.post(f"{base}/boundary", {"action": "remove"}).status_code == 302
    assert Role.objects.get(name="app").permissions_boundary is None

    assert root_client.post(f"{base}/tags", {"tag_key": ["env", "team"], "tag_value": ["dev", ""]}).status_code == 302
    assert Role.objects.get(name="app").tags == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": ""}]
    assert root_client.post(f"{base}/tags", {"tag_key": ["team"], "tag_value": ["x"]}).status_code == 302
    assert Role.objects.get(name="app").tags == [{"Key": "team", "Value": "x"}]
    dup = root_client.post(f"{base}/tags", {"tag_key": ["a", "A"], "tag_value": ["", ""]})
    assert dup.status_code == 400 and "Duplicate tag keys found" in text(dup)


def test_delete_role_removes_instance_profile_and_policies(root_client):
    assert (
        create(
            root_client,
            {"entity_type": "service", "service": "ec2", "use_case": "ec2"},
            name="doomed",
            policies=[READ_ONLY],
        ).status_code
        == 302
    )
    root_client.post("/iam/roles/doomed/inline_policy", {"policy_name": "p1", "policy_document": DOC})
    assert InstanceProfile.objects.count() == 1 and InlinePolicy.objects.count() == 1

    assert "To confirm deletion, enter" in text(root_client.get("/iam/roles/doomed/delete"))
    wrong = root_client.post("/iam/roles/doomed/delete", {"confirm": "nope"})
    assert wrong.status_code == 400 and "To confirm deletion, enter doomed in the text input field." in text(wrong)

    response = root_client.post("/iam/roles/doomed/delete", {"confirm": "doomed"})
    assert response.status_code == 302 and response["Location"] == "/iam/roles"
    assert not Role.objects.exists() and not InstanceProfile.objects.exists()
    assert not InlinePolicy.objects.exists() and not RolePolicyAttachment.objects.exists()


# ---- isolation and bad input --------------------------------------------------------------------------------------

ROLE_URLS = (
    "",
    "/edit",
    "/trust",
    "/delete",
    "/attach_policies",
    "/detach_policy",
    "/inline_policy",
    "/inline_policy?name=inline1",
    "/delete_inline_policy",
    "/boundary",
    "/tags",
    "/revoke_sessions",
    "?tab=trust",
    "?tab=last_accessed",
)


def test_other_accounts_roles_are_404_everywhere(root_client, other_root_ctx):
    make_role(other_root_ctx, "theirs", policies=[READ_ONLY], inline=True)
    before = (
        Role.objects.get(name="theirs").assume_role_policy,
        RolePolicyAttachment.objects.count(),
        InlinePolicy.objects.count(),
    )
    posted = {
        "confirm": "theirs",
        "action": "set",
        "acknowledge": "on",
        "policy_arn": READ_ONLY,
        "policy_name": "inline1",
        "policy_document": EC2_TRUST,
        "duration": "7200",
        "boundary": READ_ONLY,
        "tag_key": "k",
        "tag_value": "v",
        "policies": [S3_READ],
    }
    for suffix in ROLE_URLS:
        url = f"/iam/roles/theirs{suffix}"
        get = root_client.get(url)
        assert get.status_code in (404, 405), (url, get.status_code)
        post = root_client.post(url, posted)
        detail = suffix == "" or suffix.startswith("?")  # the detail page is GET only
        assert post.status_code == (405 if detail else 404), (url, post.status_code)
        assert "AROA" not in text(post)
    assert root_client.post("/iam/roles/delete_selected", {"roles": ["theirs"], "confirm": "theirs"}).status_code == 200
    assert "theirs" not in plain(root_client.get("/iam/roles/delete_selected?roles=theirs"))
    after = (
        Role.objects.get(name="theirs").assume_role_policy,
        RolePolicyAttachment.objects.count(),
        InlinePolicy.objects.count(),
    )
    assert before == after and Role.objects.get(name="theirs").tags == []


def test_unknown_role_is_404(root_client):
    assert root_client.get("/iam/roles/nobody").status_code == 404
    assert root_client.get("/iam/roles/bad%20name!").status_code in (400, 404)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ("/iam/roles", "/iam/roles/create", "/iam/roles/app", "/iam/roles/app/edit"):
        response = client.get(url)
        assert response.status_code == 302 and "/signin" in response["Location"]
