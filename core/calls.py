"""``iam_call``: the one wrapper every public service function runs inside.

authorize → mutate in one durable transaction → write the audit row in that same transaction. A failure of any
kind is audited after the rollback, so denials and errors are history too.

``core`` imports no app: the authorizer (``policies.authz.authorize``, the engine) and the recorder
(``audit.services.record_event``) are registered here at start-up by their apps' ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import IntegrityError, connection, transaction
from psycopg.pq import TransactionStatus

from core import locks, page_reads
from core.context import CallContext
from core.db import fetch_all_prepared, first_in_block
from core.errors import IamError

# CloudTrail's readOnly: an event whose name starts with one of these changes nothing.
READ_PREFIXES = ("Get", "List", "Describe", "Simulate", "Generate", "Lookup", "Head")


def is_read_only(event_name: str) -> bool:
    return event_name.startswith(READ_PREFIXES)


@dataclass(frozen=True)
class ResourceOwner:
    """Who owns a resource whose ARN names no account (an S3 bucket or object), and its resource-based policy.

    ``policy`` is the JSON text ("" for none); ``revision`` names this text for the authorizer's parse cache (the
    bucket's id and the policy's update time), ``label`` is how a decision names it."""

    account_id: str
    policy: str = ""
    revision: tuple[Any, ...] = ()
    label: str = ""


class Authorizer(Protocol):
    """Decides ``action`` on ``resource`` for the caller; raises ``AccessDenied``, returns the engine's Decision."""

    def __call__(
        self,
        ctx: CallContext,
        action: str,
        resource: str,
        condition_context: Mapping[str, Any],
        owner: ResourceOwner | None = None,
    ) -> Any: ...


class Recorder(Protocol):
    """Writes the call's audit record (in the current transaction, if any); returns its row id."""

    def __call__(self, call: Call) -> int: ...


@dataclass
class _Hooks:
    authorizer: Authorizer | None = None
    recorder: Recorder | None = None


_hooks = _Hooks()


def register(*, authorizer: Authorizer | None = None, recorder: Recorder | None = None) -> None:
    """Called by ``AppConfig.ready``: ``policies`` registers the authorizer, ``audit`` the recorder."""
    if authorizer is not None:
        _hooks.authorizer = authorizer
    if recorder is not None:
        _hooks.recorder = recorder


def authorize(
    ctx: CallContext,
    action: str,
    resource: str,
    condition_context: Mapping[str, Any],
    owner: ResourceOwner | None = None,
) -> Any:
    """The registered authorizer: for a service that must decide a second resource inside its call (UpdateGroup's
    new ARN, CopyObject's source object)."""
    if _hooks.authorizer is None:
        raise RuntimeError("no authorizer registered (the policies app is not installed or not ready)")
    if owner is None:
        return _hooks.authorizer(ctx, action, resource, condition_context)
    return _hooks.authorizer(ctx, action, resource, condition_context, owner)


def record_event(call: Call) -> int:
    if _hooks.recorder is None:
        raise RuntimeError("no audit recorder registered (the audit app is not installed or not ready)")
    return _hooks.recorder(call)


@dataclass
class Call:
    ctx: CallContext
    action: str  # "iam:CreateUser"
    resource: str  # the ARN authorized against
    params: dict[str, Any]  # CloudTrail requestParameters (lowerCamelCase, never secrets)
    response: dict[str, Any] | None = None  # CloudTrail responseElements (never secrets)
    error: IamError | None = None
    decision: Any = None  # the engine's Decision
    on_conflict: IamError | None = None  # what a unique-constraint race means for this call
    event_name_override: str | None = None
    data_event: bool = False  # CloudTrail's data events (S3 object operations): eventCategory "Data"
    # The account that owns the resource when it is not the caller's (a cross-account S3 call): CloudTrail delivers
    # a data event to the bucket owner too.
    owner_account: str = ""
    resources: list[dict[str, str]] = field(default_factory=list)
    # Statements whose outcome the response does not wait for (CreateUser's INSERT, DeleteUser's DELETE: the answer
    # is known before they run): sent at the end of the call with its audit row and COMMIT, in one round trip. A
    # failure of one still fails the call, after the rollback, like a failure of any statement.
    deferred: list[tuple[str, Any, Callable[[list[tuple[Any, ...]]], None]]] = field(default_factory=list)

    own_transaction: bool = True  # False inside ``batch`` or ``inside_transaction``: the caller's transaction

    # What undoes the call's effects outside the database (S3's new body files) when its transaction rolls back.
    undo: list[Callable[[], None]] = field(default_factory=list)

    def defer(self, sql: str, params: Any, on_rows: Callable[[list[tuple[Any, ...]]], None]) -> None:
        self.deferred.append((sql, params, on_rows))

    def on_rollback(self, func: Callable[[], None]) -> None:
        """Run ``func`` if the call's changes do not commit: the call fails, or the batch or the caller's
        transaction it runs inside (``batch``, ``inside_transaction``) fails after it. Never after a commit."""
        self.undo.append(func)

    @property
    def service(self) -> str:
        return self.action.split(":", 1)[0]

    @property
    def event_name(self) -> str:
        return self.event_name_override or self.action.split(":", 1)[1]


class _Batch:
    """Several console-driven calls that succeed or fail together (e.g. the Create user wizard)."""

    def __init__(self) -> None:
        self.failed: Call | None = None
        self.undo: list[Callable[[], None]] = []  # Call.on_rollback's, run when the batch fails


_batch: ContextVar[_Batch | None] = ContextVar("iam_call_batch", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Run several public services in one transaction: all of them happen, or none does.

    Each call still authorizes and audits itself; a failure's audit record is written after the whole batch has
    rolled back, so the trail never shows a change that did not happen.
    """
    state = _Batch()
    token = _batch.set(state)
    try:
        with transaction.atomic(durable=True):
            yield
    except BaseException:
        _undo(state.undo)
        raise
    finally:
        _batch.reset(token)
        if state.failed is not None:
            record_event(state.failed)


@contextmanager
def inside_transaction() -> Iterator[None]:
    """Public services called from inside a transaction the caller already holds (a reset building a lab's
    starting state): each call still authorizes and audits itself, none opens its own durable transaction, and a
    failure propagates so the caller's whole transaction rolls back."""
    state = _Batch()
    token = _batch.set(state)
    try:
        yield
    except BaseException:
        _undo(state.undo)  # the failure propagates: the caller's transaction rolls back
        raise
    finally:
        _batch.reset(token)


def _undo(undo: list[Callable[[], None]]) -> None:
    while undo:
        undo.pop()()


def _record_failure(call: Call) -> None:
    state = _batch.get()
    if state is not None:
        state.failed = call  # recorded once the batch's transaction has rolled back
    else:
        record_event(call)


def run_deferred(call: Call, *, then: tuple[str, Any] | None = None) -> list[tuple[Any, ...]] | None:
    """Send the call's deferred statements (and ``then``, its audit row) in one round trip; the rows of ``then``."""
    statements = [(sql, params) for sql, params, _ in call.deferred] + ([then] if then else [])
    results = fetch_all_prepared(statements)
    for (_, _, on_rows), rows in zip(call.deferred, results, strict=False):
        on_rows(rows)
    call.deferred.clear()
    return results[-1] if then else None


def _nothing_sent() -> bool:
    """Whether the current transaction has sent nothing to PostgreSQL yet (psycopg begins a transaction lazily,
    with its first statement, and commits an untouched one without a round trip)."""
    raw = connection.connection
    return raw is not None and raw.info.transaction_status == TransactionStatus.IDLE


def _account_lock(ctx: CallContext, event_name: str, resource: str):  # noqa: ANN202 - a context manager
    """A call that changes its account takes the account's lock (``core.locks``) before anything else, with its
    transaction's BEGIN (no round trip of its own); a read takes none. A call on another account's resource (a
    cross-account AssumeRole) takes that account's lock too: a reset of it cannot come between the call's read of
    the role and its insert of the session."""
    if is_read_only(event_name) or not ctx.account_id:
        return nullcontext()
    accounts = {ctx.account_id}
    owner = resource.split(":")[4] if resource.count(":") >= 5 else ""
    if len(owner) == 12 and owner.isdigit():
        accounts.add(owner)
    return first_in_block(*[(locks.SHARED, [account_id]) for account_id in sorted(accounts)])


@contextmanager
def iam_call(
    ctx: CallContext,
    action: str,
    resource: str,
    params: Mapping[str, Any] | None = None,
    *,
    condition_context: Mapping[str, Any] | None = None,
    audited: bool = True,
    validate: Callable[[], None] | None = None,
    errors: Callable[[IamError], IamError] | None = None,
    owner: ResourceOwner | None = None,
    event_name: str | None = None,
    data_event: bool = False,
) -> Iterator[Call]:
    """``errors``: how the service answers an error in its own terms (EC2 answers a denial with
    ``UnauthorizedOperation``); the call is recorded, and raises, with what it returns. ``owner``: the owner and
    resource-based policy of a resource whose ARN names no account (S3); ``event_name``: the operation, when its
    action is another's (HeadObject is decided as s3:GetObject)."""
    call = Call(ctx, action, resource, {k: v for k, v in (params or {}).items() if v is not None})
    call.event_name_override = event_name
    call.data_event = data_event
    if owner is not None and owner.account_id and owner.account_id != ctx.account_id:
        call.owner_account = owner.account_id
    durable = _batch.get() is None
    call.own_transaction = durable
    committed = False
    try:
        if validate is not None:
            validate()  # AWS checks the request's shape (ValidationError) before it authorizes
        if not is_read_only(call.event_name):
            page_reads.stop_sharing()  # this call's decision and every later read of the request read afresh
        call.decision = authorize(ctx, action, resource, condition_context or {}, owner)
        with _account_lock(ctx, call.event_name, resource), transaction.atomic(durable=durable):
            yield call
            # A call that sent no statement (GetUser answers from the row it authorized against, ListUsers from a
            # lazy queryset) has nothing its audit row must commit with: the row is then its own one-statement
            # transaction, one round trip instead of BEGIN, INSERT and COMMIT. Anything else writes it here, in
            # the call's transaction (with the call's deferred statements, in one round trip).
            alone = audited and durable and not call.deferred and _nothing_sent()
            if audited and not alone:
                record_event(call)
            elif call.deferred:
                run_deferred(call)
        committed = True  # or, in a batch, the call's savepoint released: the batch's failure undoes it then
        state = _batch.get()
        if state is not None:
            state.undo.extend(call.undo)
        if alone:
            record_event(call)
    except IamError as exc:
        if not committed:
            _undo(call.undo)
        answered = errors(exc) if errors is not None else exc
        call.error = answered
        call.deferred.clear()
        _record_failure(call)
        if answered is exc:
            raise
        raise answered from exc
    except IntegrityError:
        # A concurrent create of the same name lost the race to the database's unique index.
        if not committed:
            _undo(call.undo)
        call.deferred.clear()
        if call.on_conflict is None:
            raise
        call.error = call.on_conflict
        _record_failure(call)
        raise call.on_conflict from None
    except BaseException:
        if not committed:
            _undo(call.undo)
        raise
