"""JSON policy text (or an already-decoded object) → ``PolicyDocument``.

Every problem becomes a ``PolicyProblem`` carrying the AWS ``MalformedPolicyDocument`` message, an
Access Analyzer-style issue code and a location (JSON path, plus 1-based line/column when text was
given). ``parse_policy`` raises the first one as ``PolicyParseError``; ``validate.validate_policy`` reports
all of them. Arbitrary input never raises anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .ast import KNOWN_VERSIONS, Condition, PolicyDocument, PolicyKind, PrincipalEntry, Statement
from .findings import Location
from .grammar import entry_problems
from .jsonscan import JsonSyntaxError, LineIndex, join_index, join_key, scan
from .matching import compile_action_pattern
from .problems import (
    M_LEGACY,
    M_MISSING_EFFECT,
    M_MISSING_PRINCIPAL,
    M_NO_ACTIONS,
    M_NO_PRINCIPAL_ALLOWED,
    M_NO_RESOURCES,
    M_SID_ALNUM,
    M_SID_UNIQUE,
    M_SYNTAX,
    M_TRUST_ACTIONS,
    M_VENDOR,
    STAGE_BY_MESSAGE,
    STAGE_SYNTAX,
    PolicyProblem,
    condition_value,
    parse_operator,
)

KINDS: tuple[str, ...] = ("identity", "resource", "trust", "scp", "session", "boundary")
_PRINCIPAL_KINDS = ("resource", "trust")  # the policy types that have a Principal element
_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}
)
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_SID_ALNUM = re.compile(r"[0-9A-Za-z]*")
_ACCOUNT_ID = re.compile(r"\d{12}")
_AWS_PRINCIPAL_ARN = re.compile(r"arn:[a-z0-9-]+:(iam|sts)::\d{12}:[^*?]+")
# Trust policies may also carry the session-tagging/source-identity/context actions, checked with AssumeRole.
_TRUST_ACTIONS = (
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
)


class PolicyParseError(ValueError):
    """The one error ``parse_policy`` raises: ``message`` is AWS's MalformedPolicyDocument text."""

    def __init__(self, message: str, location: Location, issue_code: str = "SYNTAX_ERROR") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.issue_code = issue_code

    def __str__(self) -> str:
        where = self.location.path or "(document)"
        if self.location.line is not None:
            where += f" (line {self.location.line}, column {self.location.column})"
        return f"{self.message} at {where}"


@dataclass(slots=True)
class ParseResult:
    document: PolicyDocument | None
    problems: list[PolicyProblem]
    locate: Any  # Callable[[str], Location]
    value: Any = None  # the decoded JSON value, when the text was valid JSON


def parse_policy(
    text_or_obj: Any, *, kind: PolicyKind = "identity", strict: bool = False, managed: bool = False
) -> PolicyDocument:
    """The document, or ``PolicyParseError`` with the message IAM gives first (the earliest failing stage).

    ``strict`` adds the rules IAM applies when a document *enters* (``grammar.py``: Version, resource ARN formats,
    action vendors, legacy date parsing...); evaluation of stored documents parses without them. ``managed``
    marks a managed policy (CreatePolicy / CreatePolicyVersion), which must say Version 2012-10-17."""
    result = parse_collecting(text_or_obj, kind=kind, strict=strict, managed=managed)
    if result.problems:
        first = min(result.problems, key=lambda p: p.stage)  # min() keeps document order within a stage
        raise PolicyParseError(first.message, result.locate(first.path), first.issue_code)
    assert result.document is not None
    return result.document


def parse_collecting(
    text_or_obj: Any, *, kind: str = "identity", strict: bool = False, managed: bool = False
) -> ParseResult:
    """Parse, collecting every grammar problem instead of stopping at the first."""
    if kind not in KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")  # a programming error, not a policy error
    locate = _no_text_locator
    try:
        if isinstance(text_or_obj, (bytes, bytearray)):
            text_or_obj = bytes(text_or_obj).decode("utf-8")
        if isinstance(text_or_obj, str):
            text = text_or_obj[1:] if text_or_obj.startswith("\ufeff") else text_or_obj
            locate = _text_locator(text, {})
            value, offsets = scan(text)
            locate = _text_locator(text, offsets)
        else:
            value = text_or_obj
        builder = _Builder(kind)
        document = builder.document(value)
        if strict:
            builder.problems.extend(entry_problems(value, kind, managed=managed))
        return ParseResult(None if builder.problems else document, builder.problems, locate, value)
    except JsonSyntaxError as exc:
        problem = PolicyProblem(M_SYNTAX, "JSON_SYNTAX_ERROR", exc.path)
        text_loc = locate(exc.path)
        offset_loc = _offset_location(text_or_obj, exc.offset, exc.path)
        failed_path = exc.path  # ``exc`` is unbound once the except block ends; the locator outlives it
        return ParseResult(None, [problem], lambda path: offset_loc if path == failed_path else text_loc)
    except (UnicodeDecodeError, RecursionError, TypeError, AttributeError):
        # Undecodable bytes, or an object graph too deep/odd to walk: not a policy.
        return ParseResult(None, [PolicyProblem(M_SYNTAX, "JSON_SYNTAX_ERROR", "")], _no_text_locator)


def _no_text_locator(path: str) -> Location:
    return Location(path)


def _text_locator(text: str, offsets: dict[str, int]) -> Any:
    lines = LineIndex(text)

    def locate(path: str) -> Location:
        # Fall back to the nearest enclosing element that has a recorded position.
        probe = path
        while probe and probe not in offsets:
            shorter = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe)
            probe = "" if shorter == probe else shorter  # a bare top-level key: nothing left to strip
        offset = offsets.get(probe, 0)
        line, column = lines.line_col(offset)
        return Location(path, line, column)

    return locate


def _offset_location(text: Any, offset: int, path: str) -> Location:
    text = text.decode("utf-8") if isinstance(text, (bytes, bytearray)) else text
    text = text[1:] if text.startswith("\ufeff") else text
    line, column = LineIndex(text).line_col(offset)
    return Location(path, line, column)


def _as_list(value: Any) -> list[Any] | None:
    """A string or a list of strings, as AWS accepts for Action/Resource; None if the shape is wrong."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


class _Builder:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.problems: list[PolicyProblem] = []

    def problem(self, message: str, code: str, path: str) -> None:
        self.problems.append(PolicyProblem(message, code, path, STAGE_BY_MESSAGE.get(message, STAGE_SYNTAX)))

    def document(self, value: Any) -> PolicyDocument | None:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            self.problem(M_SYNTAX, "JSON_SYNTAX_ERROR", "")
            return None
        for key in value:
            if key not in _TOP_KEYS:
                self.problem(M_SYNTAX, "INVALID_POLICY_ELEMENT", key)
        version = value.get("Version")
        if "Version" in value and (not isinstance(version, str) or version not in KNOWN_VERSIONS):
            self.problem(M_SYNTAX, "INVALID_VERSION", "Version")
            version = None
        policy_id = value.get("Id")
        if "Id" in value and not isinstance(policy_id, str):
            self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", "Id")
            policy_id = None
        statements = self.statements(value)
        return PolicyDocument(version, policy_id, statements, kind=self.kind)  # type: ignore[arg-type]

    def statements(self, value: dict[str, Any]) -> tuple[Statement, ...]:
        if "Statement" not in value:
            self.problem(M_SYNTAX, "MISSING_STATEMENT", "")
            return ()
        raw = value["Statement"]
        if isinstance(raw, dict):
            items = [(0, "Statement", raw)]
        elif isinstance(raw, list):
            items = [(i, join_index("Statement", i), s) for i, s in enumerate(raw)]
        else:
            self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", "Statement")
            return ()
        out = [st for i, path, s in items if (st := self.statement(i, path, s)) is not None]
        self.check_unique_sids(items)
        return tuple(out)

    def check_unique_sids(self, items: list[tuple[int, str, Any]]) -> None:
        seen: set[str] = set()
        for _, path, raw in items:
            sid = raw.get("Sid") if isinstance(raw, dict) else None
            if isinstance(sid, str) and sid:
                if sid in seen:
                    self.problem(M_SID_UNIQUE, "DUPLICATE_SID", join_key(path, "Sid"))
                seen.add(sid)

    def statement(self, index: int, path: str, raw: Any) -> Statement | None:
        if not isinstance(raw, dict):
            self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", path)
            return None
        before = len(self.problems)
        for key in raw:
            if key not in _STATEMENT_KEYS:
                self.problem(M_SYNTAX, "INVALID_POLICY_ELEMENT", join_key(path, key))
        sid = self.sid(raw, path)
        effect = self.effect(raw, path)
        actions, not_actions = self.actions(raw, path)
        resources, not_resources = self.resources(raw, path)
        principals, not_principals = self.principals(raw, path)
        conditions = self.conditions(raw.get("Condition"), join_key(path, "Condition")) if "Condition" in raw else ()
        if len(self.problems) != before or effect is None:
            return None
        return Statement(
            index, sid, effect, actions, not_actions, resources, not_resources, principals, not_principals, conditions
        )

    def sid(self, raw: dict[str, Any], path: str) -> str | None:
        if "Sid" not in raw:
            return None
        sid = raw["Sid"]
        if not isinstance(sid, str):
            self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", join_key(path, "Sid"))
            return None
        # IAM-stored policies (identity, trust, boundary, session) and SCPs require alphanumeric Sids;
        # other services' resource policies (S3, SQS, ...) allow more.
        if self.kind != "resource" and not _SID_ALNUM.fullmatch(sid):
            self.problem(M_SID_ALNUM, "INVALID_SID", join_key(path, "Sid"))
        return sid

    def effect(self, raw: dict[str, Any], path: str) -> Any:
        if "Effect" not in raw:
            self.problem(M_MISSING_EFFECT if self.kind == "trust" else M_SYNTAX, "MISSING_EFFECT", path)
            return None
        effect = raw["Effect"]
        if effect not in ("Allow", "Deny"):
            # "allow"/"denY" pass IAM's syntax check (case-insensitive) and fail its legacy parser (case-sensitive).
            legacy = isinstance(effect, str) and effect.lower() in ("allow", "deny")
            self.problem(M_LEGACY if legacy else M_SYNTAX, "INVALID_EFFECT", join_key(path, "Effect"))
            return None
        return effect

    def pair(self, raw: dict[str, Any], path: str, name: str) -> tuple[str | None, Any]:
        """Which of ``name`` / ``Not<name>`` is present; both at once is a syntax error."""
        has, has_not = name in raw, f"Not{name}" in raw
        if has and has_not:
            self.problem(M_SYNTAX, "UNSUPPORTED_ELEMENT_COMBINATION", join_key(path, f"Not{name}"))
            return None, None
        key = name if has else f"Not{name}" if has_not else None
        return key, raw.get(key) if key else None

    def actions(self, raw: dict[str, Any], path: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        key, value = self.pair(raw, path, "Action")
        if key is None:
            if "Action" not in raw and "NotAction" not in raw:
                self.problem(M_NO_ACTIONS, "MISSING_ACTION", path)
            return None, None
        items = _as_list(value)
        epath = join_key(path, key)
        if items is None:
            self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", epath)
            return None, None
        if not items:
            self.problem(M_NO_ACTIONS, "MISSING_ACTION", epath)
        for i, action in enumerate(items):
            item_path = epath if isinstance(value, str) else join_index(epath, i)
            if action != "*" and (":" not in action or not action.split(":", 1)[0] or not action.split(":", 1)[1]):
                self.problem(M_VENDOR, "INVALID_ACTION_FORMAT", item_path)
            elif self.kind == "trust" and key == "Action" and not _is_trust_action(action):
                self.problem(M_TRUST_ACTIONS, "INVALID_TRUST_ACTION", item_path)
        result = tuple(items)
        return (result, None) if key == "Action" else (None, result)

    def resources(self, raw: dict[str, Any], path: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        if self.kind == "trust":
            for prohibited in ("Resource", "NotResource"):
                if prohibited in raw:
                    self.problem(
                        f"Has prohibited field {prohibited}.", "UNSUPPORTED_ELEMENT", join_key(path, prohibited)
                    )
            return None, None
        key, value = self.pair(raw, path, "Resource")
        if key is None:
            if "Resource" not in raw and "NotResource" not in raw:
                self.problem(M_NO_RESOURCES, "MISSING_RESOURCE", path)
            return None, None
        items = _as_list(value)
        if items is None:
            self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", join_key(path, key))
            return None, None
        if not items:
            self.problem(M_NO_RESOURCES, "MISSING_RESOURCE", join_key(path, key))
        result = tuple(items)
        return (result, None) if key == "Resource" else (None, result)

    def principals(
        self, raw: dict[str, Any], path: str
    ) -> tuple[tuple[PrincipalEntry, ...] | None, tuple[PrincipalEntry, ...] | None]:
        if self.kind not in _PRINCIPAL_KINDS:
            for prohibited in ("Principal", "NotPrincipal"):
                if prohibited in raw:
                    self.problem(M_NO_PRINCIPAL_ALLOWED, "UNSUPPORTED_PRINCIPAL", join_key(path, prohibited))
            return None, None
        key, value = self.pair(raw, path, "Principal")
        if key is None:
            if "Principal" not in raw and "NotPrincipal" not in raw:
                self.problem(M_MISSING_PRINCIPAL, "MISSING_PRINCIPAL", path)
            return None, None
        entries = self.principal_entries(value, join_key(path, key))
        return (entries, None) if key == "Principal" else (None, entries)

    def principal_entries(self, value: Any, path: str) -> tuple[PrincipalEntry, ...]:
        if value == "*":
            return (PrincipalEntry("*", "*"),)
        if not isinstance(value, dict) or not value:
            self.problem(M_SYNTAX, "INVALID_PRINCIPAL_FORMAT", path)
            return ()
        entries: list[PrincipalEntry] = []
        for ptype, raw_values in value.items():
            tpath = join_key(path, ptype)
            items = _as_list(raw_values)
            if ptype not in _PRINCIPAL_TYPES:
                self.problem(M_SYNTAX, "INVALID_PRINCIPAL_KEY", tpath)
                continue
            if items is None or not items:
                self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", tpath)
                continue
            for i, item in enumerate(items):
                if ptype == "AWS" and not _valid_aws_principal(item):
                    ipath = tpath if isinstance(raw_values, str) else join_index(tpath, i)
                    self.problem(f'Invalid principal in policy: "AWS":"{item}"', "INVALID_PRINCIPAL_FORMAT", ipath)
                entries.append(PrincipalEntry(ptype, item))
        return tuple(entries)

    def conditions(self, block: Any, path: str) -> tuple[Condition, ...]:
        if not isinstance(block, dict):
            self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", path)
            return ()
        out: list[Condition] = []
        for operator, keys in block.items():
            opath = join_key(path, operator)
            parsed = parse_operator(operator)
            if not isinstance(keys, dict):
                self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", opath)
                continue
            if parsed is None:
                if keys:  # IAM accepts an unknown operator only with an empty block (it then has no effect)
                    self.problem(M_SYNTAX, "INVALID_OPERATOR", opath)
                continue
            seen: dict[str, str] = {}
            for key, raw_values in keys.items():
                out.extend(self.condition(operator, parsed, key, raw_values, join_key(opath, key), seen))
        return tuple(out)

    def condition(
        self, operator: str, parsed: tuple[str, str | None, bool], key: str, raw: Any, path: str, seen: dict[str, str]
    ) -> list[Condition]:
        # IAM takes a condition key without a vendor prefix (``"a"``): it only never matches a request key.
        if key.lower() in seen:
            self.problem(M_SYNTAX, "DUPLICATE_KEYS_WITH_DIFFERENT_CASE", path)
            return []
        seen[key.lower()] = key
        items = raw if isinstance(raw, list) else [raw]
        values = [condition_value(v) for v in items]
        if any(v is None for v in values):
            self.problem(M_SYNTAX, "DATA_TYPE_MISMATCH", path)
            return []
        base, qualifier, if_exists = parsed
        return [Condition(operator, base, qualifier, if_exists, key, tuple(v for v in values if v is not None))]


def _valid_aws_principal(value: str) -> bool:
    # AWS principals are "*", an account ID, or an IAM/STS ARN; wildcards inside ARNs are not allowed.
    return value == "*" or bool(_ACCOUNT_ID.fullmatch(value)) or bool(_AWS_PRINCIPAL_ARN.fullmatch(value))


def _is_trust_action(action: str) -> bool:
    if action == "*":
        return True
    matcher = compile_action_pattern(action)
    return any(matcher(a) for a in _TRUST_ACTIONS)
