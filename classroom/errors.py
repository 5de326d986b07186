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
