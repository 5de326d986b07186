"""Condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators" and
"Creating a condition with multiple keys or values", "Single-valued vs. multivalued context keys").

- Every key in a block must match (AND); any of a key's values may match (OR).
- A negated operator (StringNotEquals, NotIpAddress, ArnNotLike, ...) is the NOT of its positive
  counterpart applied to all values: the context value must match none of them.
- Key absent from the request: the condition is false, except for negated operators (true),
  ``...IfExists`` (true), ``Null`` (tests presence), ``ForAllValues`` (true) and ``ForAnyValue`` (false, with
  or without IfExists).
- Policy values that are all variables with no value: positive operators are false, inverted ones true.
- ``ForAllValues``: every context value must satisfy the operator; ``ForAnyValue``: at least one must.
- Key names are case-insensitive (the request context is lowercased once); values are case-sensitive
  except for the ``IgnoreCase`` operators and ``Bool``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache

from .ast import Condition
from .matching import Piece, arn_glob_match, parse_template, pieces_glob, pieces_text

# base operator → (positive base, negated?)
NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}

Matcher = Callable[[str, tuple[Piece, ...]], bool]


# --------------------------------------------------------------------------------- value converters


@lru_cache(maxsize=4096)
def to_number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value else None  # NaN never compares


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@lru_cache(maxsize=4096)
def to_epoch(text: str) -> float | None:
    """ISO 8601 (date, date-time, with Z/offset or naive = UTC) or epoch seconds → epoch seconds."""
    text = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text) and not _DATE_ONLY.fullmatch(text):
        return float(text)
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@lru_cache(maxsize=4096)
def to_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def to_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def to_bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode("utf-8", "surrogatepass")


# ------------------------------------------------------------------------------- positive matchers


def _string_equals(cv: str, pv: tuple[Piece, ...]) -> bool:
    return cv == pieces_text(pv)


def _string_equals_ic(cv: str, pv: tuple[Piece, ...]) -> bool:
    return cv.lower() == pieces_text(pv).lower()


def _string_like(cv: str, pv: tuple[Piece, ...]) -> bool:
    return pieces_glob(pv).fullmatch(cv) is not None


def _numeric(compare: Callable[[float, float], bool]) -> Matcher:
    def match(cv: str, pv: tuple[Piece, ...]) -> bool:
        a, b = to_number(cv), to_number(pieces_text(pv))
        return a is not None and b is not None and compare(a, b)

    return match


def _date(compare: Callable[[float, float], bool]) -> Matcher:
    def match(cv: str, pv: tuple[Piece, ...]) -> bool:
        a, b = to_epoch(cv), to_epoch(pieces_text(pv))
        return a is not None and b is not None and compare(a, b)

    return match


def _bool(cv: str, pv: tuple[Piece, ...]) -> bool:
    return cv.lower() == pieces_text(pv).lower()


def _binary(cv: str, pv: tuple[Piece, ...]) -> bool:
    return to_bytes(cv) == to_bytes(pieces_text(pv))


def _ip(cv: str, pv: tuple[Piece, ...]) -> bool:
    address, network = to_address(cv), to_network(pieces_text(pv))
    return address is not None and network is not None and address.version == network.version and address in network


def _arn(cv: str, pv: tuple[Piece, ...]) -> bool:
    # ArnEquals and ArnLike behave the same: each of the six colon-separated parts is compared separately.
    return cv.startswith("arn:") and cv.count(":") >= 5 and arn_glob_match(pv, cv)


POSITIVE: dict[str, Matcher] = {
    "StringEquals": _string_equals,
    "StringEqualsIgnoreCase": _string_equals_ic,
    "StringLike": _string_like,
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
    "DateEquals": _date(lambda a, b: a == b),
    "DateLessThan": _date(lambda a, b: a < b),
    "DateLessThanEquals": _date(lambda a, b: a <= b),
    "DateGreaterThan": _date(lambda a, b: a > b),
    "DateGreaterThanEquals": _date(lambda a, b: a >= b),
    "Bool": _bool,
    "BinaryEquals": _binary,
    "IpAddress": _ip,
    "ArnEquals": _arn,
    "ArnLike": _arn,
}

# Operators whose values are never wildcard patterns: their resolved text is compared as is.
OPERATORS: tuple[str, ...] = tuple(POSITIVE) + tuple(NEGATED) + ("Null",)


# ------------------------------------------------------------------------------------------ evaluation


class CompiledCondition:
    """A Condition ready to evaluate: the matcher and the value templates are looked up once."""

    __slots__ = (
        "condition",
        "key",
        "matcher",
        "negated",
        "templates",
        "constant_values",
        "value_set",
        "fold",
        "memo",
        "is_null",
        "qualifier",
        "when_missing",
    )

    def __init__(self, condition: Condition, variables: bool) -> None:
        self.condition = condition
        self.key = condition.key.lower()
        base = condition.base
        self.negated = base in NEGATED
        self.is_null = base == "Null"
        self.qualifier = condition.qualifier
        self.matcher = POSITIVE.get(NEGATED.get(base, base))
        self.templates = tuple(parse_template(v, variables) for v in condition.values)
        self.constant_values: tuple[tuple[Piece, ...], ...] | None = (
            tuple(((v, False),) for v in condition.values) if all(t.constant for t in self.templates) else None
        )
        # Equality operators over constant values: a set lookup replaces the per-value loop.
        positive = NEGATED.get(base, base)
        self.fold = positive in ("StringEqualsIgnoreCase", "Bool")
        self.value_set: frozenset[str] | None = None
        # A condition depends only on the request context: remember the last (context, result) pair, so a
        # sweep over many actions with one context evaluates each condition once. One attribute store, so
        # concurrent readers see either the old or the new pair.
        self.memo: tuple[object, bool] = (None, False)
        if self.constant_values is not None and positive in ("StringEquals", "StringEqualsIgnoreCase", "Bool"):
            self.value_set = frozenset(v.lower() if self.fold else v for v in condition.values)
        self.when_missing = self.missing()

    def policy_values(self, ctx: Mapping[str, object]) -> tuple[tuple[Piece, ...], ...]:
        if self.constant_values is not None:
            return self.constant_values
        # An unresolved variable drops that value; a key left with no values cannot match.
        return tuple(p for t in self.templates if (p := t.resolve(ctx)) is not None)

    def evaluate(self, ctx: Mapping[str, object]) -> bool:
        memo = self.memo
        if memo[0] is ctx:
            return memo[1]
        result = self.evaluate_uncached(ctx)
        self.memo = (ctx, result)
        return result

    def evaluate_uncached(self, ctx: Mapping[str, object]) -> bool:
        raw = ctx.get(self.key)
        if self.is_null:
            return self.null(() if raw is None else (raw,) if isinstance(raw, str) else raw)  # type: ignore[arg-type]
        if raw is None:
            return self.when_missing
        if isinstance(raw, str):
            # One context value: ForAllValues, ForAnyValue and the plain operator all ask whether it satisfies.
            value_set = self.value_set
            if value_set is not None:
                return ((raw.lower() if self.fold else raw) in value_set) is not self.negated
            values: tuple[str, ...] = (raw,)
        else:
            values = raw  # type: ignore[assignment]
            if not values:
                return self.when_missing
        value_set = self.value_set
        negated = self.negated
        if value_set is not None:
            fold = self.fold

            def satisfied(cv: str) -> bool:
                return ((cv.lower() if fold else cv) in value_set) is not negated

        else:
            policy_values = self.policy_values(ctx)
            if not policy_values:
                # Every value is a policy variable with no value: nothing can match, so a positive operator is
                # false and an inverted one (StringNotEquals, ArnNotLike, ForAllValues:StringNotEquals...) is true
                # ("Policy variables with no value", IAM User Guide, Variables and tags).
                return negated
            matcher = self.matcher
            assert matcher is not None

            def satisfied(cv: str) -> bool:
                for pv in policy_values:
                    if matcher(cv, pv):
                        return not negated
                return negated

        if self.qualifier == "ForAllValues":
            return all(satisfied(cv) for cv in values)
        if self.qualifier == "ForAnyValue":
            return any(satisfied(cv) for cv in values)
        # No set operator: a negated operator must match none of the context values.
        if negated:
            return all(satisfied(cv) for cv in values)
        return any(satisfied(cv) for cv in values)

    def missing(self) -> bool:
        cond = self.condition
        # ForAnyValue asks for at least one request value: with none, it is false, IfExists or not.
        if cond.qualifier == "ForAnyValue":
            return False
        if cond.if_exists or cond.qualifier == "ForAllValues":
            return True
        return self.negated

    def null(self, values: tuple[str, ...]) -> bool:
        # "Null": "true" → the key must be absent; "false" → present. An empty multivalued key counts as absent.
        absent = not values
        return any((v.lower() == "true") == absent for v in self.condition.values)


def compile_conditions(conditions: tuple[Condition, ...], variables: bool) -> tuple[CompiledCondition, ...]:
    return tuple(CompiledCondition(c, variables) for c in conditions)


def all_conditions_hold(compiled: tuple[CompiledCondition, ...], ctx: Mapping[str, object]) -> bool:
    for condition in compiled:  # noqa: SIM110 - hot path: a loop costs no generator per call
        if not condition.evaluate(ctx):
            return False
    return True
