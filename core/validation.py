"""Input validation driven by botocore's IAM/STS service models.

The length and pattern constraints of every API member come from the same model the AWS SDKs use, so the
console and the Query API reject exactly what AWS rejects, with AWS's "N validation errors detected" wording.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape

from core.errors import InvalidInput, ValidationError

_API_VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15", "ec2": "2016-11-15", "organizations": "2016-11-28"}


def carries_nul(text: str, body: bytes) -> bool:
    """Whether a request's URL text or body holds a NUL character, raw or percent-encoded: PostgreSQL text cannot
    store one, so such a request is bad input (400), never a database error."""
    return "\x00" in text or "%00" in text or b"\x00" in body or b"%00" in body


@functools.cache
def service_model(service: str) -> ServiceModel:
    loader = Loader()
    return ServiceModel(loader.load_service_model(service, "service-2", _API_VERSIONS[service]), service)


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    if r"\p{" in pattern:
        return None  # Unicode property classes (tag keys/values): checked by _unicode_class_match
    try:
        # AWS patterns are Java regexes matched against the whole value; \w is ASCII there.
        return re.compile(pattern, re.ASCII | re.DOTALL)
    except re.error:
        return None


_TAG_EXTRA = set("_.:/=+-@")


def _unicode_class_match(value: str) -> bool:
    """``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*``: letters, separators, numbers and a few symbols."""
    return all(unicodedata.category(c)[0] in "LZN" or c in _TAG_EXTRA for c in value)


def _problems(name: str, shape: Shape, value: Any) -> list[str]:
    member = name[:1].lower() + name[1:]
    if value is None:
        return []
    if shape.type_name == "string":
        text = str(value)
        problems = []
        if getattr(shape, "enum", None) and text not in shape.enum:
            problems.append(
                f"Value '{text}' at '{member}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
            )
        pattern = shape.metadata.get("pattern")
        if pattern:
            compiled = compile_pattern(pattern)
            ok = compiled.fullmatch(text) is not None if compiled else _unicode_class_match(text)
            if not ok:
                problems.append(
                    f"Value '{text}' at '{member}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern}"
                )
        if "min" in shape.metadata and len(text) < shape.metadata["min"]:
            problems.append(
                f"Value '{text}' at '{member}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {shape.metadata['min']}"
            )
        if "max" in shape.metadata and len(text) > shape.metadata["max"]:
            problems.append(
                f"Value '{text}' at '{member}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {shape.metadata['max']}"
            )
        return problems
    if shape.type_name in ("integer", "long"):
        problems = []
        if "min" in shape.metadata and value < shape.metadata["min"]:
            problems.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {shape.metadata['min']}"
            )
        if "max" in shape.metadata and value > shape.metadata["max"]:
            problems.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {shape.metadata['max']}"
            )
        return problems
    if shape.type_name == "list":
        problems = []
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            problems.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {shape.metadata['max']}"
            )
        for index, item in enumerate(value, start=1):
            problems.extend(_problems(f"{member}.{index}.member", shape.member, item))
        return problems
    if shape.type_name == "structure" and isinstance(value, Mapping):
        problems = []
        for key, sub in value.items():
            if key in shape.members:
                problems.extend(_problems(f"{member}.{key[:1].lower() + key[1:]}", shape.members[key], sub))
        return problems
    return []


PATH_MESSAGE = (
    "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric "
    "characters and/or / characters."
)


def check_input(service: str, operation: str, /, **params: Any) -> None:
    """Validate ``params`` (AWS member names, e.g. ``UserName``) against the operation's input shape.

    Missing required members and constraint failures raise one ValidationError listing every problem.
    """
    shape = service_model(service).operation_model(operation).input_shape
    problems: list[str] = []
    for name in sorted(shape.required_members):
        if params.get(name) is None:
            member = name[:1].lower() + name[1:]
            problems.append(f"Value null at '{member}' failed to satisfy constraint: Member must not be null")
    for name, value in params.items():
        if name in shape.members:
            problems.extend(_problems(name, shape.members[name], value))
    if problems:
        count = len(problems)
        noun = "validation error" if count == 1 else "validation errors"
        raise ValidationError(f"{count} {noun} detected: " + "; ".join(problems))
    for name, value in params.items():
        # IAM paths (Path, NewPath) pass the model's pattern with an empty segment ("/a//b/"); IAM refuses them
        # (IAM identifiers: "Friendly names and paths").
        member = shape.members.get(name)
        if member is not None and member.name == "pathType" and isinstance(value, str) and "//" in value:
            raise ValidationError(PATH_MESSAGE)
    if service == "iam":
        check_reserved_tag_keys(params.get("Tags"))


RESERVED_TAG_PREFIX = "aws:"
RESERVED_TAG_KEY = "Tag keys starting with 'aws:' are reserved for internal use."


def check_reserved_tag_keys(tags: Any) -> None:
    """AWS reserves the ``aws:`` prefix of tag keys, in any letter case, for its own tags: every IAM Create* and
    Tag* operation that takes Tags (and the console's tag editors, which validate through ``check_input``) refuses
    them with InvalidInput."""
    for tag in tags or ():
        key = tag.get("Key") if isinstance(tag, Mapping) else None
        if isinstance(key, str) and key[: len(RESERVED_TAG_PREFIX)].lower() == RESERVED_TAG_PREFIX:
            raise InvalidInput(RESERVED_TAG_KEY)
