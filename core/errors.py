"""AWS error codes as exception classes.

Each class carries its wire data (code, HTTP status, sender fault) so the Query API serializer and the console
forms read the same object. Messages use AWS's wording because students compare them with real AWS output.
"""

from __future__ import annotations

from typing import Any, ClassVar


class IamError(Exception):
    code: ClassVar[str] = "ServiceFailure"
    status: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True

    def __init__(self, message: str, *, explanation: Any = None) -> None:
        super().__init__(message)
        self.message = message
        # For AccessDenied: the engine's Decision, shown in the console's "Why?" panel.
        self.explanation = explanation

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NoSuchEntity(IamError):
    code, status = "NoSuchEntity", 404


class EntityAlreadyExists(IamError):
    code, status = "EntityAlreadyExists", 409


class LimitExceeded(IamError):
    code, status = "LimitExceeded", 409


class DeleteConflict(IamError):
    code, status = "DeleteConflict", 409


class MalformedPolicyDocument(IamError):
    code, status = "MalformedPolicyDocument", 400


class InvalidInput(IamError):
    code, status = "InvalidInput", 400


class ValidationError(IamError):
    """Schema-level length or pattern failure (named AWS's way; not django.core.exceptions.ValidationError)."""

    code, status = "ValidationError", 400


class PasswordPolicyViolation(IamError):
    code, status = "PasswordPolicyViolation", 400


class AccessDenied(IamError):
    code, status = "AccessDenied", 403


class ConcurrentModification(IamError):
    code, status = "ConcurrentModification", 409


class UnmodifiableEntity(IamError):
    code, status = "UnmodifiableEntity", 400


class ServiceFailure(IamError):
    code, status, sender_fault = "ServiceFailure", 500, False
