"""Hot-path SQL, hand-written, with server-side binding and prepared statements through supported APIs only.

The project's database settings turn on Django's documented ``server_side_binding`` option, and psycopg prepares
a statement on the server once it has run ``prepare_threshold`` times on a connection (``DB_PREPARE_THRESHOLD``;
``DB_PREPARED_STATEMENTS=false`` turns preparation off, as PgBouncer in transaction mode needs). For the few
queries every API call runs (the access key, the caller's policies) planning costs more than executing (about
1 ms against 0.2 ms for the policy gathering's ``UNION ALL``), so preparing them matters.

The statements run through Django's own cursors (``connection.cursor()``), so they are logged and counted
(``CaptureQueriesContext``, ``execute_wrapper``) and their errors are Django's, like any other query. Several
statements, or the first statement of a transaction (psycopg's own ``BEGIN`` goes with it), are sent in one round
trip with psycopg's pipeline mode. Transactions are Django's: nothing here begins or commits one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection
from psycopg.pq import TransactionStatus

Statement = tuple[str, Mapping[str, Any] | Sequence[Any]]
_prelude: ContextVar[tuple[Statement, ...]] = ContextVar("transaction_prelude", default=())


@contextmanager
def first_in_block(*statements: Statement) -> Iterator[None]:
    """Run ``statements`` just before the first statement sent inside this block, and only if one is: in the same
    pipeline as a ``fetch_all_prepared`` batch (with psycopg's BEGIN), or just before an ORM statement. ``iam_call``
    takes the account's lock this way (``core.locks``)."""
    token = _prelude.set(statements)
    try:
        with connection.execute_wrapper(_send_prelude):
            yield
    finally:
        _prelude.reset(token)


def _take_prelude() -> tuple[Statement, ...]:
    prelude = _prelude.get()
    if prelude:
        _prelude.set(())
    return prelude


def _send_prelude(execute, sql, params, many, context):  # noqa: ANN001, ANN202 - Django's execute_wrapper signature
    prelude = _take_prelude()
    if prelude:
        fetch_all_prepared(prelude)
    return execute(sql, params, many, context)


def fetch_prepared(sql: str, params: Mapping[str, Any] | Sequence[Any]) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` (psycopg placeholders: ``%(name)s`` or ``%s``)."""
    return fetch_all_prepared([(sql, params)])[0]


def fetch_all_prepared(statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """The rows of each statement, all sent in one round trip. If one fails, the ones after it do not run and the
    error is raised as Django's (the transaction must then roll back)."""
    count = len(statements)
    statements = [*_take_prelude(), *statements]  # ``first_in_block``'s statements go first, in the same round trip
    with ExitStack() as stack:
        cursors = [stack.enter_context(connection.cursor()) for _ in statements]
        raw = connection.connection
        if len(statements) == 1 and (raw.autocommit or raw.info.transaction_status != TransactionStatus.IDLE):
            (sql, params), cursor = statements[0], cursors[0]
            cursor.execute(sql, params)
            return [cursor.fetchall()]
        with raw.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
            # The results are read inside the pipeline, through Django's cursor wrapper: an error of any statement
            # surfaces here as Django's exception class (IntegrityError for a taken name).
            rows = [cursor.fetchall() for cursor in cursors]
    return rows[len(rows) - count :]


def instance_from_row(model: Any, values: Sequence[Any]) -> Any:
    """A ``model`` instance from its concrete fields' column values, converted as the ORM converts them (JSON text
    → objects), built with the documented ``Model.from_db``."""
    fields = model._meta.concrete_fields
    converted = [
        f.from_db_value(v, None, connection) if v is not None and hasattr(f, "from_db_value") else v
        for f, v in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


_SELECTS: dict[tuple[Any, str], str] = {}


def first_instance(model: Any, where: str, params: Mapping[str, Any] | Sequence[Any]) -> Any:
    """The first ``model`` row matching ``where`` (SQL with psycopg placeholders) as an instance, or None: what
    ``Model.objects.filter(…).first()`` gives, for the reads every console request or S3 call makes (the caller's
    account and user, the lab panel's row, the bucket), as a prepared statement without the ORM's per-query
    compilation (about 0.1 ms of CPU against 0.3 ms)."""
    sql = _SELECTS.get((model, where))
    if sql is None:
        columns = ", ".join(f.column for f in model._meta.concrete_fields)
        sql = _SELECTS[(model, where)] = f"SELECT {columns} FROM {model._meta.db_table} WHERE {where} LIMIT 1"
    rows = fetch_prepared(sql, params)
    return instance_from_row(model, rows[0]) if rows else None
