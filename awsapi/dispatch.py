"""The operation registry: ``@operation("iam", "CreateUser")`` maps an AWS action to its thin handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.context import CallContext
from core.errors import IamError

Handler = Callable[[CallContext, dict[str, Any]], dict[str, Any] | None]

HANDLERS: dict[tuple[str, str], Handler] = {}
# STS calls that AWS accepts without a signature (the token in the request is the credential).
UNSIGNED = {("sts", "AssumeRoleWithSAML"), ("sts", "AssumeRoleWithWebIdentity")}


class InvalidAction(IamError):
    code, status = "InvalidAction", 400


def operation(service: str, name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[(service, name)] = handler
        return handler

    return register


def handler_for(service: str, action: str, version: str) -> Handler:
    handler = HANDLERS.get((service, action))
    if handler is None:
        raise InvalidAction(f"Could not find operation {action} for version {version}")
    return handler
