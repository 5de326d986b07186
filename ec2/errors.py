"""EC2's error codes (its Query protocol answers ``<Response><Errors><Error><Code>``), with EC2's wording.

EC2 answers most client errors with HTTP 400, a denial with 403 ``UnauthorizedOperation`` and a successful dry run
with 412 ``DryRunOperation``. AWS appends an encoded authorization message to a denial (decoded with
``sts decode-authorization-message``); here the explanation is written out instead.
"""

from __future__ import annotations

from core.errors import AccessDenied, IamError


class Ec2Error(IamError):
    code, status = "InvalidParameterValue", 400


class UnauthorizedOperation(Ec2Error):
    code, status = "UnauthorizedOperation", 403


class DryRunOperation(Ec2Error):
    code, status = "DryRunOperation", 412


class InvalidAction(Ec2Error):
    code, status = "InvalidAction", 400


class MissingParameter(Ec2Error):
    code = "MissingParameter"


class InvalidParameterValue(Ec2Error):
    code = "InvalidParameterValue"


class InvalidParameterCombination(Ec2Error):
    code = "InvalidParameterCombination"


class UnknownParameter(Ec2Error):
    code = "UnknownParameter"


class InvalidInstanceIdMalformed(Ec2Error):
    code = "InvalidInstanceID.Malformed"


class InvalidInstanceIdNotFound(Ec2Error):
    code = "InvalidInstanceID.NotFound"


class InvalidAmiIdMalformed(Ec2Error):
    code = "InvalidAMIID.Malformed"


class InvalidAmiIdNotFound(Ec2Error):
    code = "InvalidAMIID.NotFound"


class InvalidInstanceType(Ec2Error):
    code = "InvalidInstanceType"


class InvalidId(Ec2Error):
    code = "InvalidID"


class IncorrectInstanceState(Ec2Error):
    code = "IncorrectInstanceState"


class IncorrectState(Ec2Error):
    code = "IncorrectState"


class InvalidAssociationIdNotFound(Ec2Error):
    code = "InvalidAssociationID.NotFound"


class InstanceLimitExceeded(Ec2Error):
    code = "InstanceLimitExceeded"


class InvalidFilter(Ec2Error):
    code = "InvalidFilter"


class InvalidTagKeyMalformed(Ec2Error):
    code = "InvalidParameterValue"


NOT_AUTHORIZED = "You are not authorized to perform this operation."


def answered(error: IamError) -> IamError:
    """How EC2 answers an error of the engine: a denial is ``UnauthorizedOperation``, its explanation kept (where AWS
    gives an encoded message, the decision is written out: which policy type lacked an allow, or which statement
    denied)."""
    if isinstance(error, AccessDenied):
        return UnauthorizedOperation(f"{NOT_AUTHORIZED} {error.message}", explanation=error.explanation)
    return error
