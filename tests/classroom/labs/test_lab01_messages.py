"""Lab 1's least-privilege check tells a student whose alice has no permissions at all to give her some, and one
whose alice is in a group that grants nothing useful that she still cannot read the bucket."""

from __future__ import annotations

from classroom.labs import lab01_first_user
from classroom.labs.facts import AccountFacts
from identities import services


def test_alice_with_no_permissions_is_not_yet_and_in_an_empty_group_is_failed(root_ctx, account, managed_policies):
    services.create_user(root_ctx, user_name="alice")
    outcome = lab01_first_user.least_privilege(AccountFacts(account.id))
    assert outcome.pending and "no permissions yet" in outcome.message
    services.create_group(root_ctx, group_name="empty")
    services.add_user_to_group(root_ctx, group_name="empty", user_name="alice")
    outcome = lab01_first_user.least_privilege(AccountFacts(account.id))
    assert not outcome.passed and not outcome.pending and "cannot read team-bucket" in outcome.message
