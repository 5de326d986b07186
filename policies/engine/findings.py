"""Policy validation findings, in the shape of IAM Access Analyzer's ValidatePolicy results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FindingType = Literal["ERROR", "SECURITY_WARNING", "WARNING", "SUGGESTION"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where in the policy a finding points: a JSON path such as ``Statement[1].Action[0]``,
    and the 1-based line/column of that element in the text when the text was available."""

    path: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    finding_type: FindingType
    issue_code: str  # Access Analyzer's code, e.g. "INVALID_ACTION", "PASS_ROLE_WITH_STAR_IN_RESOURCE"
    message: str  # what the console shows, e.g. "Invalid action: The action s3:GetObjct does not exist."
    location: Location
