"""The request context: who asks (``Principal``), for what (action, resource) and the condition keys.

``Request.context`` is complete: a key not present is absent from the request. Keys derived from the
principal (``aws:PrincipalArn``, ``aws:username``, ``aws:PrincipalTag/...``) are filled in by the caller.
Key names are case-insensitive; the context is lowercased once, when the Request is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

PrincipalType = Literal[
    "IAMUser", "AssumedRole", "Root", "FederatedUser", "AWSService", "WebIdentityUser", "SAMLUser", "Anonymous"
]
SESSION_TYPES = frozenset({"AssumedRole", "FederatedUser", "WebIdentityUser", "SAMLUser"})
IAM_ENTITY_TYPES = frozenset({"IAMUser", "AssumedRole", "Root", "FederatedUser"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. ``arn`` is the ARN AWS reports for it (``arn:aws:sts::A:assumed-role/R/S`` for a role
    session, the service name such as ``ec2.amazonaws.com`` for an AWS service, the provider for web
    identity/SAML callers). ``role_arn`` is the full role ARN (with path) of a role session."""

    type: str
    arn: str
    account: str = ""
    name: str | None = None
    role_arn: str | None = None
    session_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    session_tags: Mapping[str, str] = field(default_factory=dict)
    provider: str | None = None  # Federated principal (SAML provider ARN / OIDC provider) of a federated session
    canonical_user: str | None = None

    @property
    def is_session(self) -> bool:
        return self.type in SESSION_TYPES

    @property
    def is_service_linked_role_session(self) -> bool:
        # SCPs do not affect service-linked roles, whose path is /aws-service-role/.
        return self.type == "AssumedRole" and ":role/aws-service-role/" in (self.role_arn or "")


def normalize_context(context: Mapping[str, object]) -> Mapping[str, str | tuple[str, ...]]:
    out: dict[str, str | tuple[str, ...]] = {}
    for key, value in context.items():
        if value.__class__ is str:  # the usual case first: a Request per action of a sweep normalizes its context
            out[key.lower()] = value
        elif isinstance(value, (list, tuple)):
            out[key.lower()] = tuple(str(v) for v in value)
        elif isinstance(value, bool):
            out[key.lower()] = "true" if value else "false"
        elif value is not None:
            out[key.lower()] = str(value)
    return MappingProxyType(out)


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str = "*"
    resource_account: str | None = None  # None: same account as the principal
    context: Mapping[str, object] = field(default_factory=dict)
    ctx: Mapping[str, str | tuple[str, ...]] = field(init=False, repr=False, compare=False)
    action_lc: str = field(init=False, repr=False, compare=False)
    service: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ctx", normalize_context(self.context))
        object.__setattr__(self, "action_lc", self.action.lower())
        object.__setattr__(self, "service", self.action_lc.split(":", 1)[0])

    @property
    def is_cross_account(self) -> bool:
        return bool(self.resource_account) and self.resource_account != self.principal.account

    def with_action(self, action: str, resource: str | None = None) -> Request:
        """The same principal and context for another action, reusing the normalized context."""
        clone = object.__new__(Request)
        lowered = action.lower()
        clone.__dict__.update(self.__dict__)  # frozen blocks setattr, not the instance dict
        clone.__dict__.update(action=action, action_lc=lowered, service=lowered.split(":", 1)[0])
        if resource is not None:
            clone.__dict__["resource"] = resource
        return clone
