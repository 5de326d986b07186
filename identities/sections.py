"""The console's detail pages read each section through the public ``List*``/``Get*`` service (so each read is
authorized and recorded under its own action, as the AWS console's calls are); a read the principal may not make
becomes a notice in that section — "You don't have permission to iam:ListGroupsForUser" — instead of a failed page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from core.errors import AccessDenied

T = TypeVar("T")
_ACTION = re.compile(r"is not authorized to perform: (\S+)")


@dataclass(frozen=True, slots=True)
class Denied:
    action: str  # "iam:ListGroupsForUser"
    message: str  # AWS's whole AccessDenied text, for the details


@dataclass
class Reads:
    """The denials of one page, by section: ``reads.attempt("groups", lambda: ...)`` returns the service's answer,
    or None after noting the denial under "groups"."""

    denied: dict[str, list[Denied]] = field(default_factory=dict)

    def attempt(self, section: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except AccessDenied as exc:
            self.denied.setdefault(section, [])
            denial = Denied(action_of(exc), exc.message)
            if denial.action not in {d.action for d in self.denied[section]}:
                self.denied[section].append(denial)
            return None


def action_of(exc: AccessDenied) -> str:
    action = getattr(exc.explanation, "action", None)
    if isinstance(action, str):
        return action
    found = _ACTION.search(exc.message)
    return found.group(1) if found else "this resource"
