"""The rules IAM applies when a policy document enters (CreatePolicy, CreatePolicyVersion, Put*Policy, trust
policies, session policies), on top of the structural grammar of ``parser.py``.

Each rule names the AWS page or the AWS answer it follows; docs/policy-grammar.md lists them with IAM's messages.
Stored documents are evaluated without these rules (``parse_policy(strict=False)``): a rule added later must
never silently drop a policy that IAM accepted when it was saved.

- Version (IAM JSON policy elements: Version): a managed policy must say ``2012-10-17``; IAM answers
  "Policy document must be version 2012-10-17 or greater." for no Version or ``2008-10-17``. Inline, trust and
  session policies may omit it (the language then defaults to 2008-10-17, where policy variables are plain text).
- ``"Statement": []`` and lone UTF-16 surrogates (``\\ud800``) are syntax errors.
- Legacy parsing ("The policy failed legacy parsing"): a Date condition value that is neither epoch seconds
  nor an ISO 8601 date-time; a resource with ``::`` but fewer than six ARN parts, or an empty service.
- Resource formats (IAM JSON policy elements: Resource; Amazon Resource Names): ``*`` or an ARN of the ``aws``
  partition; IAM resources carry no Region and name one of IAM's resource types; S3 bucket and object ARNs
  carry no Region.
- Actions (IAM JSON policy elements: Action): ``vendor:action`` with one colon and a vendor of letters, digits,
  ``-`` and ``.``.
"""

from __future__ import annotations

import re
from typing import Any

from .jsonscan import join_index, join_key
from .problems import (
    M_LEGACY,
    M_SYNTAX,
    M_VERSION,
    STAGE_ACTION_FORMAT,
    STAGE_LEGACY,
    STAGE_RESOURCE_FORMAT,
    STAGE_SYNTAX,
    STAGE_VERSION,
    PolicyProblem,
    condition_value,
    parse_operator,
)

M_ONE_COLON = "Actions/Condition can contain only one colon."
M_RESOURCE_VENDOR = "Resource vendor must be fully qualified and cannot contain regexes."
IAM_RESOURCE_TYPES = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)
M_IAM_RESOURCE_TYPE = 'IAM resource path must either be "*" or start with ' + ", ".join(IAM_RESOURCE_TYPES) + "."
_VENDOR = re.compile(r"[A-Za-z0-9.\-]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
# IAM's date parser: epoch seconds (a signed 64-bit integer), or ISO 8601 with an optional time, fraction of at
# most nine digits and a zone "Z" or ±hh[[:]mm] (answers collected in docs/policy-grammar.md).
_EPOCH = re.compile(r"\d+")
_ISO_DATE = re.compile(r"[+-]?\d{1,9}((-\d{1,2})(-\d{1,2})?)?")
_ISO_TIME = re.compile(r"(\d{1,2}(:\d{1,2}(:\d{1,2}(\.\d{1,9})?)?)?)?(z|[+-]\d{2}(:?\d{2})?)?")


def entry_problems(value: Any, kind: str, *, managed: bool = False) -> list[PolicyProblem]:
    """Problems IAM reports at entry that the structural parser does not (an empty list when the shape is too
    broken for them to apply: the parser has already reported a syntax error)."""
    if not isinstance(value, dict):
        return []
    problems: list[PolicyProblem] = []

    def add(message: str, code: str, path: str, stage: int) -> None:
        problems.append(PolicyProblem(message, code, path, stage))

    if _has_surrogate(value):
        add(M_SYNTAX, "JSON_SYNTAX_ERROR", "", STAGE_SYNTAX)
    if value.get("Statement") == []:
        add(M_SYNTAX, "MISSING_STATEMENT", "Statement", STAGE_SYNTAX)
    if managed and value.get("Version") in (None, "2008-10-17"):
        add(M_VERSION, "INVALID_VERSION", "Version", STAGE_VERSION)
    raw = value.get("Statement")
    items = [("Statement", raw)] if isinstance(raw, dict) else []
    if isinstance(raw, list):
        items = [(join_index("Statement", i), s) for i, s in enumerate(raw)]
    for path, statement in items:
        if not isinstance(statement, dict):
            continue
        _conditions(statement.get("Condition"), join_key(path, "Condition"), add)
        if kind != "trust":
            for key in ("Resource", "NotResource"):
                for item_path, resource in _strings(statement, key, path):
                    _resource(resource, item_path, add)
        for key in ("Action", "NotAction"):
            for item_path, action in _strings(statement, key, path):
                _action(action, item_path, add)
    return problems


def _has_surrogate(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if depth > 64:  # deeper than any policy; the parser has refused the shape already
        return False
    if isinstance(value, dict):
        return any(_has_surrogate(k, depth + 1) or _has_surrogate(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v, depth + 1) for v in value)
    return False


def _strings(statement: dict[str, Any], key: str, path: str) -> list[tuple[str, str]]:
    raw = statement.get(key)
    if isinstance(raw, str):
        return [(join_key(path, key), raw)]
    if isinstance(raw, list):
        return [(join_index(join_key(path, key), i), v) for i, v in enumerate(raw) if isinstance(v, str)]
    return []


def _conditions(block: Any, path: str, add: Any) -> None:
    if not isinstance(block, dict):
        return
    for operator, keys in block.items():
        parsed = parse_operator(operator)
        if parsed is None or not parsed[0].startswith("Date") or not isinstance(keys, dict):
            continue
        for key, raw in keys.items():
            for item in raw if isinstance(raw, list) else [raw]:
                text = condition_value(item)
                if text is not None and not valid_date(text):
                    add(M_LEGACY, "INVALID_DATE", join_key(join_key(path, operator), key), STAGE_LEGACY)


def valid_date(text: str) -> bool:
    """Whether IAM's legacy parser reads ``text`` as a date: epoch seconds or ISO 8601 (month 1-12, day 1-31)."""
    lowered = text.lower()
    if "t" not in lowered and "-" not in lowered:
        return bool(_EPOCH.fullmatch(text)) and int(text) <= 2**63 - 1
    date, sep, time = lowered.partition("t")
    match = _ISO_DATE.fullmatch(date)
    if "t" in time or not 1 <= len(date) <= 10 or match is None:
        return False
    month, day = match.group(2), match.group(3)
    if (month and not 1 <= int(month[1:]) <= 12) or (day and not 1 <= int(day[1:]) <= 31):
        return False
    if not sep:
        return True
    clock = _ISO_TIME.fullmatch(time)
    if clock is None:
        return False
    hms = [int(p) for p in re.findall(r"\d+", (clock.group(1) or "").split(".")[0])]
    return all(v <= limit for v, limit in zip(hms, (24, 59, 59), strict=False))


def _resource(resource: str, path: str, add: Any) -> None:
    if resource == "*":
        return
    error = resource_format_error(resource)
    if error is not None:
        add(error, "INVALID_ARN_RESOURCE", path, STAGE_RESOURCE_FORMAT)
        return
    parts = resource.split(":")
    # IAM's legacy parser: "::" needs the full six parts, and the service part may not be empty.
    if ("::" in resource and resource.count(":") < 5) or parts[2] == "":
        add(M_LEGACY, "INVALID_ARN_RESOURCE", path, STAGE_LEGACY)


def resource_format_error(resource: str) -> str | None:
    """IAM's message for a Resource that is not ``*`` nor a well-formed ARN for its service, or None."""
    if ":" not in resource:
        return f'Resource {resource} must be in ARN format or "*".'
    rest = resource.split(":", 1)[1]  # IAM reads the first part as "arn", whatever it says
    partition, sep, after = rest.partition(":")
    if partition != "aws":
        tail = after.split(":")
        fields = [tail[0] if tail[0] != "" or len(tail) > 1 else "*"]
        fields += [tail[1] if len(tail) > 1 else "*", tail[2] if len(tail) > 2 else "*"]
        fields.append(":".join(tail[3:]) if len(tail) > 3 else "*")
        return f'Partition "{partition}" is not valid for resource "arn:{partition}:{":".join(fields)}".'
    if not sep:
        return M_RESOURCE_VENDOR
    parts = after.split(":", 3)  # service, region, account, resource
    service = parts[0]
    region = parts[1] if len(parts) > 1 else ""
    account = parts[2] if len(parts) > 2 else ""
    if service == "iam":
        if region:
            return f"IAM resource {resource} cannot contain region information."
        if len(parts) < 4 or (parts[3] != "*" and not parts[3].startswith(IAM_RESOURCE_TYPES)):
            return M_IAM_RESOURCE_TYPE
    if service == "s3" and region and not account:
        # Bucket and object ARNs have neither Region nor account; S3's account-level resources (access points,
        # jobs, Storage Lens) carry both.
        return f"Resource {resource} can not contain region information."
    return None


def _action(action: str, path: str, add: Any) -> None:
    if action == "*":
        return
    parts = action.split(":")
    if len(parts) == 1:
        return  # the parser reports the missing vendor ("Actions/Conditions must be prefaced by a vendor")
    if len(parts) > 2:
        add(M_ONE_COLON, "INVALID_ACTION_FORMAT", path, STAGE_ACTION_FORMAT)
    elif parts[0] != "*" and not _VENDOR.fullmatch(parts[0]):
        add(f"Vendor {parts[0]} is not valid", "INVALID_SERVICE", path, STAGE_ACTION_FORMAT)
