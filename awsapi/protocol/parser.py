"""The AWS query protocol, request side: flat form fields (``Tags.member.1.Key=…``) → a dict shaped like the
operation's input shape in botocore's service model, with types coerced from the shape."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from core.errors import ValidationError


def parse(shape: StructureShape | None, form: Mapping[str, str]) -> dict[str, Any]:
    if shape is None:
        return {}
    return _structure(shape, form, "") or {}


def _structure(shape: StructureShape, form: Mapping[str, str], prefix: str) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        key = member.serialization.get("name", name)
        value = _value(member, form, f"{prefix}{key}")
        if value is not None:
            result[name] = value
    return result or None


def _value(shape: Shape, form: Mapping[str, str], key: str) -> Any:
    if isinstance(shape, StructureShape):
        return _structure(shape, form, key + ".")
    if isinstance(shape, ListShape):
        return _list(shape, form, key)
    if isinstance(shape, MapShape):
        return _map(shape, form, key)
    if key not in form:
        return None
    return _scalar(shape, form[key], key)


def _list(shape: ListShape, form: Mapping[str, str], key: str) -> list[Any] | None:
    flattened = shape.serialization.get("flattened", False)
    member_name = shape.member.serialization.get("name", "member")
    base = key if flattened else f"{key}.{member_name}"
    items = []
    index = 1
    while True:
        item = _value(shape.member, form, f"{base}.{index}")
        if item is None:
            break
        items.append(item)
        index += 1
    if not items and form.get(key) == "":
        return []  # an explicitly empty list is sent as "Key="
    return items or None


def _map(shape: MapShape, form: Mapping[str, str], key: str) -> dict[str, Any] | None:
    base = key if shape.serialization.get("flattened") else f"{key}.entry"
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    result = {}
    index = 1
    while f"{base}.{index}.{key_name}" in form:
        result[form[f"{base}.{index}.{key_name}"]] = _value(shape.value, form, f"{base}.{index}.{value_name}")
        index += 1
    return result or None


def _scalar(shape: Shape, raw: str, key: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(raw)
        if kind in ("float", "double"):
            return float(raw)
        if kind == "boolean":
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            return raw.lower() == "true"
        if kind == "timestamp":
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        member = key[:1].lower() + key[1:]
        raise ValidationError(
            f"1 validation error detected: Value '{raw}' at '{member}' failed to satisfy "
            f"constraint: Member must be of type {kind}"
        ) from None
    return raw


# ---- EC2's flavour of the query protocol ------------------------------------------------------------------------
# EC2 names a member by its queryName, else its locationName with the first letter capitalized, else the member's
# own name; every list is flattened (``InstanceId.1``, ``Filter.1.Value.1``), as botocore's EC2 serializer writes.


def ec2_name(name: str, shape: Shape) -> str:
    serialization = shape.serialization
    if "queryName" in serialization:
        return serialization["queryName"]
    if "name" in serialization:
        location = serialization["name"]
        return location[:1].upper() + location[1:]
    return name


def parse_ec2(shape: StructureShape | None, form: Mapping[str, str]) -> dict[str, Any]:
    if shape is None:
        return {}
    return _ec2_structure(shape, form, "") or {}


def _ec2_structure(shape: StructureShape, form: Mapping[str, str], prefix: str) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = _ec2_value(member, form, f"{prefix}{ec2_name(name, member)}")
        if value is not None:
            result[name] = value
    return result or None


def _ec2_value(shape: Shape, form: Mapping[str, str], key: str) -> Any:
    if isinstance(shape, StructureShape):
        return _ec2_structure(shape, form, key + ".")
    if isinstance(shape, ListShape):
        items = []
        index = 1
        while (item := _ec2_value(shape.member, form, f"{key}.{index}")) is not None:
            items.append(item)
            index += 1
        return items or None
    if key not in form:
        return None
    return _scalar(shape, form[key], key)
