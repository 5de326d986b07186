"""Typed, immutable policy AST.

Lists in the JSON are normalized to tuples, single strings to 1-tuples. Statement ``index`` is the
0-based position of the statement in the ``Statement`` array (0 when ``Statement`` is a single object).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Effect = Literal["Allow", "Deny"]
PolicyKind = Literal["identity", "resource", "trust", "scp", "session", "boundary"]

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
KNOWN_VERSIONS = (VERSION_2012, VERSION_2008)


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key) pair of a Condition block, e.g. ``StringEquals`` / ``aws:username``.

    ``operator`` is as written; ``base``, ``qualifier`` and ``if_exists`` are its decomposition:
    ``ForAnyValue:StringLikeIfExists`` → base ``StringLike``, qualifier ``ForAnyValue``, if_exists True.
    Values are strings (JSON numbers and booleans are converted the way AWS reads them).
    """

    operator: str
    base: str
    qualifier: str | None
    if_exists: bool
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrincipalEntry:
    """One principal value: ``kind`` is ``*`` (the bare wildcard), ``AWS``, ``Service``, ``Federated``
    or ``CanonicalUser``; ``value`` the string given."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    effect: Effect
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principals: tuple[PrincipalEntry, ...] | None = None
    not_principals: tuple[PrincipalEntry, ...] | None = None
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed policy. ``version`` is None when the document has no Version (AWS then applies
    2008-10-17 rules: policy variables are not substituted). ``compiled`` caches matchers built on first
    evaluation; it is excluded from equality and hashing."""

    version: str | None
    id: str | None
    statements: tuple[Statement, ...]
    kind: PolicyKind = "identity"
    compiled: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def variables_enabled(self) -> bool:
        # Policy variables exist only from 2012-10-17 on; older/no Version treats ${...} literally.
        return self.version == VERSION_2012
