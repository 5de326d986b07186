"""The account lock: one lock order for everything that changes an account's rows, so that calls, audit delivery
and resets never deadlock (issue 12 §7).

A call that changes an account, and audit delivery, hold the account's lock *shared* for their whole transaction,
taken before any row; a reset holds it *exclusive*, taken before it deletes anything. So a reset waits for the calls
and deliveries in flight, new ones wait for the reset, and no transaction ever holds half of the rows the other
needs. Several accounts are always locked in id order.

It is a transaction-level advisory lock, not a lock of the account's row: PostgreSQL queues advisory lock requests
fairly (a new shared request waits behind a waiting exclusive one), whereas ``FOR KEY SHARE`` lockers of a row
arriving one after another starve a ``FOR UPDATE`` waiter: resets under load made almost no progress.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

_KEY = "hashtextextended('iam-account:' || %s, 0)"
SHARED = f"SELECT pg_advisory_xact_lock_shared({_KEY})"
EXCLUSIVE = f"SELECT pg_advisory_xact_lock({_KEY})"


def lock_accounts(account_ids: Iterable[str], *, exclusive: bool) -> None:
    """Take the accounts' locks until the end of the current transaction (in id order)."""
    with connection.cursor() as cursor:
        for account_id in sorted(set(account_ids)):
            cursor.execute(EXCLUSIVE if exclusive else SHARED, [account_id])
