"""Thin adapters from botocore's S3 input shapes to the services, and from their results to the output shapes.

Each handler takes the call context and the parsed input (member names of the operation's input shape) and
returns the output members (plus ``_status`` when S3 answers other than 200)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus, unquote

from core.context import CallContext
from s3 import services
from s3.errors import InvalidArgument, InvalidRange, MalformedXML
from s3.models import S3Object
from s3.services import Tag

Handler = Callable[[CallContext, dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def canonical_id(account_id: str) -> str:
    """The account's canonical user ID (S3's Owner ID): 64 hex digits derived from the account."""
    return hashlib.sha256(f"canonical:{account_id}".encode()).hexdigest()


def _owner(account_id: str) -> dict[str, str]:
    return {"ID": canonical_id(account_id), "DisplayName": account_id}


def _tags(params: dict[str, Any]) -> list[Tag]:
    tagging = params.get("Tagging")
    if not isinstance(tagging, dict) or "TagSet" not in tagging:
        raise MalformedXML()
    return [Tag(t.get("Key", ""), t.get("Value", "")) for t in tagging["TagSet"]]


# ---- Buckets ---------------------------------------------------------------------------------------------------


@operation("CreateBucket")
def create_bucket(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    config = p.get("CreateBucketConfiguration") or {}
    bucket = services.create_bucket(ctx, bucket=p["Bucket"], location_constraint=config.get("LocationConstraint"))
    return {"Location": f"/{bucket.name}"}


@operation("DeleteBucket")
def delete_bucket(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.delete_bucket(ctx, bucket=p["Bucket"])
    return {"_status": 204}


@operation("HeadBucket")
def head_bucket(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    bucket = services.head_bucket(ctx, bucket=p["Bucket"])
    return {"BucketRegion": bucket.region}


@operation("ListBuckets")
def list_buckets(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    buckets = services.list_buckets(ctx)
    return {
        "Buckets": [{"Name": b.name, "CreationDate": b.created_at, "BucketRegion": b.region} for b in buckets],
        "Owner": _owner(ctx.account_id),
    }


@operation("GetBucketLocation")
def get_bucket_location(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    region = services.get_bucket_location(ctx, bucket=p["Bucket"])
    return {"LocationConstraint": "" if region == services.REGION else region}


# ---- Objects ---------------------------------------------------------------------------------------------------


@operation("PutObject")
def put_object(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = services.parse_tagging_header(p["Tagging"]) if p.get("Tagging") else []
    obj = services.put_object(
        ctx,
        bucket=p["Bucket"],
        key=p["Key"],
        body=p.get("Body") or b"",
        content_type=p.get("ContentType"),
        metadata=p.get("Metadata") or {},
        tagging=tags,
    )
    return {"ETag": obj.etag}


def _object_headers(obj: S3Object) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ContentLength": obj.size,
        "ContentType": obj.content_type,
        "ETag": obj.etag,
        "LastModified": obj.last_modified,
        "AcceptRanges": "bytes",
    }
    if obj.metadata:
        out["Metadata"] = obj.metadata
    if obj.tags:
        out["TagCount"] = len(obj.tags)
    return out


def _range(header: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b``, ``bytes=a-`` or ``bytes=-n``; None for a header S3 ignores; InvalidRange past the end."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            n = int(last)
            start, end = max(size - n, 0), size - 1
        else:
            start = int(first)
            end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or (first and last and end < start):
        raise InvalidRange(RangeRequested=header, ActualObjectSize=str(size))
    return start, min(end, size - 1)


@operation("GetObject")
def get_object(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    obj = services.get_object(ctx, bucket=p["Bucket"], key=p["Key"])
    out = _object_headers(obj)
    body = obj.body
    if p.get("Range"):
        span = _range(p["Range"], obj.size)
        if span is not None:
            start, end = span
            body = body[start : end + 1]
            out.update(ContentRange=f"bytes {start}-{end}/{obj.size}", ContentLength=len(body), _status=206)
    out["Body"] = body
    return out


@operation("HeadObject")
def head_object(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _object_headers(services.head_object(ctx, bucket=p["Bucket"], key=p["Key"]))


@operation("DeleteObject")
def delete_object(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.delete_object(ctx, bucket=p["Bucket"], key=p["Key"])
    return {"_status": 204}


@operation("DeleteObjects")
def delete_objects(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    delete = p.get("Delete")
    if not isinstance(delete, dict) or not delete.get("Objects"):
        raise MalformedXML()
    keys = [o.get("Key", "") for o in delete["Objects"]]
    result = services.delete_objects(ctx, bucket=p["Bucket"], keys=keys)
    out: dict[str, Any] = {}
    if not delete.get("Quiet"):
        out["Deleted"] = [{"Key": k} for k in result.deleted]
    out["Errors"] = [{"Key": k, "Code": c, "Message": m} for k, c, m in result.errors]
    return out


@operation("CopyObject")
def copy_object(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    source = unquote(p.get("CopySource", "")).lstrip("/")
    source, _, version = source.partition("?")
    source_bucket, _, source_key = source.partition("/")
    if not source_bucket or not source_key or version:
        raise InvalidArgument("Invalid copy source object key", ArgumentName="x-amz-copy-source")
    replace_tags = p.get("TaggingDirective", "COPY") == "REPLACE"
    obj = services.copy_object(
        ctx,
        bucket=p["Bucket"],
        key=p["Key"],
        source_bucket=source_bucket,
        source_key=source_key,
        metadata_directive=p.get("MetadataDirective", "COPY"),
        metadata=p.get("Metadata") or {},
        content_type=p.get("ContentType"),
        tagging_directive=p.get("TaggingDirective", "COPY"),
        tagging=services.parse_tagging_header(p.get("Tagging", "")) if replace_tags else (),
    )
    return {"CopyObjectResult": {"ETag": obj.etag, "LastModified": obj.last_modified}}


def _encoding(p: dict[str, Any]) -> Callable[[str], str]:
    """How a listing writes keys and prefixes: as they are, or URL-encoded (``EncodingType=url``, which boto3 and the
    AWS CLI always ask for and decode)."""
    encoding = p.get("EncodingType")
    if encoding not in (None, "url"):
        raise InvalidArgument("Invalid Encoding Method specified in Request", ArgumentName="encoding-type")
    return (lambda text: quote_plus(text, safe="/")) if encoding == "url" else (lambda text: text)


@operation("ListObjects")
def list_objects(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    """ListObjects (version 1): Marker, and NextMarker when a delimiter is given and the listing is truncated
    (without one, the last key is the next marker, as S3 documents); every entry has its Owner."""
    enc = _encoding(p)
    prefix, delimiter, marker = p.get("Prefix", ""), p.get("Delimiter", ""), p.get("Marker", "")
    listing = services.list_objects(
        ctx, bucket=p["Bucket"], prefix=prefix, delimiter=delimiter, max_keys=p.get("MaxKeys", 1000), marker=marker
    )
    owner = _owner(listing.owner_account_id)
    out: dict[str, Any] = {
        "Name": p["Bucket"],
        "Prefix": enc(prefix),
        "Marker": enc(marker),
        "MaxKeys": p.get("MaxKeys", 1000),
        "IsTruncated": listing.is_truncated,
        "Contents": [
            {**item, "Key": enc(item["Key"]), "StorageClass": "STANDARD", "Owner": owner} for item in listing.contents
        ]
        or None,
        "CommonPrefixes": [{"Prefix": enc(c)} for c in listing.common_prefixes] or None,
    }
    if delimiter:
        out["Delimiter"] = enc(delimiter)
        if listing.is_truncated and listing.last is not None:
            out["NextMarker"] = enc(listing.last)
    if p.get("EncodingType"):
        out["EncodingType"] = p["EncodingType"]
    return out


@operation("ListObjectsV2")
def list_objects_v2(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    enc = _encoding(p)
    encoding = p.get("EncodingType")
    prefix, delimiter = p.get("Prefix", ""), p.get("Delimiter", "")
    listing = services.list_objects_v2(
        ctx,
        bucket=p["Bucket"],
        prefix=prefix,
        delimiter=delimiter,
        max_keys=p.get("MaxKeys", 1000),
        continuation_token=p.get("ContinuationToken"),
        start_after=p.get("StartAfter", ""),
    )
    owner = _owner(listing.owner_account_id) if p.get("FetchOwner") else None
    contents = []
    for item in listing.contents:
        entry = {**item, "Key": enc(item["Key"]), "StorageClass": "STANDARD"}
        if owner:
            entry["Owner"] = owner
        contents.append(entry)
    out: dict[str, Any] = {
        "Name": p["Bucket"],
        "Prefix": enc(prefix),
        "MaxKeys": p.get("MaxKeys", 1000),
        "KeyCount": listing.key_count,
        "IsTruncated": listing.is_truncated,
        "Contents": contents or None,
        "CommonPrefixes": [{"Prefix": enc(c)} for c in listing.common_prefixes] or None,
    }
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    if encoding:
        out["EncodingType"] = encoding
    if p.get("ContinuationToken"):
        out["ContinuationToken"] = p["ContinuationToken"]
    if listing.next_token:
        out["NextContinuationToken"] = listing.next_token
    if p.get("StartAfter"):
        out["StartAfter"] = enc(p["StartAfter"])
    return out


# ---- Bucket policy, tagging, Block Public Access ---------------------------------------------------------------


@operation("GetBucketPolicy")
def get_bucket_policy(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"Policy": services.get_bucket_policy(ctx, bucket=p["Bucket"])}


@operation("PutBucketPolicy")
def put_bucket_policy(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.put_bucket_policy(ctx, bucket=p["Bucket"], policy=p.get("Policy", ""))
    return {"_status": 204}


@operation("DeleteBucketPolicy")
def delete_bucket_policy(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.delete_bucket_policy(ctx, bucket=p["Bucket"])
    return {"_status": 204}


@operation("GetObjectTagging")
def get_object_tagging(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = services.get_object_tagging(ctx, bucket=p["Bucket"], key=p["Key"])
    return {"TagSet": [t.as_dict() for t in tags]}


@operation("PutObjectTagging")
def put_object_tagging(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.put_object_tagging(ctx, bucket=p["Bucket"], key=p["Key"], tags=_tags(p))
    return {}


@operation("DeleteObjectTagging")
def delete_object_tagging(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.delete_object_tagging(ctx, bucket=p["Bucket"], key=p["Key"])
    return {"_status": 204}


@operation("GetBucketTagging")
def get_bucket_tagging(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    tags = services.get_bucket_tagging(ctx, bucket=p["Bucket"])
    return {"TagSet": [t.as_dict() for t in tags]}


@operation("PutBucketTagging")
def put_bucket_tagging(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.put_bucket_tagging(ctx, bucket=p["Bucket"], tags=_tags(p))
    return {"_status": 204}


@operation("DeleteBucketTagging")
def delete_bucket_tagging(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.delete_bucket_tagging(ctx, bucket=p["Bucket"])
    return {"_status": 204}


@operation("GetPublicAccessBlock")
def get_public_access_block(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    config = services.get_public_access_block(ctx, bucket=p["Bucket"])
    return {"PublicAccessBlockConfiguration": config}


@operation("PutPublicAccessBlock")
def put_public_access_block(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    config = p.get("PublicAccessBlockConfiguration")
    if not isinstance(config, dict):
        raise MalformedXML()
    services.put_public_access_block(ctx, bucket=p["Bucket"], configuration=config)
    return {}


@operation("DeletePublicAccessBlock")
def delete_public_access_block(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    services.delete_public_access_block(ctx, bucket=p["Bucket"])
    return {"_status": 204}
