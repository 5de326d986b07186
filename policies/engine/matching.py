"""Wildcard matching for actions, resource ARNs and condition values, and policy-variable templates.

Rules (IAM User Guide, "IAM JSON policy elements: Action / Resource", "Policy variables"):
- Actions: case-insensitive; ``*`` any run of characters, ``?`` one character.
- Resources: case-sensitive; wildcards work *within* an ARN segment (the parts separated by colons). The
  sixth segment (the resource part) may itself contain colons, and a wildcard there may span them. In a
  pattern with fewer than six segments the last segment plays that role (``arn:aws:iam::*`` covers all IAM).
- Variables ``${key}`` / ``${key, 'default'}`` are substituted literally (a ``*`` inside a tag value is not a
  wildcard); ``${*}``, ``${?}``, ``${$}`` stand for those literal characters. A variable whose key is absent
  and has no default leaves the element unresolved (it matches nothing).
Patterns are compiled once and cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

Piece = tuple[str, bool]  # (text, literal): literal text has no wildcards

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_DEFAULT = re.compile(r"\s*([^,'\s][^,']*?)\s*,\s*'([^']*)'\s*")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def glob_regex(text: str, *, segment_safe: bool = False) -> str:
    """Regex source for one glob piece; with ``segment_safe`` wildcards do not cross ':'."""
    star, one = ("[^:]*", "[^:]") if segment_safe else (".*", ".")
    return "".join(star if c == "*" else one if c == "?" else re.escape(c) for c in text)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


# ---------------------------------------------------------------------------------------------- actions


@lru_cache(maxsize=8192)
def compile_action_pattern(pattern: str) -> Callable[[str], bool]:
    """Matcher for a lowercased action name."""
    p = pattern.lower()
    if p == "*":
        return lambda action: True
    if not has_wildcard(p):
        return p.__eq__
    if p.endswith("*") and not has_wildcard(p[:-1]):
        prefix = p[:-1]
        return lambda action: action.startswith(prefix)
    rx = re.compile(glob_regex(p), re.DOTALL)
    return lambda action: rx.fullmatch(action) is not None


def action_service(pattern: str) -> str | None:
    """The literal service prefix of an action pattern, or None if the prefix has a wildcard."""
    service = pattern.split(":", 1)[0].lower()
    return None if has_wildcard(service) or ":" not in pattern else service


class ActionSet:
    """Action patterns of one Action/NotAction element, arranged for fast lookup: exact names in a set,
    ``service:Prefix*`` patterns as per-service prefix tuples (one ``str.startswith`` call), the rest as
    compiled matchers."""

    __slots__ = ("exact", "prefixes", "matchers", "match_all", "services", "any_service")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        exact: set[str] = set()
        prefixes: dict[str, list[str]] = {}
        matchers: list[Callable[[str], bool]] = []
        services: set[str] = set()
        self.match_all = False
        self.any_service = False  # some pattern has a wildcard in its service prefix (or no prefix at all)
        for pattern in patterns:
            p = pattern.lower()
            service = action_service(p)
            if service is None:
                self.any_service = True
            else:
                services.add(service)
            if p == "*":
                self.match_all = True
            elif not has_wildcard(p):
                exact.add(p)
            elif service is not None and p.endswith("*") and not has_wildcard(p[:-1]):
                prefixes.setdefault(service, []).append(p[:-1])
            else:
                matchers.append(compile_action_pattern(p))
        self.exact = frozenset(exact)
        self.prefixes = {k: tuple(v) for k, v in prefixes.items()}
        self.matchers = tuple(matchers)
        self.services = frozenset(services)

    def covers_service(self, service: str) -> bool:
        """Whether every ``service:Name`` action matches (``*`` or ``service:*``)."""
        return self.match_all or service + ":" in self.prefixes.get(service, ())

    def may_match_service(self, service: str) -> bool:
        """False when no ``service:Name`` action can match."""
        return self.any_service or service in self.services

    def match(self, action: str, service: str) -> bool:
        if self.match_all or action in self.exact:
            return True
        prefixes = self.prefixes.get(service)
        if prefixes is not None and action.startswith(prefixes):
            return True
        for m in self.matchers:  # noqa: SIM110 - hot path: a loop costs no generator per call
            if m(action):
                return True
        return False


# ------------------------------------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class Template:
    """A string with optional ``${...}`` variables: parts are (kind, a, b) with kind ``lit`` (policy text,
    wildcards active), ``chr`` (a literal special char) or ``var`` (key lowercased, default or None)."""

    parts: tuple[tuple[str, str, str | None], ...]
    source: str

    @property
    def constant(self) -> bool:
        return all(kind == "lit" for kind, _, _ in self.parts)

    def resolve(self, ctx: Mapping[str, object]) -> tuple[Piece, ...] | None:
        out: list[Piece] = []
        for kind, a, b in self.parts:
            if kind == "lit":
                out.append((a, False))
            elif kind == "chr":
                out.append((a, True))
            else:
                value = ctx.get(a)
                if isinstance(value, tuple):
                    value = value[0] if len(value) == 1 else None
                if value is None:
                    if b is None:
                        return None
                    value = b
                out.append((value, True))  # type: ignore[arg-type]
        return tuple(out)


@lru_cache(maxsize=16384)
def parse_template(text: str, variables: bool) -> Template:
    if not variables or "${" not in text:
        return Template((("lit", text, None),), text)
    parts: list[tuple[str, str, str | None]] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        if m.start() > pos:
            parts.append(("lit", text[pos : m.start()], None))
        inner = m.group(1)
        if inner in _SPECIAL:
            parts.append(("chr", _SPECIAL[inner], None))
        elif (d := _DEFAULT.fullmatch(inner)) is not None:
            parts.append(("var", d.group(1).lower(), d.group(2)))
        else:
            parts.append(("var", inner.strip().lower(), None))
        pos = m.end()
    if pos < len(text):
        parts.append(("lit", text[pos:], None))
    return Template(tuple(parts), text)


def pieces_text(pieces: tuple[Piece, ...]) -> str:
    return "".join(text for text, _ in pieces)


@lru_cache(maxsize=16384)
def pieces_glob(pieces: tuple[Piece, ...]) -> re.Pattern[str]:
    """Whole-string glob over pieces (StringLike): literal pieces are escaped."""
    return re.compile("".join(re.escape(t) if lit else glob_regex(t) for t, lit in pieces), re.DOTALL)


@lru_cache(maxsize=16384)
def pieces_arn(pieces: tuple[Piece, ...]) -> re.Pattern[str]:
    """ARN regex over pieces: wildcards stay inside their colon-separated segment, except in the pattern's
    last segment (the resource part, or whatever a shorter pattern ends with), which may span colons."""
    last = min(5, sum(t.count(":") for t, _ in pieces))
    out: list[str] = []
    colons = 0
    for text, literal in pieces:
        for chunk_i, chunk in enumerate(text.split(":")):
            if chunk_i:
                out.append(":")
                colons += 1
            out.append(re.escape(chunk) if literal else glob_regex(chunk, segment_safe=colons < last))
    return re.compile("".join(out), re.DOTALL)


def arn_glob_match(pieces: tuple[Piece, ...], value: str) -> bool:
    return pieces_arn(pieces).fullmatch(value) is not None


# ------------------------------------------------------------------------------------------- resources


class ResourcePattern:
    """One Resource/NotResource entry, compiled. ``match`` returns None when a variable is unresolved."""

    __slots__ = ("source", "template", "fast")

    def __init__(self, source: str, variables: bool) -> None:
        self.source = source
        self.template = parse_template(source, variables)
        self.fast = _resource_fast_path(source) if self.template.constant else None

    def match(self, resource: str, ctx: Mapping[str, object]) -> bool | None:
        if self.fast is not None:
            return self.fast(resource)
        pieces = self.template.resolve(ctx)
        if pieces is None:
            return None
        return arn_glob_match(pieces, resource)


@lru_cache(maxsize=16384)
def _resource_fast_path(pattern: str) -> Callable[[str], bool]:
    if pattern == "*":
        return lambda resource: True
    if not has_wildcard(pattern):
        return pattern.__eq__
    star_at = pattern.find("*")
    # One trailing '*' inside the resource segment: a plain prefix test is exact.
    if star_at == len(pattern) - 1 and "?" not in pattern and pattern[:-1].count(":") >= 5:
        prefix = pattern[:-1]
        return lambda resource: resource.startswith(prefix)
    pieces = ((pattern, False),)
    return lambda resource: arn_glob_match(pieces, resource)
