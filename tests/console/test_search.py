"""The top bar's unified search (issue 15): IAM's pages and this account's users, groups, roles and policies, each
kind read through its own List service, so what a caller may not list is not shown, and never another account's."""

from __future__ import annotations

import json
import re

import pytest

from audit.models import AuditEvent
from identities import services
from policies import services as policy_services

pytestmark = pytest.mark.django_db

PASSWORD = "Plain-Passw0rd!"


def names(response) -> list[str]:
    from html.parser import HTMLParser

    found: list[str] = []

    class Options(HTMLParser):
        inside = False

        def handle_starttag(self, tag, attrs):
            self.inside = self.inside or (tag == "span" and ("class", "search-option-name") in attrs)

        def handle_data(self, data):
            if self.inside:
                found.append(data)
                self.inside = False

    Options().feed(response.content.decode())
    return found


def test_search_finds_pages_and_this_accounts_resources_only(root_client, root_ctx, other_root_ctx):
    services.create_user(root_ctx, user_name="alice")
    services.create_group(root_ctx, group_name="alice-team")
    policy_services.create_policy(
        root_ctx,
        policy_name="AliceS3",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    services.create_user(other_root_ctx, user_name="alien")  # another tenant's user

    response = root_client.get("/search", {"q": "ALIC"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert names(response) == ["alice", "alice-team", "AliceS3"]
    assert 'href="/iam/users/alice"' in response.content.decode()

    pages = names(root_client.get("/search", {"q": "account"}, HTTP_HX_REQUEST="true"))
    assert pages[0] == "Account settings"
    assert "No results for" in root_client.get("/search", {"q": "zzz-nothing"}).content.decode()
    # Every kind was read through its own List service, recorded like any other call.
    listed = set(AuditEvent.objects.filter(account_id=root_ctx.account_id).values_list("event_name", flat=True))
    assert {"ListUsers", "ListGroups", "ListRoles", "ListPolicies"} <= listed


def test_a_user_who_may_not_list_users_does_not_find_them(client, account, root_ctx, managed_policies):
    from identities import roles

    services.create_user(root_ctx, user_name="alice")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    roles.create_role(root_ctx, role_name="app-runner", assume_role_policy_document=json.dumps(trust))
    services.create_user(root_ctx, user_name="rolereader")
    services.create_login_profile(root_ctx, user_name="rolereader", password=PASSWORD)
    policy_services.put_user_policy(
        root_ctx,
        user_name="rolereader",
        policy_name="ListRolesOnly",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}
        ),
    )
    response = client.post(
        f"/signin/{account.id}", {"account": account.id, "username": "rolereader", "password": PASSWORD}
    )
    assert response.status_code == 302
    response = client.get("/search", {"q": "a"}, HTTP_HX_REQUEST="true")
    assert "app-runner" in names(response)  # ListRoles allowed
    assert "alice" not in names(response)  # ListUsers refused: the Users section is left out
    assert not re.search(r'class="search-section-title"[^>]*>Users<', response.content.decode())
    # the pages are navigation, shown to everyone
    assert names(client.get("/search", {"q": "settings"}, HTTP_HX_REQUEST="true")) == ["Account settings"]


def test_search_needs_a_signed_in_session(client, account):
    response = client.get("/search", {"q": "alice"})
    assert response.status_code == 302 and response["Location"].startswith("/signin")


def test_a_long_or_odd_query_is_answered(root_client):
    assert root_client.get("/search", {"q": "%_\\'\"<script>" * 40}).status_code == 200
    assert root_client.get("/search").status_code == 200
