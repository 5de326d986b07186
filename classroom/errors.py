"""AWS Organizations error codes (the Organizations API names its exceptions ``…Exception``)."""

from __future__ import annotations

from core.errors import IamError


class OrganizationsError(IamError):
    code, status = "OrganizationsException", 400


class DuplicatePolicyException(OrganizationsError):
    code, status = "DuplicatePolicyException", 400


class PolicyNotFoundException(OrganizationsError):
    code, status = "PolicyNotFoundException", 400


class PolicyInUseException(OrganizationsError):
    code, status = "PolicyInUseException", 400


class DuplicatePolicyAttachmentException(OrganizationsError):
    code, status = "DuplicatePolicyAttachmentException", 400


class PolicyNotAttachedException(OrganizationsError):
    code, status = "PolicyNotAttachedException", 400


class TargetNotFoundException(OrganizationsError):
    code, status = "TargetNotFoundException", 400


class DuplicateOrganizationalUnitException(OrganizationsError):
    code, status = "DuplicateOrganizationalUnitException", 400


class OrganizationalUnitNotEmptyException(OrganizationsError):
    code, status = "OrganizationalUnitNotEmptyException", 400


class ConstraintViolationException(OrganizationsError):
    code, status = "ConstraintViolationException", 400


class AccountNotFoundException(OrganizationsError):
    code, status = "AccountNotFoundException", 400


class AWSOrganizationsNotInUseException(OrganizationsError):
    code, status = "AWSOrganizationsNotInUseException", 400


class AccessDeniedException(OrganizationsError):
    code, status = "AccessDeniedException", 400


class InvalidInputException(OrganizationsError):
    """Carries AWS's ``Reason`` (``INVALID_PATTERN``, ``INPUT_REQUIRED``…), a member of the error's shape."""

    code, status = "InvalidInputException", 400
    # The Organizations API reference's wording of each reason.
    MESSAGES = {
        "INPUT_REQUIRED": "You must include a value for all required parameters.",
        "INVALID_ENUM": "You specified an invalid value.",
        "INVALID_PATTERN": "You provided a value that doesn't match the required pattern.",
        "MIN_LENGTH_EXCEEDED": "You provided a string parameter that is shorter than allowed.",
        "MAX_LENGTH_EXCEEDED": "You provided a string parameter that is longer than allowed.",
        "MIN_VALUE_EXCEEDED": "You provided a numeric parameter that has a smaller value than allowed.",
        "MAX_VALUE_EXCEEDED": "You provided a numeric parameter that has a larger value than allowed.",
        "INVALID_NEXT_TOKEN": "Get the value for the NextToken parameter from the response to a previous call of "
        "the operation.",
    }

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or self.MESSAGES.get(reason, "You provided a value that isn't valid."))
        self.reason = reason
