"""The users list's Groups column and sort, and its deep pages (issue 16 §3). The count is stored on the user
(``IamUser.group_count``) and kept by AddUserToGroup / RemoveUserFromGroup, so sorting by it counts no membership;
a deep page picks its rows' keys first. Both must show exactly what counting and offsetting would."""

from __future__ import annotations

import pytest

from core.errors import IamError
from identities import services
from identities.models import GroupMembership, IamUser
from tests.identities.test_user_pages import listed_users


def counted(account_id: str) -> dict[str, int]:
    """Each user's groups, counted from the memberships themselves."""
    users = IamUser.objects.filter(account_id=account_id)
    return {u.name: GroupMembership.objects.filter(user=u).count() for u in users}


def stored(account_id: str) -> dict[str, int]:
    return dict(IamUser.objects.filter(account_id=account_id).values_list("name", "group_count"))


@pytest.fixture
def team(root_ctx):
    for g in range(3):
        services.create_group(root_ctx, group_name=f"g{g}")
    for i in range(12):
        services.create_user(root_ctx, user_name=f"u{i:02d}")
        for g in range(i % 4):
            services.add_user_to_group(root_ctx, group_name=f"g{g}", user_name=f"u{i:02d}")
    return root_ctx


def test_the_stored_count_follows_adds_and_removes(team, account):
    assert stored(account.id) == counted(account.id)
    services.add_user_to_group(team, group_name="g0", user_name="u01")  # already a member: AWS says yes, no change
    services.remove_user_from_group(team, group_name="g2", user_name="u03")
    services.add_user_to_group(team, group_name="g2", user_name="u00")
    with pytest.raises(IamError):
        services.remove_user_from_group(team, group_name="g2", user_name="u03")  # no longer a member
    assert stored(account.id) == counted(account.id)
    assert stored(account.id)["u03"] == 2 and stored(account.id)["u00"] == 1


def test_a_denied_add_changes_no_count(team, account, other_root_ctx):
    with pytest.raises(IamError):
        services.add_user_to_group(other_root_ctx, group_name="g0", user_name="u00")  # not in that account
    assert stored(account.id) == counted(account.id)


def test_sorting_by_groups_shows_the_counted_order_on_every_page(root_client, team, account):
    counts = counted(account.id)
    pks = dict(IamUser.objects.filter(account_id=account.id).values_list("name", "pk"))
    ascending = sorted(counts, key=lambda n: (counts[n], pks[n]))
    descending = sorted(counts, key=lambda n: (-counts[n], -pks[n]))  # ties reversed too
    for sort, expected in (("groups", ascending), ("-groups", descending)):
        pages = [listed_users(root_client.get(f"/iam/users?sort={sort}&size=10&page={p}")) for p in (1, 2)]
        assert pages[0] + pages[1] == expected, sort


def test_deep_pages_are_the_offset_pages(root_client, team, account):
    names = sorted(counted(account.id))
    for sort, order in (("name", names), ("-name", names[::-1])):
        for page in (1, 2):
            listed = listed_users(root_client.get(f"/iam/users?sort={sort}&size=10&page={page}"))
            assert listed == order[(page - 1) * 10 : page * 10], (sort, page)
