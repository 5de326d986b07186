"""The reads of one console page decide on one reading of the caller's policies (``core.page_reads``,
active for the console's GET requests), and a write ends the sharing: a policy change made in the same request is
seen by the next decision, and a change between two pages by the next page."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from console.services import user_principal
from core import page_reads
from core.context import CallContext
from core.errors import AccessDenied, NoSuchEntity
from identities import services
from policies import services as policy_services

pytestmark = pytest.mark.django_db


def _gatherings(queries: CaptureQueriesContext) -> int:
    # every gathering reads the organization's SCP revision (root's reads nothing else)
    return sum(1 for q in queries.captured_queries if "o.policy_revision" in q["sql"])


@pytest.fixture
def bob(root_ctx, managed_policies) -> CallContext:
    services.create_user(root_ctx, user_name="bob")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:ListUsers", "iam:AttachUserPolicy"], "Resource": "*"}],
    }
    policy_services.put_user_policy(
        root_ctx, user_name="bob", policy_name="lister", policy_document=json.dumps(document)
    )
    return CallContext(user_principal(services.find_user(root_ctx.account_id, "bob")), origin="console")


def test_a_pages_reads_share_one_gathering(bob):
    with page_reads.page_reads_shared(), CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            services.list_users(bob)
    assert _gatherings(queries) == 1

    with CaptureQueriesContext(connection) as queries:  # outside a page (the Query API, a task): one per decision
        for _ in range(3):
            services.list_users(bob)
    assert _gatherings(queries) == 3


def test_a_write_in_the_page_is_seen_by_the_next_decision(bob):
    with page_reads.page_reads_shared():
        services.list_users(bob)
        with pytest.raises(AccessDenied):
            services.get_user(bob, user_name="bob")
        policy_services.attach_user_policy(bob, user_name="bob", policy_arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        assert services.get_user(bob, user_name="bob").name == "bob"


def test_a_change_between_two_pages_is_seen_by_the_next_page(root_ctx, bob):
    with page_reads.page_reads_shared(), pytest.raises(AccessDenied):
        services.get_user(bob, user_name="bob")
    policy_services.attach_user_policy(
        root_ctx, user_name="bob", policy_arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )
    with page_reads.page_reads_shared():
        assert services.get_user(bob, user_name="bob").name == "bob"


def test_the_users_page_reads_the_callers_policies_once(root_client, bob):
    """GetUser, GetLoginProfile, ListAttachedUserPolicies, ListUserPolicies and ListGroupsForUser: five decisions,
    one gathering, and each call still recorded."""
    with CaptureQueriesContext(connection) as queries:
        response = root_client.get("/iam/users/bob")
    assert response.status_code == 200
    assert _gatherings(queries) == 1
    recorded = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT INTO audit_auditevent")]
    assert len(recorded) >= 5


def test_the_users_page_reads_the_user_once(root_client, bob):
    """Each of the page's five reads named the user twice (the ARN to decide on, then the call): one read now."""
    with CaptureQueriesContext(connection) as queries:
        response = root_client.get("/iam/users/bob")
    assert response.status_code == 200
    assert sum(1 for q in queries.captured_queries if "LOWER(u.name)" in q["sql"]) == 1


def test_a_user_changed_or_deleted_in_the_page_is_read_afresh(root_ctx):
    services.create_user(root_ctx, user_name="carol")
    with page_reads.page_reads_shared():
        assert services.get_user(root_ctx, user_name="carol").tags == []
        services.tag_user(root_ctx, user_name="carol", tags=[services.Tag("team", "blue")])
        assert services.get_user(root_ctx, user_name="carol").tags == [{"Key": "team", "Value": "blue"}]
    with page_reads.page_reads_shared():
        services.get_user(root_ctx, user_name="carol")
        services.untag_user(root_ctx, user_name="carol", tag_keys=["team"])
        services.delete_user(root_ctx, user_name="carol")
        with pytest.raises(NoSuchEntity):
            services.get_user(root_ctx, user_name="carol")
