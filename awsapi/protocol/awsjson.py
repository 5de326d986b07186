"""AWS's ``json`` protocol (JSON 1.0/1.1: AWS Organizations), both sides, driven by botocore's service model.

A request is ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Operation>`` and a JSON object as its body; the answer
is a JSON object following the operation's output shape (timestamps as epoch seconds, blobs in base64), and an
error is ``{"__type": "<Code>", "Message": "…"}`` with the error's HTTP status. Nothing is written per operation.

``parse`` checks what the model says of each member: its JSON type (``SerializationException``, as AWS answers a
value of the wrong type) and its constraints (required, enum, length, pattern, range), which it reports as a
``Violation`` naming the reason; each service answers a violation in its own terms (Organizations: an
``InvalidInputException`` carrying the reason).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from core.errors import IamError
from core.validation import compile_pattern


class SerializationException(IamError):
    code, status = "SerializationException", 400


class Violation(Exception):
    """A member's value breaks a constraint of the model: ``reason`` is one of INPUT_REQUIRED, INVALID_ENUM,
    INVALID_PATTERN, MIN_LENGTH_EXCEEDED, MAX_LENGTH_EXCEEDED, MIN_VALUE_EXCEEDED, MAX_VALUE_EXCEEDED."""

    def __init__(self, reason: str, member: str) -> None:
        super().__init__(f"{reason} at {member}")
        self.reason = reason
        self.member = member


# ---- request ----------------------------------------------------------------------------------------------------


def parse(shape: StructureShape | None, body: bytes) -> dict[str, Any]:
    """The request's parameters, by the input shape. An empty body is ``{}``."""
    if not body.strip():
        document: Any = {}
    else:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise SerializationException("Start of structure or map found where not expected.") from None
    if not isinstance(document, dict):
        raise SerializationException("Start of structure or map found where not expected.")
    if shape is None:
        return {}
    return _structure(shape, document, "")


def _structure(shape: StructureShape, value: dict[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in shape.required_members:
        if value.get(name) is None:
            raise Violation("INPUT_REQUIRED", path + name)
    for name, member in shape.members.items():
        item = value.get(member.serialization.get("name", name))
        if item is not None:
            out[name] = _value(member, item, path + name)
    return out  # members the model does not have are ignored, as AWS's JSON services do


def _value(shape: Shape, value: Any, path: str) -> Any:
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise SerializationException(f"Unexpected value type in payload at {path}.")
        return _structure(shape, value, path + ".")
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise SerializationException(f"Unexpected value type in payload at {path}.")
        _length(shape, len(value), path)
        return [_value(shape.member, item, f"{path}.member") for item in value]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise SerializationException(f"Unexpected value type in payload at {path}.")
        return {_value(shape.key, k, path): _value(shape.value, v, path) for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            raise SerializationException(f"Unexpected value type in payload at {path}.")
        if "\x00" in value:
            raise Violation("INVALID_PATTERN", path)  # PostgreSQL text holds no NUL: bad input, never a 500
        if shape.enum and value not in shape.enum:
            raise Violation("INVALID_ENUM", path)
        _length(shape, len(value), path)
        pattern = shape.metadata.get("pattern")
        compiled = compile_pattern(pattern) if pattern else None
        if compiled is not None and compiled.fullmatch(value) is None:
            raise Violation("INVALID_PATTERN", path)
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SerializationException(f"Unexpected value type in payload at {path}.")
        if "min" in shape.metadata and value < shape.metadata["min"]:
            raise Violation("MIN_VALUE_EXCEEDED", path)
        if "max" in shape.metadata and value > shape.metadata["max"]:
            raise Violation("MAX_VALUE_EXCEEDED", path)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise SerializationException(f"Unexpected value type in payload at {path}.")
        return value
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SerializationException(f"Unexpected value type in payload at {path}.")
        return datetime.fromtimestamp(value, UTC)
    if kind == "blob":
        if not isinstance(value, str):
            raise SerializationException(f"Unexpected value type in payload at {path}.")
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            raise SerializationException(f"Unexpected value type in payload at {path}.") from None
    return value  # double, float: taken as sent


def _length(shape: Shape, length: int, path: str) -> None:
    if "min" in shape.metadata and length < shape.metadata["min"]:
        raise Violation("MIN_LENGTH_EXCEEDED", path)
    if "max" in shape.metadata and length > shape.metadata["max"]:
        raise Violation("MAX_LENGTH_EXCEEDED", path)


# ---- response ---------------------------------------------------------------------------------------------------


def serialize(operation: OperationModel, result: dict[str, Any]) -> bytes:
    shape = operation.output_shape
    document = _out_structure(shape, result) if shape is not None else {}
    return json.dumps(document, separators=(",", ":")).encode()


def serialize_error(error: IamError, **members: Any) -> bytes:
    """``{"__type": code, "Message": message, …}``: ``members`` are the error shape's other members (Reason…)."""
    document = {"__type": error.code, "Message": error.message}
    document.update({k: v for k, v in members.items() if v is not None})
    return json.dumps(document, separators=(",", ":")).encode()


def _out_structure(shape: StructureShape, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            out[member.serialization.get("name", name)] = _out(member, item)
    return out


def _out(shape: Shape, value: Any) -> Any:
    if isinstance(shape, StructureShape):
        return _out_structure(shape, value)
    if isinstance(shape, ListShape):
        return [_out(shape.member, item) for item in value]
    if isinstance(shape, MapShape):
        return {str(k): _out(shape.value, v) for k, v in value.items()}
    kind = shape.type_name
    if kind == "timestamp":
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return round(value.timestamp(), 3)
        return value
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    if kind == "boolean":
        return bool(value)
    if kind in ("integer", "long"):
        return int(value)
    return value
