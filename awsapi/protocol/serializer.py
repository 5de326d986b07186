"""The AWS query protocol, response side: a result dict → ``<XResponse><XResult>…`` XML following the operation's
output shape; an IamError → ``<ErrorResponse><Error><Type>…``. No XML is written by hand per action."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from core.errors import IamError

NAMESPACES = {"iam": "https://iam.amazonaws.com/doc/2010-05-08/", "sts": "https://sts.amazonaws.com/doc/2011-06-15/"}


def serialize(service: str, operation: OperationModel, result: dict[str, Any], request_id: str) -> bytes:
    root = Element(f"{operation.name}Response", xmlns=NAMESPACES[service])
    shape = operation.output_shape
    if shape is not None:
        wrapper = SubElement(root, operation.output_shape.serialization.get("resultWrapper", f"{operation.name}Result"))
        _structure(wrapper, shape, result)
    metadata = SubElement(root, "ResponseMetadata")
    SubElement(metadata, "RequestId").text = request_id
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root)


def serialize_error(service: str, error: IamError, request_id: str) -> bytes:
    root = Element("ErrorResponse", xmlns=NAMESPACES.get(service, NAMESPACES["iam"]))
    node = SubElement(root, "Error")
    SubElement(node, "Type").text = "Sender" if error.sender_fault else "Receiver"
    SubElement(node, "Code").text = error.code
    SubElement(node, "Message").text = error.message
    SubElement(root, "RequestId").text = request_id
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root)


def _structure(parent: Element, shape: StructureShape, value: dict[str, Any]) -> None:
    for name, member in shape.members.items():
        if name in value and value[name] is not None:
            _member(parent, member.serialization.get("name", name), member, value[name])


def _member(parent: Element, tag: str, shape: Shape, value: Any) -> None:
    if isinstance(shape, ListShape):
        node = SubElement(parent, tag)
        item_tag = shape.member.serialization.get("name", "member")
        for item in value:
            _member(node, item_tag, shape.member, item)
        return
    if isinstance(shape, MapShape):
        node = SubElement(parent, tag)
        for key, item in value.items():
            entry = SubElement(node, "entry")
            SubElement(entry, shape.key.serialization.get("name", "key")).text = str(key)
            _member(entry, shape.value.serialization.get("name", "value"), shape.value, item)
        return
    node = SubElement(parent, tag)
    if isinstance(shape, StructureShape):
        _structure(node, shape, value)
    else:
        node.text = _scalar(shape, value)


def _scalar(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        if isinstance(value, datetime):
            # Naive datetimes are taken as UTC already; aware ones are converted, so the literal Z is true.
            if value.tzinfo is not None:
                value = value.astimezone(UTC)
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")
        return str(value)
    if shape.type_name == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return str(value)
