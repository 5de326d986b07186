"""Writing CloudTrail records for every call (reference §5)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from audit.models import AuditEvent
from audit.tasks import deliver_event
from core import clock
from core.calls import Call, is_read_only, run_deferred
from core.context import CallContext, Principal
from core.db import fetch_prepared
from identities.models import IamUser, Role
from policies.authz import explain
from policies.engine.evaluate import Decision

logger = logging.getLogger(__name__)
EVENT_VERSION = "1.11"
REGION = "us-east-1"
_RESOURCE_TYPES = {
    "user": "AWS::IAM::User",
    "group": "AWS::IAM::Group",
    "role": "AWS::IAM::Role",
    "policy": "AWS::IAM::Policy",
    "instance-profile": "AWS::IAM::InstanceProfile",
    "mfa": "AWS::IAM::MFADevice",
    "instance": "AWS::EC2::Instance",
    "server-certificate": "AWS::IAM::ServerCertificate",
}


def user_identity(principal: Principal, access_key_id: str = "") -> dict[str, Any]:
    if principal.type in ("WebIdentityUser", "SAMLUser"):  # AssumeRoleWith* callers (sts/federation.py)
        provider = (
            principal.arn
            if principal.type == "WebIdentityUser"
            else principal.principal_id.removesuffix(f":{principal.name}")
        )  # SAML: the NameQualifier
        return {
            "type": principal.type,
            "principalId": principal.principal_id,
            "userName": principal.name,
            "identityProvider": provider,
        }
    if principal.type == "AWSService":  # EC2 assuming an instance's role
        return {"type": "AWSService", "invokedBy": principal.arn}
    identity: dict[str, Any] = {
        "type": principal.type,
        "principalId": principal.principal_id,
        "arn": principal.arn,
        "accountId": principal.account_id,
        "accessKeyId": access_key_id,
    }
    if principal.type == "IAMUser":
        identity["userName"] = principal.name
    if principal.type == "AssumedRole":
        identity["sessionContext"] = _session_context(principal)
    if principal.type == "FederatedUser":
        identity["sessionContext"] = _federated_context(principal)
    return identity


def _federated_context(principal: Principal) -> dict[str, Any]:
    """CloudTrail's sessionContext of a GetFederationToken session: the IAM user (or root) who issued it."""
    user = IamUser.objects.filter(pk=principal.user_pk).values("arn", "user_id", "name").first()
    issuer = (
        {"type": "IAMUser", "principalId": user["user_id"], "arn": user["arn"], "userName": user["name"]}
        if user
        else {"type": "Root", "principalId": principal.account_id, "arn": f"arn:aws:iam::{principal.account_id}:root"}
    )
    issued = principal.token_issued_at
    return {
        "sessionIssuer": {**issuer, "accountId": principal.account_id},
        "attributes": {
            "creationDate": issued.strftime("%Y-%m-%dT%H:%M:%SZ") if issued else "",
            "mfaAuthenticated": "false",
        },
    }


def _session_context(principal: Principal) -> dict[str, Any]:
    """CloudTrail's sessionContext of a role session: the issuing role and the session's attributes."""
    role = Role.objects.filter(pk=principal.role_pk).values("arn", "role_id", "name", "account_id").first() or {}
    issued = principal.token_issued_at
    return {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role.get("role_id", ""),
            "arn": role.get("arn", ""),
            "accountId": role.get("account_id", principal.account_id),
            "userName": role.get("name", ""),
        },
        "attributes": {
            "creationDate": issued.strftime("%Y-%m-%dT%H:%M:%SZ") if issued else "",
            "mfaAuthenticated": "true" if principal.mfa_authenticated else "false",
        },
    }


def resource_of(arn: str) -> tuple[str, str]:
    """``arn:aws:iam::1:user/dev/alice`` → ("AWS::IAM::User", "alice"); ``arn:aws:s3:::b/k`` → ("AWS::S3::Object",
    "b/k"), ``arn:aws:s3:::b`` → ("AWS::S3::Bucket", "b")."""
    if arn.startswith("arn:aws:s3:::"):
        name = arn[len("arn:aws:s3:::") :]
        return ("AWS::S3::Object" if "/" in name else "AWS::S3::Bucket"), name
    parts = arn.split(":", 5)
    if len(parts) != 6 or "/" not in parts[5]:
        return "", ""
    kind, _, rest = parts[5].partition("/")
    if kind not in _RESOURCE_TYPES or rest.endswith("*"):
        return "", ""
    return _RESOURCE_TYPES[kind], rest.rsplit("/", 1)[-1]


def build_record(
    ctx: CallContext,
    *,
    event_source: str,
    event_name: str,
    event_type: str = "AwsApiCall",
    request_parameters: Any = None,
    response_elements: Any = None,
    error_code: str = "",
    error_message: str = "",
    additional: dict[str, Any] | None = None,
    resources: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    now = clock.now()
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(ctx.principal, ctx.access_key_id),
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": REGION,
        "sourceIPAddress": ctx.source_ip,
        "userAgent": ctx.user_agent[:1024],
        "requestParameters": request_parameters,
        "responseElements": response_elements,
        "requestID": ctx.request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": is_read_only(event_name),
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": ctx.account_id,
        "eventCategory": "Management",
    }
    if error_code:
        record["errorCode"] = error_code
        record["errorMessage"] = error_message
    if additional:
        record["additionalEventData"] = additional
    if resources:
        record["resources"] = resources
    if ctx.origin == "console":
        record["sessionCredentialFromConsole"] = "true"
    return record


class _Publisher:
    """Publishes delivery tasks from one background thread per process, off the request's path.

    Publishing a Celery message costs about 1–2 ms of kombu time, as much as the rest of a warm API call, and
    this thread shares the interpreter with the requests. The task delivers the event it names *and* every other
    undelivered event, so one task per burst is enough: the thread waits ``LINGER`` seconds after the first event
    of a burst, then publishes one task for the newest (at 200 calls a second, one publish per 40 calls). Events
    a dying process never published are delivered by the beat sweep (the outbox guarantees it)."""

    LINGER = 0.2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: list[int] = []
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, event_pk: int) -> None:
        with self._lock:
            self._pending.append(event_pk)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()  # threads do not survive a fork (gunicorn workers)
                self._thread = threading.Thread(target=self._run, name="audit-publisher", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.LINGER)
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, []
            if not pending:
                continue
            try:
                deliver_event.delay(max(pending))
            except Exception:  # Redis down: the beat sweep delivers them later
                logger.warning("could not enqueue delivery of %d audit events", len(pending), exc_info=True)


_publisher = _Publisher()


def _enqueue_delivery(event_pk: int) -> None:
    if not settings.AUDIT_ENQUEUE_DELIVERY:
        return  # tests without a worker: the sweep (or the test) delivers
    _publisher.submit(event_pk)


_FIELDS = (
    "account_id",
    "event_id",
    "event_time",
    "event_source",
    "event_name",
    "event_type",
    "read_only",
    "username",
    "access_key_id",
    "resource_type",
    "resource_name",
    "error_code",
    "management_event",
    "record",
    "explanation",
)
_INSERT: dict[bool, str] = {}


def _insert_sql(alone: bool) -> str:
    """One prepared INSERT (it runs on every call, so it skips the ORM's per-call SQL compilation).

    ``alone``: the row is a transaction of its own, the record of a call that changed nothing (a read, or a call
    that failed and rolled back). Its commit does not wait for the WAL flush (``synchronous_commit`` off for this
    transaction only, read at its commit): the row is visible at once and on disk within PostgreSQL's
    ``wal_writer_delay``; only a crash of the database server in that fraction of a second could lose it, as
    CloudTrail's own delivery is not instantaneous either. A row that records a change commits with the change,
    synchronously as ever."""
    if alone not in _INSERT:
        casts = {"event_id": "::uuid", "record": "::jsonb", "explanation": "::jsonb"}
        relaxed = ", set_config('synchronous_commit', 'off', true)" if alone else ""
        _INSERT[alone] = (
            f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(_FIELDS)}) VALUES ("
            + ", ".join(f"%s{casts.get(f, '')}" for f in _FIELDS)
            + f") RETURNING id{relaxed}"
        )
    return _INSERT[alone]


def save_record(
    ctx: CallContext,
    record: dict[str, Any],
    *,
    resource_arn: str = "",
    explanation: Any = None,
    after: Call | None = None,
    recipient: str | None = None,
) -> int:
    """``after``: a call whose deferred statements go first, in the same round trip. ``recipient``: another
    account's copy of the call's record (the bucket owner's), in that account's trail, with none of the caller's
    names or keys in its columns."""
    resource_type, resource_name = resource_of(resource_arn)
    # The row's values in _FIELDS order, bound directly (no model instance: its init and signals cost more than
    # the INSERT's own Python on every call).
    values = [
        ctx.account_id if recipient is None else recipient,
        record["eventID"],
        clock.now(),
        record["eventSource"],
        record["eventName"],
        record["eventType"],
        record["readOnly"],
        ctx.principal.name[:128] if recipient is None else "",
        ctx.access_key_id[:128] if recipient is None else "",
        resource_type,
        resource_name[:2048],
        record.get("errorCode", ""),
        record.get("managementEvent", True),
        json.dumps(record),
        None if explanation is None else json.dumps(explanation),
    ]
    alone = connection.get_autocommit()
    if after is not None and after.deferred:
        rows = run_deferred(after, then=(_insert_sql(alone), values))
    else:
        rows = fetch_prepared(_insert_sql(alone), values)
    event_pk = rows[0][0]
    # Outbox: the row is committed with the change; delivery is enqueued only once it is. If Redis or the
    # worker are down, the beat sweep delivers it later (robust: a failed enqueue never fails the user's call).
    transaction.on_commit(lambda: _enqueue_delivery(event_pk), robust=True)
    return event_pk


def record_event(call: Call) -> int:
    error = call.error
    record = build_record(
        call.ctx,
        event_source=f"{call.service}.amazonaws.com",
        event_name=call.event_name,
        request_parameters=call.params or None,
        response_elements=None if error or is_read_only(call.event_name) else call.response,
        error_code=error.code if error else "",
        error_message=error.message if error else "",
        resources=call.resources or None,
    )
    if call.data_event:  # CloudTrail data events (S3 object operations): not in AWS's Event history
        record["managementEvent"] = False
        record["eventCategory"] = "Data"
    owner_copy = _owner_copy(call, record)
    explanation = None
    if error is not None and error.explanation is not None:
        explanation = explain(error.explanation)
    event_pk = save_record(
        call.ctx,
        record,
        resource_arn=call.resource,
        explanation=explanation,
        after=None if error else call,
    )
    if owner_copy is not None:
        save_record(call.ctx, owner_copy, resource_arn=call.resource, recipient=call.owner_account)
    return event_pk


def _owner_copy(call: Call, record: dict[str, Any]) -> dict[str, Any] | None:
    """The bucket owner's copy of a data event another account's principal caused, or None.

    CloudTrail always delivers an object-level event to the requester, and the same event to the bucket owner
    when the owner owns the object (S3 user guide, "Object-level actions in cross-account scenarios"; here the
    bucket's owner owns every object). Both copies carry one ``sharedEventID``; each has its own ``eventID`` and
    ``recipientAccountId``. The owner's copy names the caller as another account does for a cross-account caller
    (CloudTrail's userIdentity ``type`` ``AWSAccount``: "the request was made by another AWS account"): its
    principal ID and account ID, no ARN, name or access key. A call the caller's own account refused (its policies,
    not the bucket's) stays in the caller's trail only, as CloudTrail then withholds even the owner's account ID."""
    if not (call.data_event and call.owner_account) or not _reached_owner(call):
        return None
    record["sharedEventID"] = str(uuid.uuid4())
    copy = {
        **record,
        "userIdentity": {
            "type": "AWSAccount",
            "principalId": call.ctx.principal.principal_id,
            "accountId": call.ctx.account_id,
        },
        "eventID": str(uuid.uuid4()),
        "recipientAccountId": call.owner_account,
    }
    copy.pop("sessionCredentialFromConsole", None)  # the caller's console session is the caller's business
    return copy


def _reached_owner(call: Call) -> bool:
    """Whether the call got as far as the bucket owner's side: it succeeded, failed on the bucket (NoSuchKey), or
    was refused by the bucket policy (an explicit deny in it, or no allow from it)."""
    error = call.error
    if error is None or error.code != "AccessDenied":
        return True
    decision = error.explanation
    if not isinstance(decision, Decision):
        return False
    if decision.outcome == "ExplicitDeny":
        return bool(decision.deciding) and decision.deciding[0].layer == "resource"
    return decision.missing_layer == "resource"
