"""Who is calling and from where: the argument every service function takes first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from core import arns

PrincipalType = Literal["Root", "IAMUser", "AssumedRole", "FederatedUser", "AWSService"]


@dataclass(frozen=True, slots=True)
class Principal:
    type: PrincipalType
    account_id: str
    arn: str
    name: str  # IAM user name, role session name, federated user name, or "root"
    principal_id: str  # AIDA…, AROA…:session, or the account ID for root
    user_pk: int | None = None
    role_pk: int | None = None
    session_pk: int | None = None
    mfa_authenticated: bool = False
    mfa_authenticated_at: datetime | None = None
    token_issued_at: datetime | None = None

    @classmethod
    def root(cls, account_id: str, *, mfa_at: datetime | None = None) -> Principal:
        return cls(
            "Root",
            account_id,
            arns.root(account_id),
            "root",
            account_id,
            mfa_authenticated=mfa_at is not None,
            mfa_authenticated_at=mfa_at,
        )

    @classmethod
    def service(cls, account_id: str, service: str) -> Principal:
        """An AWS service acting in ``account_id`` (EC2 assuming an instance's role): its ARN is its name, such as
        ``ec2.amazonaws.com``, as trust policies name it."""
        return cls("AWSService", account_id, service, service, service)

    @property
    def is_root(self) -> bool:
        return self.type == "Root"


# Added to the user agent of the calls the console makes by itself while a person types (the top bar's search reads
# each kind of resource through its List call). They are recorded like any call; the classroom's "needs help" signs
# leave them out, since a denied background read is not the student trying something and failing.
BACKGROUND_AGENT_SUFFIX = " (console search)"


@dataclass(frozen=True, slots=True)
class CallContext:
    principal: Principal
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    origin: Literal["console", "api", "system"] = "console"
    access_key_id: str = ""
    secure_transport: bool = False
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def account_id(self) -> str:
        return self.principal.account_id

    def in_background(self) -> CallContext:
        """This context for a call the console makes by itself, not at the person's request."""
        return replace(self, user_agent=self.user_agent + BACKGROUND_AGENT_SUFFIX)
