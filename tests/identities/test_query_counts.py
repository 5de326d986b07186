"""Query counts of the console's list and detail pages do not grow with the account (issue 2).

Each page is measured with one fully equipped user (2 groups, a console password, 3 attached managed policies, one
inline policy), then again after 39 more such users: the count must be exactly the same. The policies list is
measured over the whole AWS managed catalog, plus customer managed policies attached to every user.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from identities import services
from policies import services as policy_services

ACCOUNT_PREFIX = "arn:aws:iam::111122223333:policy/"
AWS_POLICIES = ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonEC2FullAccess")
DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "arn:aws:s3:::reports/*"}
        ],
    }
)
GROUPS = ("developers", "testers", "operators", "auditors")
USER_TABS = ("permissions", "groups", "tags", "security_credentials", "effective", "last_accessed")
LIST_URLS = (
    "/iam/users",
    "/iam/users?size=50",
    "/iam/users?q=user",
    "/iam/users?sort=-created",
    "/iam/policies",
    "/iam/policies?type=aws",
    "/iam/policies?type=customer",
    "/iam/policies?q=S3",
    "/iam/policies?type=job",
)


def make_groups(ctx) -> None:
    for i, name in enumerate(GROUPS):
        services.create_group(ctx, group_name=name)
        policy_services.attach_group_policy(ctx, group_name=name, policy_arn=AWS_POLICIES[i % 2])


def make_users(ctx, start: int, stop: int) -> None:
    """Users ``user00``… each with 2 groups, a login profile, 3 attached policies (2 AWS, 1 own) and 1 inline."""
    for i in range(start, stop):
        name = f"user{i:02d}"
        services.create_user(ctx, user_name=name)
        services.create_login_profile(ctx, user_name=name, password="Corr3ct-Horse!", password_reset_required=True)
        for group in (GROUPS[i % 4], GROUPS[(i + 1) % 4]):
            services.add_user_to_group(ctx, group_name=group, user_name=name)
        policy_services.create_policy(ctx, policy_name=f"reports-{name}", policy_document=DOC)
        for arn in (*AWS_POLICIES, f"{ACCOUNT_PREFIX}reports-{name}"):
            policy_services.attach_user_policy(ctx, user_name=name, policy_arn=arn)
        policy_services.put_user_policy(ctx, user_name=name, policy_name="own-reports", policy_document=DOC)


def count_queries(client, urls, headers=None) -> dict[str, int]:
    counts = {}
    for url in urls:
        client.get(url, headers=headers)  # warm-up: per-process caches (action catalog, parsed documents) don't count
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        counts[url] = len(captured)
    return counts


@pytest.fixture
def one_user(root_ctx):
    make_groups(root_ctx)
    make_users(root_ctx, 0, 1)


def test_list_pages_run_the_same_queries_for_1_and_40_users(root_client, root_ctx, one_user, django_assert_num_queries):
    small = count_queries(root_client, LIST_URLS)
    make_users(root_ctx, 1, 40)
    assert count_queries(root_client, LIST_URLS) == small
    for url in LIST_URLS:
        with django_assert_num_queries(small[url], info=url):
            root_client.get(url)
    body = root_client.get("/iam/users?size=50").content.decode()
    assert body.count('<td><a href="/iam/users/user') == 40


def test_user_detail_tabs_run_the_same_queries_for_1_and_40_users(
    root_client, root_ctx, one_user, django_assert_num_queries
):
    urls = [f"/iam/users/user00?tab={tab}" for tab in USER_TABS]
    htmx = {"HX-Request": "true", "HX-Target": "user-tab"}  # a tab click swaps only the tab's partial
    small, small_partials = count_queries(root_client, urls), count_queries(root_client, urls, htmx)
    make_users(root_ctx, 1, 40)
    assert count_queries(root_client, urls) == small
    assert count_queries(root_client, urls, htmx) == small_partials
    for url in urls:
        with django_assert_num_queries(small[url], info=url):
            root_client.get(url)
    # the user's own page lists what it should, so the counts above are of a fully rendered page
    permissions = root_client.get(urls[0]).content.decode()
    for name in ("AmazonS3ReadOnlyAccess", "AmazonEC2FullAccess", "reports-user00", "own-reports"):
        assert name in permissions
    groups = root_client.get(urls[1]).content.decode()
    assert "developers" in groups and "testers" in groups
