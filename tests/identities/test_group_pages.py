"""The console's user group pages over HTTP: list, create, detail tabs and actions, delete; isolation and bad input."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from identities import services
from identities.models import Group, GroupMembership, IamUser
from policies import services as policy_services
from policies.models import GroupPolicyAttachment, InlinePolicy, ManagedPolicy

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
)


def text(response) -> str:
    return html.unescape(response.content.decode())


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def listed_groups(response) -> list[str]:
    return re.findall(r'<td><a href="/iam/groups/([^"/?]+)">', response.content.decode())


def make_group(ctx, name: str, *, users=(), policies=(), inline: bool = False) -> Group:
    group = services.create_group(ctx, group_name=name)
    for user in users:
        services.add_user_to_group(ctx, group_name=name, user_name=user)
    for arn in policies:
        policy_services.attach_group_policy(ctx, group_name=name, policy_arn=arn)
    if inline:
        policy_services.put_group_policy(ctx, group_name=name, policy_name="inline1", policy_document=DOC)
    return group


# ---- list ---------------------------------------------------------------------------------------------------------


def test_group_list_counts_users_and_shows_permissions(root_client, root_ctx, other_root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_user(root_ctx, user_name="bob")
    make_group(root_ctx, "Admins", users=["alice", "bob"], policies=[READ_ONLY])
    make_group(root_ctx, "Inline", inline=True)
    make_group(root_ctx, "Empty")
    make_group(other_root_ctx, "Theirs")

    response = root_client.get("/iam/groups")

    assert response.status_code == 200
    page = plain(response)
    assert "User groups (3)" in page
    assert listed_groups(response) == ["Admins", "Empty", "Inline"]
    rows = {
        name: row
        for name, row in re.findall(
            r'<td><a href="/iam/groups/(\w+)">.*?</a></td>(.*?)</tr>', response.content.decode(), re.S
        )
    }
    assert ">2<" in rows["Admins"] and "Defined" in rows["Admins"]
    assert "Defined" in rows["Inline"] and "Not defined" not in rows["Inline"]
    assert "Not defined" in rows["Empty"]
    assert "Theirs" not in text(response)


def test_group_list_filter_sort_pagination_and_partial(root_client, root_ctx):
    for i in range(12):
        make_group(root_ctx, f"team{i:02d}")
    services.create_user(root_ctx, user_name="alice")
    services.add_user_to_group(root_ctx, group_name="team05", user_name="alice")

    assert listed_groups(root_client.get("/iam/groups?q=TEAM1")) == ["team10", "team11"]
    assert listed_groups(root_client.get("/iam/groups?sort=-users"))[0] == "team05"
    assert listed_groups(root_client.get("/iam/groups?size=10&page=2")) == ["team10", "team11"]
    partial = text(root_client.get("/iam/groups?q=team", headers={"HX-Request": "true", "HX-Target": "group-table"}))
    assert partial.lstrip().startswith('<section class="container" id="group-table">') and "<html" not in partial


def test_group_list_runs_a_constant_number_of_queries(root_client, root_ctx, django_assert_num_queries):
    with CaptureQueriesContext(connection) as empty:
        root_client.get("/iam/groups")
    for i in range(5):
        services.create_user(root_ctx, user_name=f"u{i}")
    for i in range(30):
        make_group(root_ctx, f"g{i:02d}", users=[f"u{i % 5}"], policies=[READ_ONLY] if i % 2 else [])

    with django_assert_num_queries(len(empty)):
        response = root_client.get("/iam/groups?size=50")
    assert len(listed_groups(response)) == 30


# ---- create -------------------------------------------------------------------------------------------------------


def test_create_group_with_users_and_policies(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    page = text(root_client.get("/iam/groups/create"))
    assert "Create user group" in page and "alice" in page

    response = root_client.post(
        "/iam/groups/create",
        {"action": "create", "group_name": "Developers", "users": ["alice"], "policies": [READ_ONLY, S3_READ]},
    )

    assert response.status_code == 302 and response["Location"] == "/iam/groups"
    group = Group.objects.get(name="Developers")
    assert list(group.users.values_list("name", flat=True)) == ["alice"]
    assert set(group.policy_attachments.values_list("policy__arn", flat=True)) == {READ_ONLY, S3_READ}


def test_create_group_returns_to_the_list_with_a_flash_and_view_group(root_client, root_ctx):
    """AWS: after Create user group the list shows a green "X user group created." flash and a "View group" button."""
    response = root_client.post("/iam/groups/create", {"action": "create", "group_name": "Dev+Ops"})
    assert response.status_code == 302 and response["Location"] == "/iam/groups"

    page = root_client.get("/iam/groups").content.decode()
    flash = re.search(r'<div class="flash flash-success".*?</div>', page, re.S)
    assert flash and "Dev+Ops user group created." in flash.group(0)
    assert '<a class="btn btn-inverse flash-action" href="/iam/groups/Dev%2BOps">View group</a>' in flash.group(0)
    assert root_client.get("/iam/groups/Dev%2BOps").status_code == 200


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "User group name is required."),
        ("bad name!", "Member must satisfy regular expression pattern: [\\w+=,.@-]+"),
        ("g" * 129, "Member must have length less than or equal to 128"),
        ("DEVELOPERS", "Group with name DEVELOPERS already exists."),
    ],
)
def test_create_group_rejects_bad_names(root_client, root_ctx, name, message):
    make_group(root_ctx, "developers")

    response = root_client.post("/iam/groups/create", {"action": "create", "group_name": name})

    assert response.status_code in (400, 409)
    assert message in text(response)
    assert Group.objects.count() == 1


def test_group_name_is_checked_as_you_type(root_client, root_ctx, other_root_ctx):
    make_group(root_ctx, "developers")
    make_group(other_root_ctx, "ops")

    def check(name: str) -> str:
        response = root_client.post(
            "/iam/groups/create",
            {"action": "check_name", "group_name": name},
            headers={"HX-Request": "true", "HX-Target": "group-name-error"},
        )
        assert response.status_code == 200 and "<html" not in text(response)
        return text(response)

    assert "already exists" in check("Developers")
    assert "regular expression" in check("no way")
    assert 'role="alert"></span>' in check("ops")  # only taken in another account
    assert not Group.objects.filter(name="ops", account__id="111122223333").exists()


def test_create_group_is_all_or_nothing(root_client):
    eleven = list(
        ManagedPolicy.objects.filter(account__isnull=True).order_by("name").values_list("arn", flat=True)[:11]
    )

    response = root_client.post("/iam/groups/create", {"action": "create", "group_name": "big", "policies": eleven})

    assert response.status_code == 409
    assert "Cannot exceed quota for PoliciesPerGroup: 10" in text(response)
    assert not Group.objects.exists() and not GroupPolicyAttachment.objects.exists()


def test_create_group_policy_picker_filters(root_client):
    response = root_client.post(
        "/iam/groups/create",
        {"action": "filter", "policy_query": "AmazonS3ReadOnlyAccess", "policies": [READ_ONLY]},
        headers={"HX-Request": "true", "HX-Target": "policy-picker"},
    )
    body = text(response)
    assert body.lstrip().startswith('<div id="policy-picker">')
    assert re.findall(r'aria-label="Select ([^"]+)"', body)[:2] == ["ReadOnlyAccess", "AmazonS3ReadOnlyAccess"]


# ---- detail -------------------------------------------------------------------------------------------------------


def test_group_detail_summary_and_tabs(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_user(root_ctx, user_name="bob")
    make_group(root_ctx, "Developers", users=["alice"], policies=[READ_ONLY], inline=True)

    users = text(root_client.get("/iam/groups/developers"))  # names are case-insensitive
    assert "arn:aws:iam::111122223333:group/Developers" in users
    assert 'aria-label="Remove alice"' in users and 'aria-label="Select bob"' in users
    permissions = text(root_client.get("/iam/groups/Developers?tab=permissions"))
    assert "ReadOnlyAccess" in permissions and "inline1" in permissions and "ec2:Describe*" in permissions
    assert root_client.get("/iam/groups/Developers?tab=last_accessed").status_code == 200
    assert root_client.get("/iam/groups/Developers?tab=bogus").status_code == 200

    partial = text(
        root_client.get(
            "/iam/groups/Developers?tab=permissions", headers={"HX-Request": "true", "HX-Target": "group-tab"}
        )
    )
    assert partial.lstrip().startswith('<div id="group-tab"') and "<html" not in partial


def test_group_detail_runs_a_constant_number_of_queries(root_client, root_ctx, django_assert_num_queries):
    services.create_user(root_ctx, user_name="u0")
    make_group(root_ctx, "small", users=["u0"], policies=[READ_ONLY], inline=True)
    counts = {}
    for tab in ("users", "permissions"):
        with CaptureQueriesContext(connection) as captured:
            root_client.get(f"/iam/groups/small?tab={tab}")
        counts[tab] = len(captured)
    for i in range(1, 20):
        services.create_user(root_ctx, user_name=f"u{i}")
    make_group(root_ctx, "big", users=[f"u{i}" for i in range(20)], policies=[READ_ONLY, S3_READ], inline=True)
    policy_services.put_group_policy(root_ctx, group_name="big", policy_name="inline2", policy_document=DOC)

    for tab, count in counts.items():
        with django_assert_num_queries(count):
            root_client.get(f"/iam/groups/big?tab={tab}")


def test_group_detail_actions(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_user(root_ctx, user_name="bob")
    make_group(root_ctx, "Developers")
    url = "/iam/groups/Developers"

    response = root_client.post(url, {"action": "add_users", "users": ["alice", "bob"]})
    assert response.status_code == 302 and response["Location"] == f"{url}?tab=users"
    assert GroupMembership.objects.count() == 2
    assert root_client.post(url, {"action": "remove_user", "user_name": "bob"}).status_code == 302
    assert list(GroupMembership.objects.values_list("user__name", flat=True)) == ["alice"]

    response = root_client.post(url, {"action": "attach_policies", "policies": [READ_ONLY, S3_READ]})
    assert response.status_code == 302 and response["Location"] == f"{url}?tab=permissions"
    assert GroupPolicyAttachment.objects.count() == 2
    assert root_client.post(url, {"action": "detach_policy", "policy_arn": S3_READ}).status_code == 302
    assert list(GroupPolicyAttachment.objects.values_list("policy__arn", flat=True)) == [READ_ONLY]

    assert (
        root_client.post(url, {"action": "put_inline", "policy_name": "ec2", "policy_document": DOC}).status_code == 302
    )
    assert InlinePolicy.objects.get(group__name="Developers").name == "ec2"
    assert root_client.post(url, {"action": "delete_inline", "policy_name": "ec2"}).status_code == 302
    assert not InlinePolicy.objects.exists()
    assert "User group updated" not in text(root_client.get(url))  # each action says what it did

    picker = root_client.post(
        url,
        {"action": "filter", "policy_query": "IAMReadOnly"},
        headers={"HX-Request": "true", "HX-Target": "policy-picker"},
    )
    assert picker.status_code == 200 and "IAMReadOnlyAccess" in text(picker)


def test_group_detail_action_errors_are_shown(root_client, root_ctx):
    make_group(root_ctx, "Developers")
    url = "/iam/groups/Developers"

    bad_doc = root_client.post(
        url,
        {
            "action": "put_inline",
            "policy_name": "p",
            "policy_document": json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "Describe", "Resource": "*"}]}
            ),
        },
    )
    assert bad_doc.status_code == 400 and "flash-error" in text(bad_doc)
    assert "Actions/Conditions must be prefaced by a vendor" in text(bad_doc)
    assert not InlinePolicy.objects.exists()

    eleven = list(
        ManagedPolicy.objects.filter(account__isnull=True).order_by("name").values_list("arn", flat=True)[:11]
    )
    too_many = root_client.post(url, {"action": "attach_policies", "policies": eleven})
    assert too_many.status_code == 409 and "Cannot exceed quota for PoliciesPerGroup: 10" in text(too_many)
    assert not GroupPolicyAttachment.objects.exists()

    ghost = root_client.post(url, {"action": "add_users", "users": ["ghost"]})
    assert ghost.status_code == 404 and "The user with name ghost cannot be found." in text(ghost)


# ---- delete -------------------------------------------------------------------------------------------------------


def test_delete_group_needs_confirmation_and_removes_members_and_policies(root_client, root_ctx):
    services.create_user(root_ctx, user_name="alice")
    make_group(root_ctx, "Developers", users=["alice"], policies=[READ_ONLY], inline=True)

    page = plain(root_client.get("/iam/groups/Developers/delete"))
    assert "Delete Developers?" in page and "To confirm deletion, enter Developers in the text input field." in page
    assert root_client.post("/iam/groups/Developers/delete", {"confirm": "developers"}).status_code == 400
    assert Group.objects.exists()

    response = root_client.post("/iam/groups/Developers/delete", {"confirm": "Developers"})

    assert response.status_code == 302 and response["Location"] == "/iam/groups"
    assert not Group.objects.exists() and not GroupMembership.objects.exists()
    assert not GroupPolicyAttachment.objects.exists() and not InlinePolicy.objects.exists()
    assert IamUser.objects.filter(name="alice").exists()


# ---- isolation and bad input --------------------------------------------------------------------------------------


def _snapshot():
    return (
        sorted(Group.objects.values_list("account_id", "name")),
        sorted(GroupMembership.objects.values_list("group__name", "user__name")),
        sorted(GroupPolicyAttachment.objects.values_list("group__name", "policy__arn")),
        sorted(InlinePolicy.objects.values_list("name", "document")),
    )


GROUP_POSTS = [
    {"action": "remove_user", "user_name": "bob"},
    {"action": "add_users", "users": ["alice"]},
    {"action": "detach_policy", "policy_arn": READ_ONLY},
    {"action": "attach_policies", "policies": [S3_READ]},
    {"action": "delete_inline", "policy_name": "inline1"},
    {"action": "put_inline", "policy_name": "inline1", "policy_document": DOC},
    {"action": "filter", "policy_query": "S3"},
]


def test_other_accounts_group_is_404_on_every_url(root_client, root_ctx, other_root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_user(other_root_ctx, user_name="bob")
    make_group(other_root_ctx, "ops", users=["bob"], policies=[READ_ONLY], inline=True)
    before = _snapshot()

    for url in ("/iam/groups/ops", "/iam/groups/ops?tab=permissions", "/iam/groups/ops/delete"):
        assert root_client.get(url).status_code == 404, url
    for data in GROUP_POSTS:
        assert root_client.post("/iam/groups/ops", data).status_code == 404, data
    assert root_client.post("/iam/groups/ops/delete", {"confirm": "ops"}).status_code == 404
    assert _snapshot() == before
    assert "ops" not in listed_groups(root_client.get("/iam/groups"))


def test_other_accounts_users_and_policies_cannot_be_added(root_client, root_ctx, other_root_ctx):
    make_group(root_ctx, "Developers")
    services.create_user(other_root_ctx, user_name="bob")
    theirs = policy_services.create_policy(other_root_ctx, policy_name="theirs", policy_document=DOC)
    before = _snapshot()

    add = root_client.post("/iam/groups/Developers", {"action": "add_users", "users": ["bob"]})
    attach = root_client.post("/iam/groups/Developers", {"action": "attach_policies", "policies": [theirs.arn]})
    create = root_client.post("/iam/groups/create", {"action": "create", "group_name": "new", "users": ["bob"]})

    assert add.status_code == 404 and attach.status_code == 404 and 400 <= create.status_code < 500
    assert _snapshot() == before
    assert not re.search(r"\bbob\b", text(root_client.get("/iam/groups/Developers")))  # not "combobox"
    assert "Select theirs" not in text(
        root_client.post("/iam/groups/create", {"action": "filter", "policy_query": "theirs"})
    )


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/iam/groups/nobody", None),
        ("get", "/iam/groups/" + "g" * 5000, None),
        ("get", "/iam/groups/x%00", None),
        ("get", "/iam/groups?q=%00", None),
        ("post", "/iam/groups/create", {"action": "create"}),
        ("post", "/iam/groups/create", {"action": "create", "group_name": "g" * 100_000}),
        ("post", "/iam/groups/create", {"action": "create", "group_name": "ok", "users": ["u" * 5000]}),
        ("post", "/iam/groups/create", {"action": "create", "group_name": "ok", "policies": ["nope"]}),
        ("post", "/iam/groups/create", {"action": "create", "group_name": "a\x00b"}),
        ("post", "/iam/groups/Developers", {}),
        ("post", "/iam/groups/Developers", {"action": "explode"}),
        ("post", "/iam/groups/Developers", {"action": "remove_user"}),
        ("post", "/iam/groups/Developers", {"action": "remove_user", "user_name": "u" * 5000}),
        ("post", "/iam/groups/Developers", {"action": "add_users"}),
        ("post", "/iam/groups/Developers", {"action": "detach_policy"}),
        ("post", "/iam/groups/Developers", {"action": "detach_policy", "policy_arn": "x" * 5000}),
        ("post", "/iam/groups/Developers", {"action": "attach_policies"}),
        ("post", "/iam/groups/Developers", {"action": "attach_policies", "policies": ["arn:aws:iam::aws:policy/Nope"]}),
        ("post", "/iam/groups/Developers", {"action": "delete_inline"}),
        ("post", "/iam/groups/Developers", {"action": "put_inline"}),
        ("post", "/iam/groups/Developers", {"action": "put_inline", "policy_name": "p" * 500, "policy_document": DOC}),
        (
            "post",
            "/iam/groups/Developers",
            {"action": "put_inline", "policy_name": "p", "policy_document": "x" * 200_000},
        ),
        ("post", "/iam/groups/Developers/delete", {}),
    ],
)
def test_bad_input_is_a_4xx_never_a_500(root_client, root_ctx, method, url, data):
    make_group(root_ctx, "Developers")
    root_client.raise_request_exception = False

    response = getattr(root_client, method)(url, data) if data is not None else getattr(root_client, method)(url)

    assert 400 <= response.status_code < 500, (response.status_code, text(response)[:300])


def test_group_pages_need_sign_in(client, account):
    for url in ("/iam/groups", "/iam/groups/create", "/iam/groups/x", "/iam/groups/x/delete"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/signin")
