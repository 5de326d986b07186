"""S3's REST-XML protocol, driven by botocore's ``s3`` service model (as ``awsapi.protocol`` is for the Query
protocol): which operation a request is (method, path and query subresources from each operation's
``requestUri``), its input from the URI, query string, headers and XML payload following the input shape, and
the response's headers and XML body following the output shape. No XML is written by hand per operation.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from s3.errors import FeatureNotImplemented, MalformedXML, MethodNotAllowed, S3Error

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@functools.cache
def service_model() -> ServiceModel:
    return ServiceModel(Loader().load_service_model("s3", "service-2"), "s3")


# ---- Routing ---------------------------------------------------------------------------------------------------


@functools.cache
def _routes() -> list[tuple[str, bool, bool, dict[str, str | None], str]]:
    """(method, has bucket, has key, subresource markers, operation) for every operation of the model."""
    model = service_model()
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/")
        path, _, query = uri.partition("?")
        markers: dict[str, str | None] = {}
        for part in filter(None, query.split("&")):
            key, sep, value = part.partition("=")
            if key != "x-id":
                markers[key] = value if sep else None
        routes.append((http["method"], "{Bucket}" in path, "{Key+}" in path, markers, name))
    return routes


def route(
    method: str,
    bucket: str,
    key: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    preferred: Collection[str] = (),
) -> str:
    """The operation a request is, as S3 routes it; MethodNotAllowed / NotImplemented as S3 answers. Among
    operations the request matches equally (ListBuckets and ListDirectoryBuckets), one of ``preferred``."""
    best: tuple[tuple[int, bool], str] | None = None
    for route_method, has_bucket, has_key, markers, name in _routes():
        if route_method != method or has_bucket != bool(bucket) or has_key != bool(key):
            continue
        if any(m not in query or (v is not None and query[m] != v) for m, v in markers.items()):
            continue
        score = (len(markers), name in preferred)
        if best is None or score > best[0]:
            best = (score, name)
    if best is None:
        raise MethodNotAllowed(Method=method, ResourceType="OBJECT" if key else "BUCKET")
    name = best[1]
    if "uploadId" in query and best[0][0] == 0:
        raise FeatureNotImplemented("Multipart uploads are not supported by this practice service.")
    if name == "PutObject" and "x-amz-copy-source" in headers:
        name = "CopyObject"
    if name == "CopyObject" and "x-amz-copy-source" not in headers:
        name = "PutObject"
    if name == "ListObjects" and query.get("list-type") == "2":
        name = "ListObjectsV2"
    return name


# ---- Input -----------------------------------------------------------------------------------------------------


def parse_input(
    operation: OperationModel,
    *,
    bucket: str,
    key: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    shape = operation.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        where = member.serialization.get("name", name)
        if location == "uri":
            value = bucket if where == "Bucket" else key
            if value:
                params[name] = value
        elif location == "querystring":
            if isinstance(member, MapShape):
                continue
            if where in query:
                params[name] = _scalar_in(member, query[where])
        elif location == "header":
            if where.lower() in headers:
                params[name] = _scalar_in(member, headers[where.lower()])
        elif location == "headers":
            prefix = where.lower()
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        elif name == payload:
            if member.type_name in ("blob", "string"):
                params[name] = body if member.type_name == "blob" else body.decode("utf-8", "replace")
            elif body.strip():
                params[name] = _parse_xml(member, body)
    return params


def _scalar_in(shape: Shape, text: str) -> Any:
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise S3Error(f"Provided {shape.name} not an integer or within integer range") from None
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


def _parse_xml(shape: Shape, body: bytes) -> Any:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise MalformedXML()  # no entity expansion, ever
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise MalformedXML() from None
    expected = shape.serialization.get("name", shape.name)
    if _local(root.tag) != expected:
        raise MalformedXML()
    return _element(shape, root)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element(shape: Shape, node: ElementTree.Element) -> Any:
    if isinstance(shape, StructureShape):
        out: dict[str, Any] = {}
        children = list(node)
        for name, member in shape.members.items():
            tag = member.serialization.get("name", name)
            if isinstance(member, ListShape) and member.serialization.get("flattened"):
                items = [c for c in children if _local(c.tag) == tag]
                if items:
                    out[name] = [_element(member.member, c) for c in items]
                continue
            match = next((c for c in children if _local(c.tag) == tag), None)
            if match is not None:
                out[name] = _element(member, match)
        known = {m.serialization.get("name", n) for n, m in shape.members.items()}
        if any(_local(c.tag) not in known for c in children):
            raise MalformedXML()
        return out
    if isinstance(shape, ListShape):
        tag = shape.member.serialization.get("name", "member")
        items = list(node)
        if any(_local(c.tag) != tag for c in items):
            raise MalformedXML()
        return [_element(shape.member, c) for c in items]
    text = node.text or ""
    if shape.type_name == "boolean":
        if text not in ("true", "false"):
            raise MalformedXML()
        return text == "true"
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise MalformedXML() from None
    return text


# ---- Output ----------------------------------------------------------------------------------------------------

# The root element of output documents that have no payload member (S3's own names).
ROOTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "DeleteObjects": "DeleteResult",
    "GetObjectTagging": "Tagging",
    "GetBucketTagging": "Tagging",
    "PutObjectTagging": "",
}


def serialize(operation: OperationModel, result: Mapping[str, Any]) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of a successful response."""
    shape = operation.output_shape
    headers: list[tuple[str, str]] = []
    if shape is None:
        return headers, b""
    payload = shape.serialization.get("payload")
    body_members: dict[str, Shape] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        value = result.get(name)
        if location == "header":
            if value is not None:
                headers.append((member.serialization["name"], _header_value(member, value)))
        elif location == "headers":
            for k, v in (value or {}).items():
                headers.append((member.serialization.get("name", "") + k, str(v)))
        elif location == "statusCode":
            continue
        elif name != payload:
            body_members[name] = member
    if operation.name == "GetBucketLocation":
        region = result.get("LocationConstraint") or ""
        text = _escape(region)
        return headers, f'{_DECLARATION}<LocationConstraint xmlns="{NAMESPACE}">{text}</LocationConstraint>'.encode()
    if payload is not None:
        member = shape.members[payload]
        value = result.get(payload)
        if value is None:
            return headers, b""
        if member.type_name == "blob":
            return headers, bytes(value)
        if member.type_name == "string":
            return headers, str(value).encode()
        root = member.serialization.get("name", payload)
        out = [f'{_DECLARATION}<{root} xmlns="{NAMESPACE}">']
        _structure(out, member, value)  # type: ignore[arg-type]
        out.append(f"</{root}>")
        return headers, "".join(out).encode()
    root = ROOTS.get(operation.name)
    if not root or not body_members:
        return headers, b""
    out = [f'{_DECLARATION}<{root} xmlns="{NAMESPACE}">']
    for name, member in body_members.items():
        value = result.get(name)
        if value is not None:
            _member(out, member.serialization.get("name", name), member, value)
    out.append(f"</{root}>")
    return headers, "".join(out).encode()


def serialize_error(error: S3Error | Any, request_id: str, host_id: str) -> bytes:
    details = "".join(
        f"<{k}>{_escape(str(v))}</{k}>" for k, v in getattr(error, "details", {}).items() if v is not None
    )
    return (
        f"{_DECLARATION}<Error><Code>{_escape(error.code)}</Code><Message>{_escape(error.message)}</Message>"
        f"{details}<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    ).encode()


def _structure(out: list[str], shape: StructureShape, value: Mapping[str, Any]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            _member(out, member.serialization.get("name", name), member, item)


def _member(out: list[str], tag: str, shape: Shape, value: Any) -> None:
    if isinstance(shape, ListShape):
        item_tag = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            for item in value:
                _member(out, tag, shape.member, item)
            return
        out.append(f"<{tag}>")
        for item in value:
            _member(out, item_tag, shape.member, item)
        out.append(f"</{tag}>")
        return
    out.append(f"<{tag}>")
    if isinstance(shape, StructureShape):
        _structure(out, shape, value)
    else:
        out.append(_escape(_scalar_out(shape, value)))
    out.append(f"</{tag}>")


_XML_UNSAFE = re.compile(r"[&<>\"\r]")


def _escape(text: str) -> str:
    if _XML_UNSAFE.search(text) is None:
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def _scalar_out(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    if shape.type_name == "blob":
        return base64.b64encode(value).decode()
    return str(value)


def _header_value(shape: Shape, value: Any) -> str:
    if shape.type_name == "timestamp":
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return format_datetime(when.astimezone(UTC).replace(microsecond=0), usegmt=True)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    return str(value)


def query_dict(query: str) -> dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=True))
