"""Hot-path SQL as server-side prepared statements.

Django's psycopg cursors bind parameters on the client, so PostgreSQL plans every query again; for the few
queries every API call runs (the access key, the caller's policies) planning costs more than executing (about
1 ms against 0.2 ms for the policy gathering's UNION). ``fetch_prepared`` runs them on the same connection and
transaction with server-side binding, prepared once per connection, and through Django's cursor wrapper, so they
are logged and counted (``CaptureQueriesContext``, ``execute_wrapper``) like any other query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from django.db import connection


class _PreparedCursor(psycopg.Cursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):  # type: ignore[override]
        return super().execute(query, params, prepare=True, binary=binary)


Statement = tuple[str, Mapping[str, Any] | Sequence[Any]]
_prelude: ContextVar[tuple[Statement, ...]] = ContextVar("transaction_prelude", default=())


@contextmanager
def first_in_block(*statements: Statement) -> Iterator[None]:
    """Run ``statements`` just before the first statement sent inside this block, and only if one is: in the same
    round trip as the transaction's BEGIN (or as a ``fetch_all_prepared`` pipeline), so they cost no round trip of
    their own. ``iam_call`` takes the account's lock this way (``core.locks``)."""
    token = _prelude.set(statements)
    try:
        with connection.execute_wrapper(_send_prelude):
            yield
    finally:
        _prelude.reset(token)


def _send_prelude(execute, sql, params, many, context):  # noqa: ANN001, ANN202 - Django's execute_wrapper signature
    if _prelude.get():
        _execute([])  # sends the prelude, cleared there first, so this wrapper then lets its statements through
    return execute(sql, params, many, context)


def fetch_prepared(
    sql: str, params: Mapping[str, Any] | Sequence[Any], *, commit_outermost: bool = False
) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` (psycopg placeholders: ``%(name)s`` or ``%s``).

    ``commit_outermost``: ``sql`` is the last statement of the outermost ``atomic`` block, which commits with it in
    the same round trip. Django's own commit at the end of the block then finds nothing to commit. Anywhere else (a
    nested block, a test's transaction, a block marked for rollback) the block commits as usual."""
    with _cursor() as cursor:
        _execute([(cursor, (sql, params))], commit=commit_outermost and _outermost_block())
        return cursor.fetchall()


def fetch_all_prepared(
    statements: Sequence[Statement], *, commit_outermost: bool = False
) -> list[list[tuple[Any, ...]]]:
    """The rows of each statement, all sent in one round trip (with ``commit_outermost``, as ``fetch_prepared``).
    If one fails, the ones after it do not run and the error is raised (the transaction must then roll back)."""
    with ExitStack() as stack:
        cursors = [stack.enter_context(_cursor()) for _ in statements]
        _execute(list(zip(cursors, statements, strict=True)), commit=commit_outermost and _outermost_block())
        return [cursor.fetchall() for cursor in cursors]


def execute_prepared(sql: str, params: Mapping[str, Any] | Sequence[Any]) -> int:
    """Run a statement that returns no rows (``DELETE``, ``UPDATE``); the number of rows it changed."""
    with _cursor() as cursor:
        _execute([(cursor, (sql, params))])
        return cursor.rowcount


def _execute(work: list[tuple[Any, Statement]], *, commit: bool = False) -> None:
    """Run the statements; as the first ones of an ``atomic`` block, with its BEGIN, and with ``commit``, with a
    COMMIT after them: one round trip whenever there is more than one command (psycopg's pipeline: the commands,
    then one Sync).

    psycopg begins a transaction lazily and waits for its BEGIN before sending the statement. To send both at once
    the BEGIN is ours, with psycopg's own autocommit flag on so that it sends none; psycopg cannot turn the flag
    off inside a transaction, so it stays on until Django ends the block (Django keeps its own flag, and psycopg's
    commit and rollback do not depend on it; Django turns autocommit back on at the end of the block anyway)."""
    from psycopg.pq import TransactionStatus

    prelude = _prelude.get()
    if prelude:  # ``first_in_block``'s statements go first, in the same round trip
        _prelude.set(())
        with ExitStack() as stack:
            first = [(stack.enter_context(_cursor()), statement) for statement in prelude]
            return _execute([*first, *work], commit=commit)
    raw = connection.connection
    status = raw.info.transaction_status
    begin = (
        connection.in_atomic_block
        and not raw.autocommit
        and raw.isolation_level is None
        and raw.read_only is None
        and status == TransactionStatus.IDLE
    )
    commit = commit and (begin or status == TransactionStatus.INTRANS)
    if not (begin or commit) and len(work) == 1:
        cursor, (sql, params) = work[0]
        cursor.execute(sql, params)
        return
    # An error of any command surfaces when the pipeline ends: converted to Django's classes there, as
    # cursor.execute would, so callers still catch IntegrityError.
    with connection.wrap_database_errors:
        if begin:
            raw.autocommit = True
        with raw.pipeline():
            if begin:
                raw.execute("BEGIN")
            for cursor, (sql, params) in work:
                cursor.execute(sql, params)
            if commit:
                raw.execute("COMMIT")


def _outermost_block() -> bool:
    """Inside exactly one ``atomic`` block (no test transaction around it, no savepoint), not marked for rollback."""
    return (
        connection.in_atomic_block
        and len(connection.atomic_blocks) == 1
        and not connection.savepoint_ids
        and not connection.needs_rollback
    )


def _cursor() -> Any:
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        # Django turns preparation off for the connection (None); a threshold no query reaches turns it back on
        # for explicit ``prepare=True`` only. Django's own client-binding cursors never prepare either way.
        connection.connection.prepare_threshold = 2**31 - 1
    raw = _PreparedCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
