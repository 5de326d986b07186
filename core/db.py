"""Hot-path SQL as server-side prepared statements.

Django's psycopg cursors bind parameters on the client, so PostgreSQL plans every query again; for the few
queries every API call runs (the access key, the caller's policies) planning costs more than executing (about
1 ms against 0.2 ms for the policy gathering's UNION). ``fetch_prepared`` runs them on the same connection and
transaction with server-side binding, prepared once per connection, and through Django's cursor wrapper, so they
are logged and counted (``CaptureQueriesContext``, ``execute_wrapper``) like any other query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection


class _PreparedCursor(psycopg.Cursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):  # type: ignore[override]
        return super().execute(query, params, prepare=True, binary=binary)


def fetch_prepared(sql: str, params: Mapping[str, Any] | Sequence[Any], *,
                   commit_outermost: bool = False) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` (psycopg placeholders: ``%(name)s`` or ``%s``).

    ``commit_outermost``: ``sql`` is the last statement of the outermost ``atomic`` block, which commits with it in
    the same round trip (psycopg's pipeline: the statement, COMMIT and one Sync). Django's own commit at the end of
    the block then finds nothing to commit. Anywhere else (a nested block, a test's transaction, a block marked for
    rollback) the statement runs as usual and the block commits as usual."""
    with _cursor() as cursor:
        if commit_outermost and _outermost_open_transaction():
            raw = connection.connection
            # An error of either command surfaces when the pipeline ends: converted to Django's classes there,
            # as cursor.execute would, so callers still catch IntegrityError.
            with connection.wrap_database_errors, raw.pipeline():
                cursor.execute(sql, params)
                raw.execute("COMMIT")
        else:
            cursor.execute(sql, params)
        return cursor.fetchall()


def _outermost_open_transaction() -> bool:
    """Inside exactly one ``atomic`` block (no test transaction around it, no savepoint), not marked for rollback,
    with a transaction PostgreSQL has begun."""
    from psycopg.pq import TransactionStatus

    raw = connection.connection
    return (connection.in_atomic_block and len(connection.atomic_blocks) == 1 and not connection.savepoint_ids
            and not connection.needs_rollback and raw is not None
            and raw.info.transaction_status == TransactionStatus.INTRANS)


def execute_prepared(sql: str, params: Mapping[str, Any] | Sequence[Any]) -> int:
    """Run a statement that returns no rows (``DELETE``, ``UPDATE``); the number of rows it changed."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _cursor() -> Any:
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        # Django turns preparation off for the connection (None); a threshold no query reaches turns it back on
        # for explicit ``prepare=True`` only. Django's own client-binding cursors never prepare either way.
        connection.connection.prepare_threshold = 2**31 - 1
    raw = _PreparedCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
