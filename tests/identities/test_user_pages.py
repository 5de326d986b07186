"""The console's user pages over HTTP: list, Create user wizard, detail tabs and their actions, delete.

Every page is driven through the same URLs a browser uses, signed in as an account's root. Cross-account isolation
and bad input are checked on every user URL: a name from another account is a 404 that changes nothing, and no
input gives a 500.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from identities import services
from identities.models import Group, GroupMembership, IamUser, LoginProfile
from identities.services import CHANGE_PASSWORD_POLICY_ARN, Tag
from policies import services as policy_services
from policies.models import InlinePolicy, ManagedPolicy, UserPolicyAttachment

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"
DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
)
GOOD_PASSWORD = "Corr3ct-Horse!"


def text(response) -> str:
    return html.unescape(response.content.decode())


def plain(response) -> str:
    """The page's visible text: tags dropped, whitespace collapsed, URL-encoded links decoded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", unquote(response.content.decode()))))


def listed_users(response) -> list[str]:
    return re.findall(r'<td><a href="/iam/users/([^"/?]+)">', response.content.decode())


def wizard(client, step: int, action: str = "next", **fields):
    data = {
        "step": str(step),
        "action": action,
        "user_name": "alice",
        "require_reset": "",
        "permissions_option": "groups",
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    return client.post("/iam/users/create", data)


def make_user(ctx, name: str, *, password: bool = False, groups=(), policies=(), inline: bool = False) -> IamUser:
    user = services.create_user(ctx, user_name=name)
    if password:
        services.create_login_profile(ctx, user_name=name, password=GOOD_PASSWORD)
    for group in groups:
        services.add_user_to_group(ctx, group_name=group, user_name=name)
    for arn in policies:
        policy_services.attach_user_policy(ctx, user_name=name, policy_arn=arn)
    if inline:
        policy_services.put_user_policy(ctx, user_name=name, policy_name="inline1", policy_document=DOC)
    return user


# ---- users list -------------------------------------------------------------------------------------------------


def test_users_list_shows_only_this_accounts_users(root_client, root_ctx, other_root_ctx):
    make_user(root_ctx, "alice", password=True)
    make_user(other_root_ctx, "mallory")

    response = root_client.get("/iam/users")

    assert response.status_code == 200
    body = text(response)
    assert "Users (1)" in plain(response)
    assert 'href="/iam/users/alice"' in body
    assert "mallory" not in body


def test_users_list_filter_sort_and_pagination(root_client, root_ctx):
    for i in range(30):
        services.create_user(root_ctx, user_name=f"user{i:02d}")
    services.create_user(root_ctx, user_name="zed")

    filtered = text(root_client.get("/iam/users?q=ZE"))
    assert 'href="/iam/users/zed"' in filtered and "user00" not in filtered

    names = listed_users(root_client.get("/iam/users?sort=-name&size=10"))
    assert names[:3] == ["zed", "user29", "user28"] and len(names) == 10

    page2 = listed_users(root_client.get("/iam/users?size=10&page=2"))
    assert page2 == [f"user{i:02d}" for i in range(10, 20)]

    # Unknown sort keys, sizes and pages fall back instead of failing.
    assert root_client.get("/iam/users?sort=password_hash&size=7&page=abc").status_code == 200
    assert root_client.get("/iam/users?page=999999999999999999999").status_code == 200


def test_users_list_htmx_renders_only_the_table(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    response = root_client.get("/iam/users?q=al", headers={"HX-Request": "true", "HX-Target": "user-table"})
    body = text(response)
    assert body.lstrip().startswith('<section class="container" id="user-table">')
    assert "<html" not in body and "alice" in body


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_users_list_runs_a_constant_number_of_queries(root_client, root_ctx, django_assert_num_queries):
    empty = _queries_for(root_client, "/iam/users")
    for i in range(3):
        services.create_group(root_ctx, group_name=f"g{i}")
    for i in range(40):
        make_user(root_ctx, f"user{i:02d}", password=True, groups=[f"g{i % 3}", f"g{(i + 1) % 3}"])

    with django_assert_num_queries(empty):
        response = root_client.get("/iam/users?size=50")
    assert len(listed_users(response)) == 40


def test_user_detail_queries_grow_only_with_one_call_per_group(root_client, root_ctx, django_assert_num_queries):
    """The tabs read as AWS's console does: one ListAttachedGroupPolicies (and ListGroupPolicies) call per group the
    user is in (at most 10), each authorized and recorded; nothing else grows with the user's policies or groups."""
    tabs = ("permissions", "groups", "tags", "security_credentials")
    for i in range(6):
        services.create_group(root_ctx, group_name=f"g{i}")
        policy_services.attach_group_policy(root_ctx, group_name=f"g{i}", policy_arn=READ_ONLY)
        policy_services.put_group_policy(root_ctx, group_name=f"g{i}", policy_name="p", policy_document=DOC)
    make_user(root_ctx, "small", password=True, groups=["g0"], policies=[READ_ONLY], inline=True)
    make_user(root_ctx, "pair", password=True, groups=["g0", "g1"], policies=[READ_ONLY], inline=True)
    make_user(root_ctx, "big", password=True, groups=["g0"])
    one = {tab: _queries_for(root_client, f"/iam/users/small?tab={tab}") for tab in tabs}
    per_group = {tab: _queries_for(root_client, f"/iam/users/pair?tab={tab}") - one[tab] for tab in tabs}
    # More policies of the user's own: the same queries.
    policy_services.attach_user_policy(root_ctx, user_name="big", policy_arn=S3_READ)
    policy_services.attach_user_policy(root_ctx, user_name="big", policy_arn=READ_ONLY)
    for name in ("own", "own2"):
        policy_services.put_user_policy(root_ctx, user_name="big", policy_name=name, policy_document=DOC)
    for tab in tabs:
        with django_assert_num_queries(one[tab]):
            assert root_client.get(f"/iam/users/big?tab={tab}").status_code == 200
    # Five more groups: five more calls' worth, exactly.
    for i in range(1, 6):
        services.add_user_to_group(root_ctx, group_name=f"g{i}", user_name="big")
    for tab in tabs:
        with django_assert_num_queries(one[tab] + 5 * per_group[tab]):
            assert root_client.get(f"/iam/users/big?tab={tab}").status_code == 200
    assert per_group["tags"] == per_group["security_credentials"] == 0


# ---- Create user wizard ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad name!", "Member must satisfy regular expression pattern: [\\w+=,.@-]+"),
        ("a" * 65, "Member must have length less than or equal to 64"),
        ("", "User name is required."),
    ],
)
def test_wizard_step1_rejects_bad_names(root_client, name, message):
    response = wizard(root_client, 1, user_name=name)

    assert response.status_code == 400
    assert message in text(response)
    assert "Specify user details" in text(response)


def test_wizard_step1_rejects_a_name_taken_case_insensitively(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")

    response = wizard(root_client, 1, user_name="ALICE")

    assert response.status_code == 400
    assert "User with name ALICE already exists." in text(response)


def test_name_check_endpoint_validates_as_you_type(root_client, root_ctx, other_root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_user(other_root_ctx, user_name="bob")

    assert "already exists" in text(root_client.get("/iam/users/check_name?user_name=Alice"))
    assert "regular expression" in text(root_client.get("/iam/users/check_name?user_name=no%20way"))
    # A name used only in another account is free here.
    assert 'class="field-error" role="alert"></span>' in text(root_client.get("/iam/users/check_name?user_name=bob"))


def test_wizard_step1_checks_the_custom_password(root_client):
    response = wizard(root_client, 1, console_access="on", password_type="custom", custom_password="short")

    assert response.status_code == 400
    assert "Password does not conform to the account password policy" in text(response)


def test_wizard_next_moves_through_the_steps(root_client):
    step2 = wizard(root_client, 1, console_access="on", password_type="autogenerated", require_reset="on")
    assert step2.status_code == 200 and "Set permissions" in text(step2)

    step3 = wizard(
        root_client, 2, console_access="on", require_reset="on", permissions_option="attach", policies=[READ_ONLY]
    )
    body = text(step3)
    assert "Review and create" in body and "ReadOnlyAccess" in body and "IAMUserChangePassword" in body

    back = wizard(root_client, 3, action="previous")
    assert "Set permissions" in text(back)
    assert not IamUser.objects.exists()


def test_wizard_htmx_request_gets_the_wizard_partial_with_errors(root_client):
    response = root_client.post(
        "/iam/users/create",
        {"step": "1", "action": "next", "user_name": "bad name!"},
        headers={"HX-Request": "true", "HX-Target": "wizard"},
    )

    body = text(response)
    assert response.status_code == 200  # htmx swaps only 2xx by default
    assert body.lstrip().startswith('<form id="wizard"') and "regular expression" in body


def test_wizard_tag_rows_can_be_added_and_removed(root_client):
    added = wizard(root_client, 3, action="add_tag", tag_key=["team"], tag_value=["blue"])
    assert text(added).count('name="tag_key"') == 2

    removed = wizard(root_client, 3, action="remove_tag:0", tag_key=["team", "env"], tag_value=["blue", "dev"])
    assert text(removed).count('name="tag_key"') == 1 and 'value="env"' in text(removed)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["team", "TEAM"], "Duplicate tag keys found. Please note that Tag keys are case insensitive."),
        ([f"k{i}" for i in range(51)], "You can add up to 50 tags."),
        (["bad*key"], "Member must satisfy regular expression pattern"),
        (["k" * 129], "Member must have length less than or equal to 128"),
    ],
)
def test_wizard_rejects_bad_tags_and_creates_nothing(root_client, keys, message):
    response = wizard(root_client, 3, action="create", tag_key=keys, tag_value=["v"] * len(keys))

    assert response.status_code == 400
    assert message in text(response)
    assert not IamUser.objects.exists()


def test_wizard_creates_user_with_groups_tags_and_autogenerated_password_shown_once(root_client, root_ctx):
    services.create_group(root_ctx, group_name="Developers")

    response = wizard(
        root_client,
        3,
        action="create",
        console_access="on",
        password_type="autogenerated",
        require_reset="on",
        groups=["Developers"],
        tag_key=["team"],
        tag_value=["blue"],
    )

    assert response.status_code == 200
    body = text(response)
    assert "Retrieve password" in body
    password = re.search(r'data-testid="created-password">([^<]+)<', response.content.decode()).group(1)
    password = html.unescape(password)
    assert len(password) >= 8
    assert f"alice,{password}," in unquote(response.content.decode())  # the .csv download
    assert "no-store" in response["Cache-Control"]

    user = IamUser.objects.get(name="alice")
    assert user.tags == [{"Key": "team", "Value": "blue"}]
    assert list(user.groups.values_list("name", flat=True)) == ["Developers"]
    profile = LoginProfile.objects.get(user=user)
    assert profile.password_reset_required
    assert password not in profile.password_hash
    assert UserPolicyAttachment.objects.filter(user=user, policy__arn=CHANGE_PASSWORD_POLICY_ARN).exists()

    # Never stored in clear: not in the audit trail, the session, or any later page.
    for event in AuditEvent.objects.all():
        assert password not in json.dumps(event.record)
    from django.contrib.sessions.models import Session

    for session in Session.objects.all():
        assert password not in json.dumps(session.get_decoded())
    for tab in ("permissions", "security_credentials"):
        assert password not in text(root_client.get(f"/iam/users/alice?tab={tab}"))


def test_wizard_custom_password_without_reset_attaches_nothing(root_client):
    response = wizard(
        root_client,
        3,
        action="create",
        console_access="on",
        password_type="custom",
        custom_password=GOOD_PASSWORD,
        require_reset="",
    )

    assert response.status_code == 200 and GOOD_PASSWORD in text(response)
    user = IamUser.objects.get(name="alice")
    assert not LoginProfile.objects.get(user=user).password_reset_required
    assert not UserPolicyAttachment.objects.filter(user=user).exists()


def test_wizard_without_console_access_redirects_to_the_user(root_client):
    response = wizard(root_client, 3, action="create")

    assert response.status_code == 302 and response["Location"] == "/iam/users"
    assert not LoginProfile.objects.exists()
    page = root_client.get("/iam/users").content.decode()
    assert "User created successfully." in page
    assert '<a class="btn btn-inverse flash-action" href="/iam/users/alice">View user</a>' in page


def test_wizard_attaches_policies_and_a_boundary(root_client):
    response = wizard(
        root_client,
        3,
        action="create",
        permissions_option="attach",
        policies=[READ_ONLY, S3_READ],
        use_boundary="on",
        boundary=POWER_USER,
    )

    assert response.status_code == 302
    user = IamUser.objects.select_related("permissions_boundary").get(name="alice")
    assert set(user.policy_attachments.values_list("policy__arn", flat=True)) == {READ_ONLY, S3_READ}
    assert user.permissions_boundary.arn == POWER_USER


def test_wizard_copies_permissions_from_another_user(root_client, root_ctx):
    services.create_group(root_ctx, group_name="Developers")
    make_user(root_ctx, "template", groups=["Developers"], policies=[S3_READ], inline=True)
    services.put_user_permissions_boundary(root_ctx, user_name="template", permissions_boundary=POWER_USER)

    response = wizard(root_client, 3, action="create", permissions_option="copy", copy_from="template")

    assert response.status_code == 302
    user = IamUser.objects.select_related("permissions_boundary").get(name="alice")
    assert list(user.groups.values_list("name", flat=True)) == ["Developers"]
    assert list(user.policy_attachments.values_list("policy__arn", flat=True)) == [S3_READ]
    assert list(user.inline_policies.values_list("name", flat=True)) == ["inline1"]
    assert user.permissions_boundary.arn == POWER_USER


def test_wizard_copy_requires_a_source_user(root_client):
    response = wizard(root_client, 2, permissions_option="copy", copy_from="")
    assert response.status_code == 400 and "Choose a user to copy permissions from." in text(response)


def test_failed_wizard_creates_nothing(root_client):
    eleven = list(
        ManagedPolicy.objects.filter(account__isnull=True).order_by("name").values_list("arn", flat=True)[:11]
    )

    response = wizard(
        root_client,
        3,
        action="create",
        console_access="on",
        password_type="custom",
        custom_password=GOOD_PASSWORD,
        permissions_option="attach",
        policies=eleven,
    )

    assert response.status_code == 409
    assert "Cannot exceed quota for PoliciesPerUser: 10" in text(response)
    assert "Review and create" in text(response)
    assert not IamUser.objects.exists()
    assert not LoginProfile.objects.exists() and not UserPolicyAttachment.objects.exists()
    assert AuditEvent.objects.filter(event_name="CreateUser", error_code="").count() == 0


def test_wizard_with_unknown_group_or_policy_creates_nothing(root_client):
    assert wizard(root_client, 3, action="create", groups=["ghosts"]).status_code == 404
    assert (
        wizard(
            root_client,
            3,
            action="create",
            permissions_option="attach",
            policies=["arn:aws:iam::aws:policy/NoSuchPolicy"],
        ).status_code
        == 404
    )
    assert not IamUser.objects.exists()


# ---- user detail and its actions ---------------------------------------------------------------------------------


def test_user_detail_tabs(root_client, root_ctx):
    services.create_group(root_ctx, group_name="Developers")
    policy_services.attach_group_policy(root_ctx, group_name="Developers", policy_arn=READ_ONLY)
    make_user(root_ctx, "alice", password=True, groups=["Developers"], policies=[S3_READ], inline=True)
    services.tag_user(root_ctx, user_name="alice", tags=[Tag("team", "blue")])

    permissions = text(root_client.get("/iam/users/alice"))
    assert "arn:aws:iam::111122223333:user/alice" in permissions
    assert "Enabled without MFA" in permissions
    assert "AmazonS3ReadOnlyAccess" in permissions and "inline1" in permissions
    assert "Group Developers" in permissions
    assert "Developers" in text(root_client.get("/iam/users/alice?tab=groups"))
    assert "blue" in text(root_client.get("/iam/users/alice?tab=tags"))
    assert "Manage console access" in text(root_client.get("/iam/users/alice?tab=security_credentials"))
    assert root_client.get("/iam/users/alice?tab=nonsense").status_code == 200

    partial = text(
        root_client.get("/iam/users/alice?tab=groups", headers={"HX-Request": "true", "HX-Target": "user-tab"})
    )
    assert partial.lstrip().startswith('<div id="user-tab"') and "<html" not in partial


def test_add_permissions_groups_and_policies(root_client, root_ctx):
    services.create_group(root_ctx, group_name="Developers")
    services.create_user(root_ctx, user_name="alice")

    assert "Add user to group" in text(root_client.get("/iam/users/alice/add_permissions"))
    response = root_client.post(
        "/iam/users/alice/add_permissions", {"action": "add", "permissions_option": "groups", "groups": ["Developers"]}
    )
    assert response.status_code == 302 and response["Location"] == "/iam/users/alice?tab=groups"
    assert GroupMembership.objects.filter(user__name="alice", group__name="Developers").exists()

    response = root_client.post(
        "/iam/users/alice/add_permissions",
        {"action": "add", "permissions_option": "attach", "policies": [READ_ONLY, S3_READ]},
    )
    assert response.status_code == 302
    assert UserPolicyAttachment.objects.filter(user__name="alice").count() == 2

    picker = root_client.post(
        "/iam/users/alice/add_permissions",
        {"action": "filter", "permissions_option": "attach", "policy_query": "AmazonS3ReadOnly"},
        headers={"HX-Request": "true", "HX-Target": "policy-picker"},
    )
    body = text(picker)
    assert body.lstrip().startswith('<div id="policy-picker">') and "AmazonS3ReadOnlyAccess" in body


def test_add_permissions_is_all_or_nothing(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    arns = list(ManagedPolicy.objects.filter(account__isnull=True).order_by("name").values_list("arn", flat=True)[:11])

    response = root_client.post(
        "/iam/users/alice/add_permissions", {"action": "add", "permissions_option": "attach", "policies": arns}
    )

    assert response.status_code == 400
    assert "Cannot exceed quota for PoliciesPerUser: 10" in text(response)
    assert not UserPolicyAttachment.objects.exists()


def test_detach_and_delete_inline_and_remove_from_group(root_client, root_ctx):
    services.create_group(root_ctx, group_name="Developers")
    make_user(root_ctx, "alice", groups=["Developers"], policies=[S3_READ], inline=True)

    # A Remove button asks first (AWS does): nothing changes until the dialog's Remove is pressed.
    question = root_client.post("/iam/users/alice/detach_policy", {"policy_arn": S3_READ})
    assert question.status_code == 200 and "Remove AmazonS3ReadOnlyAccess?" in text(question)
    question = root_client.post("/iam/users/alice/delete_inline_policy", {"policy_name": "inline1"})
    assert question.status_code == 200 and "Remove inline1?" in text(question)
    assert UserPolicyAttachment.objects.count() == 1 and InlinePolicy.objects.count() == 1

    remove = {"confirm": "remove"}
    assert root_client.post("/iam/users/alice/detach_policy", {"policy_arn": S3_READ, **remove}).status_code == 302
    assert (
        root_client.post("/iam/users/alice/delete_inline_policy", {"policy_name": "inline1", **remove}).status_code
        == 302
    )
    assert root_client.post("/iam/users/alice/remove_from_group", {"group_name": "Developers"}).status_code == 302
    assert not UserPolicyAttachment.objects.exists() and not InlinePolicy.objects.exists()
    assert not GroupMembership.objects.exists()

    # Doing it again is an error shown on the page, not a crash.
    again = root_client.post("/iam/users/alice/detach_policy", {"policy_arn": S3_READ, **remove})
    assert again.status_code == 404 and f"Policy {S3_READ} was not found." in text(again)


def test_inline_policy_editor(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    assert '"Version": "2012-10-17"' in text(root_client.get("/iam/users/alice/inline_policy"))

    bad = root_client.post("/iam/users/alice/inline_policy", {"policy_name": "p1", "policy_document": "{not json"})
    assert bad.status_code == 400 and "MalformedPolicyDocument" in text(bad)
    no_vendor = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ListBucket", "Resource": "*"}]}
    )
    bad = root_client.post("/iam/users/alice/inline_policy", {"policy_name": "p1", "policy_document": no_vendor})
    assert "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc." in text(bad)
    assert not InlinePolicy.objects.exists()

    ok = root_client.post("/iam/users/alice/inline_policy", {"policy_name": "p1", "policy_document": DOC})
    assert ok.status_code == 302
    edit = root_client.get("/iam/users/alice/inline_policy?name=p1")
    assert "s3:ListBucket" in text(edit) and "readonly" in text(edit)
    assert root_client.get("/iam/users/alice/inline_policy?name=nope").status_code == 404

    too_big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": [f"s3:Get{'x' * 40}{i}" for i in range(60)], "Resource": "*"}],
        }
    )
    response = root_client.post("/iam/users/alice/inline_policy", {"policy_name": "p2", "policy_document": too_big})
    assert response.status_code == 409
    assert "Maximum policy size of 2048 bytes exceeded for user alice" in text(response)


def test_boundary_set_and_remove(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")

    assert root_client.post("/iam/users/alice/boundary", {"action": "set"}).status_code == 400
    filtered = root_client.post("/iam/users/alice/boundary", {"action": "filter", "policy_query": "PowerUser"})
    assert filtered.status_code == 200 and "PowerUserAccess" in text(filtered)
    assert root_client.post("/iam/users/alice/boundary", {"action": "set", "boundary": POWER_USER}).status_code == 302
    assert IamUser.objects.get(name="alice").permissions_boundary.arn == POWER_USER
    assert root_client.post("/iam/users/alice/boundary", {"action": "remove"}).status_code == 302
    assert IamUser.objects.get(name="alice").permissions_boundary is None


def test_manage_tags(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice", tags=[Tag("team", "blue"), Tag("old", "x")])

    page = text(root_client.get("/iam/users/alice/tags"))
    assert "You can add up to 48 more tags." in page

    dup = root_client.post("/iam/users/alice/tags", {"tag_key": ["team", "TEAM"], "tag_value": ["a", "b"]})
    assert dup.status_code == 400 and "Duplicate tag keys found" in text(dup)

    saved = root_client.post("/iam/users/alice/tags", {"tag_key": ["team", "env"], "tag_value": ["red", "dev"]})
    assert saved.status_code == 302
    assert sorted(IamUser.objects.get(name="alice").tags, key=lambda t: t["Key"]) == [
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "red"},
    ]

    added = root_client.post("/iam/users/alice/tags", {"action": "add_tag", "tag_key": ["team"], "tag_value": ["red"]})
    assert text(added).count('name="tag_key"') == 2


def test_console_access_enable_reset_disable(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")

    bad = root_client.post(
        "/iam/users/alice/console_access",
        {"console_access": "enable", "password_type": "custom", "custom_password": "abc"},
    )
    assert bad.status_code == 400 and "Password does not conform" in text(bad)
    assert not LoginProfile.objects.exists()

    enabled = root_client.post(
        "/iam/users/alice/console_access",
        {"console_access": "enable", "password_type": "autogenerated", "require_reset": "on"},
    )
    assert enabled.status_code == 200
    password = html.unescape(re.search(r'data-testid="created-password">([^<]+)<', enabled.content.decode()).group(1))
    assert f"alice,{password}," in unquote(enabled.content.decode())
    profile = LoginProfile.objects.get(user__name="alice")
    assert profile.password_reset_required and password not in profile.password_hash
    assert UserPolicyAttachment.objects.filter(policy__arn=CHANGE_PASSWORD_POLICY_ARN).exists()

    reset = root_client.post(
        "/iam/users/alice/console_access",
        {"console_access": "enable", "password_type": "custom", "custom_password": GOOD_PASSWORD},
    )
    assert reset.status_code == 200
    assert LoginProfile.objects.get(user__name="alice").password_hash != profile.password_hash

    disabled = root_client.post("/iam/users/alice/console_access", {"console_access": "disable"})
    assert disabled.status_code == 302 and not LoginProfile.objects.exists()


# ---- delete ------------------------------------------------------------------------------------------------------


def test_delete_user_needs_confirmation_and_removes_dependents(root_client, root_ctx):
    services.create_group(root_ctx, group_name="Developers")
    make_user(root_ctx, "alice", password=True, groups=["Developers"], policies=[S3_READ], inline=True)
    services.put_user_permissions_boundary(root_ctx, user_name="alice", permissions_boundary=POWER_USER)

    page = plain(root_client.get("/iam/users/alice/delete"))
    assert "Delete alice?" in page and "To confirm deletion, enter alice in the text input field." in page

    wrong = root_client.post("/iam/users/alice/delete", {"confirm": "ALICE"})
    assert wrong.status_code == 400 and IamUser.objects.filter(name="alice").exists()

    response = root_client.post("/iam/users/alice/delete", {"confirm": "alice"})
    assert response.status_code == 302 and response["Location"] == "/iam/users"
    assert not IamUser.objects.exists()
    assert not LoginProfile.objects.exists() and not GroupMembership.objects.exists()
    assert not UserPolicyAttachment.objects.exists() and not InlinePolicy.objects.exists()
    assert Group.objects.filter(name="Developers").exists()
    assert "User alice deleted." in text(root_client.get("/iam/users"))


# ---- isolation and bad input -------------------------------------------------------------------------------------


def _snapshot():
    return (
        sorted(IamUser.objects.values_list("account_id", "name", "tags", "permissions_boundary_id")),
        sorted(LoginProfile.objects.values_list("user__name", "password_hash")),
        sorted(GroupMembership.objects.values_list("user__name", "group__name")),
        sorted(UserPolicyAttachment.objects.values_list("user__name", "policy__arn")),
        sorted(InlinePolicy.objects.values_list("name", "document")),
    )


USER_GETS = [
    "",
    "?tab=groups",
    "/delete",
    "/add_permissions",
    "/inline_policy",
    "/inline_policy?name=inline1",
    "/boundary",
    "/tags",
    "/console_access",
]
USER_POSTS = [
    ("/delete", {"confirm": "bob"}),
    ("/detach_policy", {"policy_arn": S3_READ, "confirm": "remove"}),
    ("/delete_inline_policy", {"policy_name": "inline1", "confirm": "remove"}),
    ("/remove_from_group", {"group_name": "ops"}),
    ("/add_permissions", {"action": "add", "permissions_option": "groups", "groups": ["ops"]}),
    ("/add_permissions", {"action": "add", "permissions_option": "attach", "policies": [READ_ONLY]}),
    ("/inline_policy", {"policy_name": "inline1", "policy_document": DOC}),
    ("/boundary", {"action": "set", "boundary": POWER_USER}),
    ("/boundary", {"action": "remove"}),
    ("/tags", {"tag_key": ["stolen"], "tag_value": ["yes"]}),
    ("/console_access", {"console_access": "disable"}),
    ("/console_access", {"console_access": "enable", "password_type": "custom", "custom_password": GOOD_PASSWORD}),
]


@pytest.fixture
def bob_elsewhere(other_root_ctx):
    """User bob, with everything a page can change, exists only in the other account."""
    services.create_group(other_root_ctx, group_name="ops")
    make_user(other_root_ctx, "bob", password=True, groups=["ops"], policies=[S3_READ], inline=True)


def test_other_accounts_user_is_404_on_every_url(root_client, bob_elsewhere):
    before = _snapshot()
    for suffix in USER_GETS:
        assert root_client.get(f"/iam/users/bob{suffix}").status_code == 404, suffix
    for suffix, data in USER_POSTS:
        assert root_client.post(f"/iam/users/bob{suffix}", data).status_code == 404, suffix
    assert _snapshot() == before


def test_other_accounts_entities_cannot_be_referenced(root_client, root_ctx, other_root_ctx, bob_elsewhere):
    services.create_user(root_ctx, user_name="alice")
    customer = policy_services.create_policy(other_root_ctx, policy_name="theirs", policy_document=DOC)
    before = _snapshot()

    add_group = root_client.post(
        "/iam/users/alice/add_permissions", {"action": "add", "permissions_option": "groups", "groups": ["ops"]}
    )
    attach = root_client.post(
        "/iam/users/alice/add_permissions",
        {"action": "add", "permissions_option": "attach", "policies": [customer.arn]},
    )
    boundary = root_client.post("/iam/users/alice/boundary", {"action": "set", "boundary": customer.arn})
    copy = wizard(root_client, 3, action="create", user_name="carol", permissions_option="copy", copy_from="bob")

    for response in (add_group, attach, boundary, copy):
        assert 400 <= response.status_code < 500
    assert _snapshot() == before
    assert "Select theirs" not in text(
        root_client.post(
            "/iam/users/alice/add_permissions",
            {"action": "filter", "permissions_option": "attach", "policy_query": "theirs"},
        )
    )


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/iam/users/nobody", None),
        ("get", "/iam/users/" + "x" * 5000, None),
        ("get", "/iam/users/bad%20name!%3C%3E", None),
        ("get", "/iam/users/alice%00", None),
        ("get", "/iam/users?q=%00", None),
        ("get", "/iam/users/check_name?user_name=%00", None),
        ("post", "/iam/users/create", {"step": "1", "action": "next", "user_name": "x" * 100_000}),
        ("post", "/iam/users/create", {"step": "9" * 5000, "action": "next", "user_name": ""}),
        ("post", "/iam/users/create", {"step": "3", "action": "create", "user_name": "a\x00b"}),
        (
            "post",
            "/iam/users/create",
            {
                "step": "3",
                "action": "create",
                "user_name": "alice2",
                "permissions_option": "attach",
                "policies": ["not-an-arn"],
            },
        ),
        (
            "post",
            "/iam/users/create",
            {
                "step": "3",
                "action": "create",
                "user_name": "alice2",
                "console_access": "on",
                "password_type": "custom",
                "custom_password": "Aa1!" * 100,
            },
        ),
        (
            "post",
            "/iam/users/create",
            {
                "step": "3",
                "action": "create",
                "user_name": "alice2",
                "use_boundary": "on",
                "permissions_option": "groups",
                "boundary": "arn:aws:iam::aws:policy/Nope",
            },
        ),
        ("post", "/iam/users/alice/delete", {}),
        ("post", "/iam/users/alice/detach_policy", {}),
        ("post", "/iam/users/alice/detach_policy", {"policy_arn": "x" * 10_000}),
        ("post", "/iam/users/alice/detach_policy", {"policy_arn": "x" * 10_000, "confirm": "remove"}),
        ("post", "/iam/users/alice/delete_inline_policy", {}),
        ("post", "/iam/users/alice/delete_inline_policy", {"confirm": "remove"}),
        ("post", "/iam/users/alice/remove_from_group", {}),
        ("post", "/iam/users/alice/remove_from_group", {"group_name": "g" * 10_000}),
        ("post", "/iam/users/alice/add_permissions", {"action": "add"}),
        (
            "post",
            "/iam/users/alice/add_permissions",
            {"action": "add", "permissions_option": "attach", "policies": ["arn:aws:iam::aws:policy/" + "p" * 3000]},
        ),
        ("post", "/iam/users/alice/inline_policy", {}),
        ("post", "/iam/users/alice/inline_policy", {"policy_name": "p" * 200, "policy_document": DOC}),
        ("post", "/iam/users/alice/inline_policy", {"policy_name": "p", "policy_document": "x" * 200_000}),
        ("post", "/iam/users/alice/boundary", {"action": "set", "boundary": "garbage"}),
        ("post", "/iam/users/alice/tags", {"tag_key": ["", "v"], "tag_value": ["x", ""]}),
        ("post", "/iam/users/alice/tags", {"tag_key": [f"k{i}" for i in range(60)], "tag_value": ["v"] * 60}),
        ("post", "/iam/users/alice/tags", {"tag_key": ["k"], "tag_value": ["v" * 300]}),
        ("post", "/iam/users/alice/tags", {"tag_key": ["k\x00"], "tag_value": ["v"]}),
        ("post", "/iam/users/alice/console_access", {"console_access": "enable", "password_type": "custom"}),
        (
            "post",
            "/iam/users/alice/console_access",
            {"console_access": "enable", "password_type": "custom", "custom_password": "Aa1!" * 50},
        ),
    ],
)
def test_bad_input_is_a_4xx_never_a_500(root_client, root_ctx, method, url, data):
    services.create_user(root_ctx, user_name="alice")
    root_client.raise_request_exception = False

    response = getattr(root_client, method)(url, data) if data is not None else getattr(root_client, method)(url)

    assert 400 <= response.status_code < 500, (response.status_code, text(response)[:300])


def test_pages_need_sign_in(client, account):
    for url in ("/iam/users", "/iam/users/create", "/iam/users/alice", "/iam/users/alice/delete"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/signin")
    assert client.post("/iam/users/alice/delete", {"confirm": "alice"}).status_code in (302, 403)


# ---- Create user: step 2's policy table and the Retrieve password step ------------------------------------------


def test_step_two_titles_the_policy_table_with_its_count_and_shows_attached_entities(
    root_client, root_ctx, other_root_ctx
):
    make_user(root_ctx, "bob", policies=[S3_READ])
    services.create_group(root_ctx, group_name="Readers")
    policy_services.attach_group_policy(root_ctx, group_name="Readers", policy_arn=S3_READ)
    make_user(other_root_ctx, "mallory", policies=[S3_READ, READ_ONLY])  # another account's attachments don't count
    total = ManagedPolicy.objects.visible_to(root_ctx.account_id).count()
    assert total > 1000  # the whole AWS managed catalog: the title's count has a thousands separator

    page = wizard(root_client, 2, action="refresh", permissions_option="attach").content.decode()
    assert f'id="policy-total">({total:,})</span>' in page
    assert "<th>Attached entities</th>" in page

    filtered = wizard(
        root_client, 2, action="filter", permissions_option="attach", policy_query="AmazonS3ReadOnly"
    ).content.decode()
    assert 'id="policy-total">(1)</span>' in filtered
    row = re.search(r'aria-label="Select AmazonS3ReadOnlyAccess".*?</tr>', filtered, re.S).group(0)
    assert '<td data-testid="attached-entities">2</td>' in row  # bob directly + the Readers group

    # The filter box's live results swap only the results; the count in the title follows out of band.
    live = root_client.post(
        "/iam/users/create",
        {
            "step": "2",
            "action": "filter",
            "user_name": "alice",
            "permissions_option": "attach",
            "policy_query": "ReadOnly",
        },
        headers={"HX-Request": "true", "HX-Target": "policy-picker-results"},
    ).content.decode()
    count = ManagedPolicy.objects.visible_to(root_ctx.account_id).filter(name__icontains="ReadOnly").count()
    assert f'<span class="counter" id="policy-total" hx-swap-oob="true">({count:,})</span>' in live
    assert "<html" not in live


def test_retrieve_password_offers_show_email_and_warns_before_leaving(root_client, account):
    response = wizard(
        root_client,
        3,
        action="create",
        console_access="on",
        password_type="custom",
        custom_password=GOOD_PASSWORD,
        require_reset="",
    )

    assert response.status_code == 200
    page = response.content.decode()
    reveal = re.search(r'<details class="reveal reveal-password".*?</details>', page, re.S).group(0)
    assert '<span class="masked" aria-hidden="true">*******</span>' in reveal
    assert '<span class="reveal-show">Show</span><span class="reveal-hide">Hide</span>' in reveal
    assert f'data-testid="created-password">{html.escape(GOOD_PASSWORD)}<' in reveal
    mailto = html.unescape(re.search(r'href="(mailto:[^"]+)" data-testid="email-instructions"', page).group(1))
    assert mailto.startswith("mailto:?subject=Welcome%20to%20Amazon%20Web%20Services&body=")
    body = unquote(mailto.partition("&body=")[2])
    assert f"for the account with account ID {account.id}" in body
    assert "User name: alice\n" in body and f"Console sign-in link: http://testserver/signin/{account.id}\n" in body
    assert "Your password will be provided to you separately" in body
    assert GOOD_PASSWORD not in body  # like AWS, the email never carries the password
    assert "data-password-step" in page and 'id="leave-password-step" hidden' in page
    assert "after you leave this page, you can't view or download it again" in html.unescape(page)
