"""The S3 practice service: one function per S3 operation, each decided by the policy engine and recorded in the
audit trail through ``iam_call``, as the IAM services are. The REST front (``s3.api``), the console pages
(``s3.views``) and the EC2 "Run as this instance" panel all call these, with the caller's ``CallContext``.

Authorization follows S3 for the cases a course meets: the caller's identity policies, boundary, session
policies and SCPs (``policies.authz`` gathers them as for any IAM call) and the bucket policy as the resource-based
policy: in the bucket owner's account either grants; from another account both sides must (the engine's
cross-account rule, with the bucket's account as the resource account). The bucket owner's root user may always
read, change and delete its bucket's policy, even when that policy denies everyone.

Object operations are CloudTrail data events (``eventCategory`` "Data"); bucket operations management events.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import connection

from core import clock
from core.calls import Call, ResourceOwner, authorize, iam_call
from core.context import CallContext
from core.db import fetch_prepared, first_instance
from core.errors import IamError, MalformedPolicyDocument
from policies.authz import decide as engine_decision
from policies.documents import check_document
from s3 import bodies
from s3.errors import (
    AccessDeniedS3,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    InvalidArgument,
    InvalidBucketName,
    InvalidLocationConstraint,
    InvalidRequest,
    InvalidTag,
    KeyTooLongError,
    MalformedPolicy,
    MalformedXML,
    NoSuchBucket,
    NoSuchBucketPolicy,
    NoSuchKey,
    NoSuchPublicAccessBlockConfiguration,
    NoSuchTagSet,
    QuotaExceeded,
    TooManyBuckets,
)
from s3.models import Bucket, S3Object

REGION = "us-east-1"
MAX_KEY_BYTES = 1024
MAX_BUCKETS = 100
MAX_TAGS_OBJECT = 10
MAX_TAGS_BUCKET = 50
BUCKET_POLICY_SIZE = 20 * 1024
PAB_FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# Root of the bucket owner's account: these three always work on its own bucket (AWS's lock-out escape).
_ROOT_ALWAYS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})


def max_object_size() -> int:
    return int(getattr(settings, "S3_MAX_OBJECT_SIZE", 5 * 1024 * 1024))


def account_quota() -> int:
    return int(getattr(settings, "S3_ACCOUNT_QUOTA", 100 * 1024 * 1024))


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


# ---- Validation ------------------------------------------------------------------------------------------------

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str) -> None:
    """S3's general purpose bucket naming rules (InvalidBucketName, with the name)."""
    bad = (
        not _BUCKET_RE.fullmatch(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or name.startswith(_RESERVED_PREFIXES)
        or name.endswith(_RESERVED_SUFFIXES)
        or _is_ip(name)
    )
    if bad:
        raise InvalidBucketName(BucketName=name)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def check_key(key: str) -> None:
    if not key:
        raise InvalidArgument("A key must be specified", ArgumentName="key")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise KeyTooLongError(Size=str(len(key.encode("utf-8"))), MaxSizeAllowed=str(MAX_KEY_BYTES))


@dataclass(frozen=True)
class Tag:
    key: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"Key": self.key, "Value": self.value}


def check_tags(tags: Sequence[Tag], limit: int) -> None:
    keys = [t.key for t in tags]
    if len(tags) > limit:
        raise InvalidTag(f"Object tags cannot be greater than {limit}" if limit == MAX_TAGS_OBJECT else None)
    if len(set(keys)) != len(keys):
        raise InvalidTag("Cannot provide multiple Tags with the same key")
    for t in tags:
        if not 1 <= len(t.key) <= 128:
            raise InvalidTag("The TagKey you have provided is invalid")
        if len(t.value) > 256:
            raise InvalidTag("The TagValue you have provided is invalid")
        if t.key.lower().startswith("aws:"):
            raise InvalidTag("Your TagKey cannot be prefixed with aws:")


def parse_tagging_header(value: str) -> list[Tag]:
    """``x-amz-tagging: k1=v1&k2=v2`` (URL-encoded)."""
    try:
        pairs = parse_qsl(value, keep_blank_values=True, strict_parsing=bool(value))
    except ValueError:
        raise InvalidArgument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without "
            "tag name duplicates.",
            ArgumentName="x-amz-tagging",
        ) from None
    return [Tag(k, v) for k, v in pairs]


# ---- Calls -----------------------------------------------------------------------------------------------------


def _owner(bucket: Bucket | None, ctx: CallContext, action: str) -> ResourceOwner | None:
    if bucket is None:
        return None
    policy = bucket.policy
    if action in _ROOT_ALWAYS and ctx.principal.is_root and ctx.account_id == bucket.account_id:
        policy = ""  # the owner's root user is never locked out of its bucket's policy
    return ResourceOwner(
        bucket.account_id,
        policy,
        (bucket.pk, bucket.policy_updated_at.isoformat() if bucket.policy_updated_at else ""),
        f"bucket policy of {bucket.name}",
    )


def decision(ctx: CallContext, action: str, bucket: Bucket, key: str | None = None) -> Any:
    """The engine's decision for ``action`` on ``bucket`` (or its object ``key``) by the caller, as the S3 call would
    get it now (the bucket's owner and policy, the object's tags), without making the call or recording it: lab
    checks ask what a principal really may do to a real bucket."""
    context: dict[str, Any] = {}
    resource = bucket_arn(bucket.name)
    if key is not None:
        resource = object_arn(bucket.name, key)
        obj = _find_object(bucket, key) if bucket.pk is not None else None
        context = _object_context({}, obj.tags if obj is not None else [])
    return engine_decision(ctx, action, resource, context, _owner(bucket, ctx, action))


def _find_bucket(name: str) -> Bucket | None:
    """The bucket named ``name``: every bucket call's first read, prepared (the ORM's query cost a PutObject about
    1 ms of CPU)."""
    return first_instance(Bucket, "name = %s", [name])


def _object_context(extra: Mapping[str, Any], tags: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    context = dict(extra)
    for t in tags:
        context[f"s3:ExistingObjectTag/{t['Key']}"] = t["Value"]
    return context


def _request_tag_context(tags: Sequence[Tag]) -> dict[str, Any]:
    context: dict[str, Any] = {f"s3:RequestObjectTag/{t.key}": t.value for t in tags}
    if tags:
        context["s3:RequestObjectTagKeys"] = [t.key for t in tags]
    return context


def _resources(bucket: Bucket | None, bucket_name: str, key: str | None = None) -> list[dict[str, str]]:
    out = []
    if key is not None:
        out.append({"type": "AWS::S3::Object", "ARN": object_arn(bucket_name, key)})
    entry = {"type": "AWS::S3::Bucket", "ARN": bucket_arn(bucket_name)}
    if bucket is not None:
        entry["accountId"] = bucket.account_id
    out.append(entry)
    return out


@contextmanager
def _bucket_call(
    ctx: CallContext,
    action: str,
    bucket_name: str,
    params: Mapping[str, Any] | None = None,
    *,
    key: str | None = None,
    condition_context: Mapping[str, Any] | None = None,
    event_name: str | None = None,
    data_event: bool = False,
    bucket: Bucket | None = None,
    check: Any = None,
) -> Iterator[tuple[Call, Bucket]]:
    """An S3 call on an existing bucket (or an object in it): NoSuchBucket before the decision, as S3 answers it;
    the bucket's policy and owner decide with the caller's policies."""
    found = bucket if bucket is not None else _find_bucket(bucket_name)

    def validate() -> None:
        if found is None:
            raise NoSuchBucket(BucketName=bucket_name)
        if key is not None:
            check_key(key)
        if check is not None:
            check()

    resource = object_arn(bucket_name, key) if key is not None else bucket_arn(bucket_name)
    base_params: dict[str, Any] = {"bucketName": bucket_name, "Host": "s3.amazonaws.com"}
    if key is not None:
        base_params["key"] = key
    base_params.update(params or {})
    with iam_call(
        ctx,
        action,
        resource,
        base_params,
        condition_context=condition_context,
        validate=validate,
        owner=_owner(found, ctx, action),
        event_name=event_name,
        data_event=data_event,
    ) as call:
        call.resources = _resources(found, bucket_name, key)
        assert found is not None  # validate() raised otherwise
        yield call, found


# ---- Buckets ---------------------------------------------------------------------------------------------------


def create_bucket(ctx: CallContext, *, bucket: str, location_constraint: str | None = None) -> Bucket:
    existing = _find_bucket(bucket)

    def validate() -> None:
        check_bucket_name(bucket)
        if location_constraint:
            # In us-east-1 S3 refuses its own name as a constraint, and this deployment has no other Region.
            raise InvalidLocationConstraint(LocationConstraint=location_constraint)

    params = {"bucketName": bucket, "Host": "s3.amazonaws.com"}
    if location_constraint:
        params["CreateBucketConfiguration"] = {"LocationConstraint": location_constraint}
    with iam_call(ctx, "s3:CreateBucket", bucket_arn(bucket), params, validate=validate) as call:
        call.resources = _resources(None, bucket)
        if existing is not None:
            if existing.account_id == ctx.account_id:
                raise BucketAlreadyOwnedByYou(BucketName=bucket)
            raise BucketAlreadyExists(BucketName=bucket)
        if Bucket.objects.in_account(ctx.account_id).count() >= MAX_BUCKETS:
            raise TooManyBuckets()
        call.on_conflict = BucketAlreadyExists(BucketName=bucket)
        row = Bucket.objects.create(name=bucket, account_id=ctx.account_id, region=REGION, created_at=clock.now())
        return row


def delete_bucket(ctx: CallContext, *, bucket: str) -> None:
    with _bucket_call(ctx, "s3:DeleteBucket", bucket) as (_, row):
        if S3Object.objects.filter(bucket=row).exists():
            raise BucketNotEmpty(BucketName=bucket)
        row.delete()


def head_bucket(ctx: CallContext, *, bucket: str) -> Bucket:
    with _bucket_call(ctx, "s3:ListBucket", bucket, event_name="HeadBucket") as (_, row):
        return row


def list_buckets(ctx: CallContext) -> list[Bucket]:
    with iam_call(ctx, "s3:ListAllMyBuckets", "*", {"Host": "s3.amazonaws.com"}, event_name="ListBuckets"):
        return list(Bucket.objects.in_account(ctx.account_id).order_by("name"))


def get_bucket_location(ctx: CallContext, *, bucket: str) -> str:
    with _bucket_call(ctx, "s3:GetBucketLocation", bucket, {"location": ""}) as (_, row):
        return row.region


# ---- Objects ---------------------------------------------------------------------------------------------------

_META = ("id", "bucket_id", "key", "body_file", "size", "etag", "content_type", "last_modified", "metadata", "tags")


def _find_bucket_and_object(name: str, key: str) -> tuple[Bucket | None, S3Object | None]:
    """The bucket and the object in one query (the bucket alone in a second one when the key is absent): an object
    call's tags decide it (``s3:ExistingObjectTag``)."""
    obj = _object_and_bucket(name, key)
    if obj is not None:
        return obj.bucket, obj
    return _find_bucket(name), None


_BUCKET_COLUMNS = ("id", "name", "account_id", "region", "created_at", "policy", "policy_updated_at", "tags")
_OBJECT_COLUMNS = ("id", "key", "body_file", "size", "etag", "content_type", "last_modified", "metadata", "tags")
_OBJECT_AND_BUCKET = (
    "SELECT "
    + ", ".join(f"b.{c}" for c in _BUCKET_COLUMNS)
    + ", b.public_access_block, "
    + ", ".join(f"o.{c}" for c in _OBJECT_COLUMNS)
    + f" FROM {S3Object._meta.db_table} o JOIN {Bucket._meta.db_table} b ON b.id = o.bucket_id"
    + " WHERE b.name = %s AND o.key = %s"
)


def _object_and_bucket(name: str, key: str) -> S3Object | None:
    """The object's row and its bucket's in one query, built into model instances without the ORM's compiler (the
    hottest read of S3: every object call). It runs on the psycopg cursor under Django's, in PostgreSQL's binary
    format (JSON columns come decoded, as the model instances want them; a plain read, before the call's
    transaction, not logged)."""
    with connection.cursor() as cursor:
        cursor.cursor.execute(_OBJECT_AND_BUCKET, [name, key], binary=True)
        row = cursor.cursor.fetchone()
    if row is None:
        return None
    width = len(_BUCKET_COLUMNS)
    bucket = Bucket(**dict(zip(_BUCKET_COLUMNS, row[:width], strict=True)), public_access_block=row[width])
    return S3Object(bucket=bucket, **dict(zip(_OBJECT_COLUMNS, row[width + 1 :], strict=True)))


def _find_object(bucket: Bucket | None, key: str) -> S3Object | None:
    if bucket is None:
        return None
    return S3Object.objects.filter(bucket=bucket, key=key).only(*_META).first()


def _check_size(size: int) -> None:
    limit = max_object_size()
    if size > limit:
        raise EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(limit))


def _quota_exceeded(size: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"Storing {size} bytes would take the bucket owner's account over its {account_quota()} bytes of "
        "storage in this practice service"
    )


# PutObject's (and CopyObject's) one statement: the account's storage without the key's current object (the
# quota), the key's current row locked (so a concurrent overwrite cannot slip between) and the new key or the
# overwrite, only within the quota. It answers the new row's id, the file of the body it replaces and the storage
# used. No id: over the quota, or a concurrent PutObject of the same new key committed after this statement's
# snapshot (the ON CONFLICT's WHERE refuses to update a row ``old`` did not lock) and the statement runs again.
_UPSERT = f"""WITH used AS (
    SELECT coalesce(sum(s.size), 0) AS total FROM {S3Object._meta.db_table} s
    JOIN {Bucket._meta.db_table} b ON b.id = s.bucket_id
    WHERE b.account_id = %(account)s AND NOT (s.bucket_id = %(bucket)s AND s.key = %(key)s)
), old AS (
    SELECT id, body_file FROM {S3Object._meta.db_table} WHERE bucket_id = %(bucket)s AND key = %(key)s FOR UPDATE
), stored AS (
    INSERT INTO {S3Object._meta.db_table} AS o
        (bucket_id, key, body_file, size, etag, content_type, last_modified, metadata, tags)
    SELECT %(bucket)s, %(key)s, %(file)s, %(size)s, %(etag)s, %(content_type)s, %(modified)s, %(metadata)s::jsonb,
        %(tags)s::jsonb
    WHERE (SELECT total FROM used) + %(size)s <= %(quota)s
    ON CONFLICT (bucket_id, key) DO UPDATE SET body_file = EXCLUDED.body_file, size = EXCLUDED.size,
        etag = EXCLUDED.etag, content_type = EXCLUDED.content_type, last_modified = EXCLUDED.last_modified,
        metadata = EXCLUDED.metadata, tags = EXCLUDED.tags
    WHERE o.id IN (SELECT id FROM old)
    RETURNING o.id
)
SELECT (SELECT id FROM stored), (SELECT body_file FROM old), (SELECT total FROM used)"""


def _store(
    call: Call,
    bucket: Bucket,
    key: str,
    *,
    size: int,
    etag: Callable[[], str],
    write: Callable[[], str],
    content_type: str | None,
    metadata: Mapping[str, str],
    tags: Sequence[Mapping[str, str]],
) -> S3Object:
    """The object's row, with its body in the file ``write`` makes (removed if the call does not commit) and the
    ETag ``etag`` gives; the body it replaces is removed once the call commits. The row's statement is deferred:
    it goes with the account's lock and the audit row in one round trip (``Call.defer``), and QuotaExceeded comes
    from it, failing the call then."""
    name = write()
    call.on_rollback(lambda: bodies.remove([name]))
    row = S3Object(
        bucket=bucket,
        key=key,
        body_file=name,
        size=size,
        etag=etag(),
        content_type=content_type or "binary/octet-stream",
        last_modified=clock.now(),
        metadata=dict(metadata),
        tags=list(tags),
    )
    params = {
        "account": bucket.account_id,
        "bucket": bucket.pk,
        "key": key,
        "file": name,
        "size": size,
        "etag": row.etag,
        "content_type": row.content_type,
        "modified": row.last_modified,
        "metadata": json.dumps(row.metadata),
        "tags": json.dumps(row.tags),
        "quota": account_quota(),
    }

    def stored(rows: list[tuple[Any, ...]]) -> None:
        [(pk, replaced, used)] = rows
        while pk is None:
            if used + size > account_quota():
                raise _quota_exceeded(size)
            [(pk, replaced, used)] = fetch_prepared(_UPSERT, params)  # the race above: the key is visible now
        row.pk = pk
        bodies.remove_on_commit([replaced] if replaced else [])

    call.defer(_UPSERT, params, stored)
    if call.own_transaction and not settings.OBJECT_FSYNC:
        call.defer(_COMMIT_WITHOUT_FLUSH, (), lambda rows: None)
    return row


# Without IAM_OBJECT_FSYNC an operating-system crash may lose the body file of the last seconds' uploads whatever
# the row does, so the upload's commit (its row and its audit event together) does not wait for the WAL flush
# either: a crash of PostgreSQL alone loses at most the uploads of its last 3 × wal_writer_delay (600 ms by
# default), row and event together, never one without the other. Only for a call in its own transaction (not a
# batch or a reset, which it would relax too).
_COMMIT_WITHOUT_FLUSH = "SELECT set_config('synchronous_commit', 'off', true)"


_HASHING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="s3-etag")
_HASH_ASIDE = 64 * 1024  # below this, hashing takes less than handing it to a thread


def _etag(body: bytes) -> str:
    return f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'


def put_object(
    ctx: CallContext,
    *,
    bucket: str,
    key: str,
    body: bytes,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
    tagging: Sequence[Tag] = (),
) -> S3Object:
    tags = list(tagging)

    def check() -> None:
        _check_size(len(body))
        check_tags(tags, MAX_TAGS_OBJECT)

    # A large body's MD5 (the ETag; 1.5 ms a MiB) is computed on another thread while the call is decided and the
    # body written (hashlib lets go of the GIL), so a sequential upload does not wait for it.
    md5 = _HASHING.submit(_etag, body) if _HASH_ASIDE <= len(body) <= max_object_size() else None

    with _bucket_call(
        ctx,
        "s3:PutObject",
        bucket,
        key=key,
        condition_context=_request_tag_context(tags),
        data_event=True,
        check=check,
    ) as (call, row):
        if tags:  # S3 decides the tags with the object: PutObject with a tag set needs s3:PutObjectTagging too
            authorize(
                ctx, "s3:PutObjectTagging", object_arn(bucket, key), _request_tag_context(tags), _owner(row, ctx, "")
            )
        obj = _store(
            call,
            row,
            key,
            size=len(body),
            etag=md5.result if md5 is not None else lambda: _etag(body),
            write=lambda: bodies.write(body),
            content_type=content_type,
            metadata=metadata or {},
            tags=[t.as_dict() for t in tags],
        )
        call.response = {"ETag": obj.etag}
        return obj


def _object_call(
    ctx: CallContext,
    action: str,
    bucket: str,
    key: str,
    *,
    event_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    extra_context: Mapping[str, Any] | None = None,
    data_event: bool = True,
):  # noqa: ANN202 - a context manager
    row, obj = _find_bucket_and_object(bucket, key)
    context = _object_context(extra_context or {}, obj.tags if obj is not None else [])
    return obj, _bucket_call(
        ctx,
        action,
        bucket,
        params,
        key=key,
        condition_context=context,
        event_name=event_name,
        data_event=data_event,
        bucket=row,
    )


def _existing(obj: S3Object | None, key: str) -> S3Object:
    if obj is None:
        raise NoSuchKey(Key=key)
    return obj


def get_object(ctx: CallContext, *, bucket: str, key: str) -> S3Object:
    """The object with its body (``body``, read from its file: InternalError if the file is gone)."""
    obj, call = _object_call(ctx, "s3:GetObject", bucket, key)
    with call:
        return _with_body(_existing(obj, key))


def _with_body(obj: S3Object) -> S3Object:
    """``obj`` with its body read from its file. The row was read before the call's decision: when a PutObject or
    DeleteObject committed since and removed the file, the object as it is now (S3 answers a read that races a
    write with either version); InternalError when the row still names a file that is gone."""
    body = bodies.read(obj.body_file)
    if body is None:
        now = S3Object.objects.filter(pk=obj.pk).only(*_META).first()
        if now is None:
            raise NoSuchKey(Key=obj.key)
        if now.body_file == obj.body_file or (body := bodies.read(now.body_file)) is None:
            raise bodies.lost(now.body_file)
        if S3Object.bucket.is_cached(obj):
            now.bucket = obj.bucket
        obj = now
    obj.body = body
    return obj


def head_object(ctx: CallContext, *, bucket: str, key: str) -> S3Object:
    """The object's metadata (no body)."""
    obj, call = _object_call(ctx, "s3:GetObject", bucket, key, event_name="HeadObject")
    with call:
        return _existing(obj, key)


def delete_object(ctx: CallContext, *, bucket: str, key: str) -> None:
    """Deleting a key that is not there succeeds, as in S3 (204)."""
    obj, call = _object_call(ctx, "s3:DeleteObject", bucket, key)
    with call:
        if obj is not None:
            S3Object.objects.filter(pk=obj.pk).delete()


@dataclass
class DeleteResult:
    deleted: list[str] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (key, code, message)


def delete_objects(ctx: CallContext, *, bucket: str, keys: Sequence[str]) -> DeleteResult:
    """DeleteObjects: each key is its own DeleteObject, decided and recorded as S3 does (one data event per key,
    a denied key reported in the result's errors, not failing the request)."""
    if not keys:
        raise MalformedXML()
    if len(keys) > 1000:
        raise MalformedXML()
    if _find_bucket(bucket) is None:
        with _bucket_call(ctx, "s3:DeleteObject", bucket, event_name="DeleteObjects", data_event=True):
            pass  # raises NoSuchBucket, recorded
    result = DeleteResult()
    for key in keys:
        try:
            delete_object(ctx, bucket=bucket, key=key)
        except IamError as exc:  # AccessDenied and its kind: reported per key, as S3 does
            result.errors.append((key, exc.code, exc.message))
        else:
            result.deleted.append(key)
    return result


def copy_object(
    ctx: CallContext,
    *,
    bucket: str,
    key: str,
    source_bucket: str,
    source_key: str,
    metadata_directive: str = "COPY",
    metadata: Mapping[str, str] | None = None,
    content_type: str | None = None,
    tagging_directive: str = "COPY",
    tagging: Sequence[Tag] = (),
) -> S3Object:
    """CopyObject: s3:GetObject on the source and s3:PutObject on the destination, both decided."""
    if metadata_directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown metadata directive.", ArgumentName="x-amz-metadata-directive")
    if tagging_directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown tagging directive.", ArgumentName="x-amz-tagging-directive")
    source_row = _find_bucket(source_bucket)
    source = _find_object(source_row, source_key)
    tags = [t.as_dict() for t in tagging] if tagging_directive == "REPLACE" else (source.tags if source else [])
    params = {"x-amz-copy-source": f"{source_bucket}/{source_key}"}
    with _bucket_call(
        ctx,
        "s3:PutObject",
        bucket,
        params,
        key=key,
        condition_context=_request_tag_context([Tag(t["Key"], t["Value"]) for t in tags]),
        event_name="CopyObject",
        data_event=True,
    ) as (call, row):
        if source_row is None:
            raise NoSuchBucket(BucketName=source_bucket)
        authorize(
            ctx,
            "s3:GetObject",
            object_arn(source_bucket, source_key),
            _object_context({}, source.tags if source else []),
            _owner(source_row, ctx, ""),
        )
        if source is None:
            raise NoSuchKey(Key=source_key)
        if source_bucket == bucket and source_key == key and metadata_directive == "COPY":
            raise InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the "
                "object's metadata, storage class, website redirect location or encryption attributes."
            )
        source = _with_body(source)
        replaced = metadata_directive == "REPLACE"
        obj = _store(
            call,
            row,
            key,
            size=source.size,
            etag=lambda: source.etag,
            write=lambda: bodies.write(source.body),
            content_type=content_type if replaced else source.content_type,
            metadata=(metadata or {}) if replaced else source.metadata,
            tags=tags,
        )
        call.response = {"copyObjectResult": {"ETag": obj.etag}}
        return obj


@dataclass
class Listing:
    contents: list[dict[str, Any]]
    common_prefixes: list[str]
    is_truncated: bool
    next_token: str | None
    key_count: int
    owner_account_id: str = ""  # the bucket's owner, who owns its objects (S3's default, BucketOwnerEnforced)
    last: str | None = None  # the last key or common prefix listed: ListObjects' NextMarker when truncated


def _token(last: str, is_prefix: bool) -> str:
    return base64.urlsafe_b64encode(json.dumps([last, is_prefix]).encode()).decode()


def _read_token(token: str) -> tuple[str, bool]:
    try:
        last, is_prefix = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(last, str) or not isinstance(is_prefix, bool):
            raise ValueError
    except ValueError:
        raise InvalidArgument(
            "The continuation token provided is incorrect", ArgumentName="continuation-token"
        ) from None
    return last, is_prefix


def list_objects_v2(
    ctx: CallContext,
    *,
    bucket: str,
    prefix: str = "",
    delimiter: str = "",
    max_keys: int = 1000,
    continuation_token: str | None = None,
    start_after: str = "",
) -> Listing:
    """ListObjectsV2, decided as s3:ListBucket with ``s3:prefix``, ``s3:delimiter`` and ``s3:max-keys``."""
    condition = {"s3:prefix": prefix, "s3:max-keys": str(max_keys)}
    if delimiter:
        condition["s3:delimiter"] = delimiter
    params = {"list-type": "2", "prefix": prefix, "delimiter": delimiter or None, "max-keys": str(max_keys)}

    def check() -> None:
        if max_keys < 0:
            raise InvalidArgument("maxKeys should be non-negative", ArgumentName="max-keys")
        if continuation_token is not None:
            _read_token(continuation_token)

    with _bucket_call(
        ctx, "s3:ListBucket", bucket, params, condition_context=condition, event_name="ListObjects", check=check
    ) as (_, row):
        return _list(row, prefix, delimiter, min(max_keys, 1000), continuation_token, start_after)


def list_objects(
    ctx: CallContext, *, bucket: str, prefix: str = "", delimiter: str = "", max_keys: int = 1000, marker: str = ""
) -> Listing:
    """ListObjects (version 1), decided as ListObjectsV2 is: s3:ListBucket with ``s3:prefix``, ``s3:delimiter`` and
    ``s3:max-keys``. Keys after ``marker``; with a delimiter, a common prefix at or before the marker is not listed
    again (the marker may be the previous page's NextMarker, a common prefix), as S3 pages it."""
    condition = {"s3:prefix": prefix, "s3:max-keys": str(max_keys)}
    if delimiter:
        condition["s3:delimiter"] = delimiter
    params = {"prefix": prefix, "delimiter": delimiter or None, "max-keys": str(max_keys), "marker": marker or None}

    def check() -> None:
        if max_keys < 0:
            raise InvalidArgument("maxKeys should be non-negative", ArgumentName="max-keys")

    with _bucket_call(
        ctx, "s3:ListBucket", bucket, params, condition_context=condition, event_name="ListObjects", check=check
    ) as (_, row):
        return _list(row, prefix, delimiter, min(max_keys, 1000), None, marker, marker_rolls_up=True)


def _list(
    row: Bucket,
    prefix: str,
    delimiter: str,
    max_keys: int,
    token: str | None,
    start_after: str,
    *,
    marker_rolls_up: bool = False,
) -> Listing:
    after, skip_prefix = (start_after, False)
    if token is not None:
        after, skip_prefix = _read_token(token)
    rows = S3Object.objects.filter(bucket=row).order_by("key")
    if prefix:
        rows = rows.filter(key__startswith=prefix)
    if after:
        rows = rows.filter(key__gt=after)
    contents: list[dict[str, Any]] = []
    prefixes: list[str] = []
    last_prefix = after if skip_prefix else None
    last: tuple[str, bool] | None = None
    truncated = False
    for key, size, etag, modified in rows.values_list("key", "size", "etag", "last_modified").iterator(2000):
        if last_prefix is not None and key.startswith(last_prefix):
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if marker_rolls_up and after and common <= after:
                    continue  # listed on an earlier page: the marker is this prefix or a key under it
                if len(contents) + len(prefixes) >= max_keys:
                    truncated = True
                    break
                prefixes.append(common)
                last_prefix = common
                last = (common, True)
                continue
        if len(contents) + len(prefixes) >= max_keys:
            truncated = True
            break
        contents.append({"Key": key, "Size": size, "ETag": etag, "LastModified": modified})
        last = (key, False)
    next_token = _token(*last) if truncated and last is not None else None
    return Listing(
        contents,
        prefixes,
        truncated,
        next_token,
        len(contents) + len(prefixes),
        owner_account_id=row.account_id,
        last=last[0] if last is not None else None,
    )


# ---- Bucket policy ---------------------------------------------------------------------------------------------


def _check_policy(text: str, bucket: str) -> None:
    if not text.lstrip().startswith("{"):
        raise MalformedPolicy()
    if len(text.encode()) > BUCKET_POLICY_SIZE:
        raise MalformedPolicy("Policy exceeds the maximum allowed document size.")
    try:
        check_document(text, "resource")
    except MalformedPolicyDocument as exc:  # the same validator as IAM's, answered under S3's code
        raise MalformedPolicy(exc.message) from None
    for statement in _statements(text):
        for resource in _as_list(statement.get("Resource")) + _as_list(statement.get("NotResource")):
            if not (resource == bucket_arn(bucket) or resource.startswith(bucket_arn(bucket) + "/")):
                raise MalformedPolicy("Policy has invalid resource")


def _statements(text: str) -> list[dict[str, Any]]:
    doc = json.loads(text)
    statements = doc.get("Statement", [])
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def is_public_policy(text: str) -> bool:
    """A policy that allows anyone (Principal ``*``) without a condition that narrows it: what BlockPublicPolicy
    refuses."""
    for statement in _statements(text):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))):
            return True
    return False


def get_bucket_policy(ctx: CallContext, *, bucket: str) -> str:
    with _bucket_call(ctx, "s3:GetBucketPolicy", bucket, {"policy": ""}) as (_, row):
        if not row.policy:
            raise NoSuchBucketPolicy(BucketName=bucket)
        return row.policy


def put_bucket_policy(ctx: CallContext, *, bucket: str, policy: str) -> None:
    with _bucket_call(ctx, "s3:PutBucketPolicy", bucket, {"policy": "", "bucketPolicy": policy}) as (_, row):
        _check_policy(policy, bucket)  # after the decision: a caller who may not write the policy learns nothing
        row = Bucket.objects.select_for_update().get(pk=row.pk)
        if (row.public_access_block or {}).get("BlockPublicPolicy") and is_public_policy(policy):
            raise AccessDeniedS3()
        row.policy = policy
        row.policy_updated_at = clock.now()
        row.save(update_fields=["policy", "policy_updated_at"])


def delete_bucket_policy(ctx: CallContext, *, bucket: str) -> None:
    with _bucket_call(ctx, "s3:DeleteBucketPolicy", bucket, {"policy": ""}) as (_, row):
        Bucket.objects.filter(pk=row.pk).update(policy="", policy_updated_at=clock.now())


# ---- Tagging ---------------------------------------------------------------------------------------------------


def get_object_tagging(ctx: CallContext, *, bucket: str, key: str) -> list[Tag]:
    obj, call = _object_call(ctx, "s3:GetObjectTagging", bucket, key, params={"tagging": ""})
    with call:
        return [Tag(t["Key"], t["Value"]) for t in _existing(obj, key).tags]


def put_object_tagging(ctx: CallContext, *, bucket: str, key: str, tags: Sequence[Tag]) -> None:
    tags = list(tags)
    check_tags(tags, MAX_TAGS_OBJECT)
    obj, call = _object_call(
        ctx, "s3:PutObjectTagging", bucket, key, params={"tagging": ""}, extra_context=_request_tag_context(tags)
    )
    with call:
        found = _existing(obj, key)
        S3Object.objects.filter(pk=found.pk).update(tags=[t.as_dict() for t in tags])


def delete_object_tagging(ctx: CallContext, *, bucket: str, key: str) -> None:
    obj, call = _object_call(ctx, "s3:DeleteObjectTagging", bucket, key, params={"tagging": ""})
    with call:
        found = _existing(obj, key)
        S3Object.objects.filter(pk=found.pk).update(tags=[])


def get_bucket_tagging(ctx: CallContext, *, bucket: str) -> list[Tag]:
    with _bucket_call(ctx, "s3:GetBucketTagging", bucket, {"tagging": ""}) as (_, row):
        if not row.tags:
            raise NoSuchTagSet(BucketName=bucket)
        return [Tag(t["Key"], t["Value"]) for t in row.tags]


def put_bucket_tagging(ctx: CallContext, *, bucket: str, tags: Sequence[Tag]) -> None:
    tags = list(tags)
    with _bucket_call(
        ctx, "s3:PutBucketTagging", bucket, {"tagging": ""}, check=lambda: check_tags(tags, MAX_TAGS_BUCKET)
    ) as (_, row):
        Bucket.objects.filter(pk=row.pk).update(tags=[t.as_dict() for t in tags])


def delete_bucket_tagging(ctx: CallContext, *, bucket: str) -> None:
    with _bucket_call(ctx, "s3:PutBucketTagging", bucket, {"tagging": ""}, event_name="DeleteBucketTagging") as (
        _,
        row,
    ):
        Bucket.objects.filter(pk=row.pk).update(tags=[])


# ---- Block Public Access ---------------------------------------------------------------------------------------


def get_public_access_block(ctx: CallContext, *, bucket: str) -> dict[str, bool]:
    with _bucket_call(
        ctx, "s3:GetBucketPublicAccessBlock", bucket, {"publicAccessBlock": ""}, event_name="GetPublicAccessBlock"
    ) as (_, row):
        if row.public_access_block is None:
            raise NoSuchPublicAccessBlockConfiguration(BucketName=bucket)
        return {name: bool(row.public_access_block.get(name)) for name in PAB_FIELDS}


def put_public_access_block(ctx: CallContext, *, bucket: str, configuration: Mapping[str, bool]) -> None:
    config = {name: bool(configuration.get(name, False)) for name in PAB_FIELDS}
    with _bucket_call(
        ctx,
        "s3:PutBucketPublicAccessBlock",
        bucket,
        {"publicAccessBlock": "", "PublicAccessBlockConfiguration": config},
        event_name="PutPublicAccessBlock",
    ) as (_, row):
        Bucket.objects.filter(pk=row.pk).update(public_access_block=config)


def delete_public_access_block(ctx: CallContext, *, bucket: str) -> None:
    with _bucket_call(
        ctx, "s3:PutBucketPublicAccessBlock", bucket, {"publicAccessBlock": ""}, event_name="DeletePublicAccessBlock"
    ) as (_, row):
        Bucket.objects.filter(pk=row.pk).update(public_access_block=None)


# ---- Upkeep ----------------------------------------------------------------------------------------------------

ORPHAN_GRACE_SECONDS = 3600  # far longer than any upload takes between writing its body and committing its row


def sweep_orphan_bodies() -> int:
    """Beat (``s3.sweep_orphan_bodies``): remove body files no object names, as an interrupted call leaves them."""

    def referenced(names: list[str]) -> set[str]:
        rows = fetch_prepared(f"SELECT body_file FROM {S3Object._meta.db_table} WHERE body_file = ANY(%s)", [names])
        return {name for (name,) in rows}

    return bodies.sweep(referenced, grace=ORPHAN_GRACE_SECONDS)
