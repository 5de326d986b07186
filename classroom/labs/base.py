"""What a lab is: data (title, instructions, hints, an optional starting state) and checks.

A check is a plain function of ``AccountFacts`` (the account's real state, its audit trail and the engine) that
returns an ``Outcome``: passed or not, and a sentence the student reads next to the check. Messages of failed
checks say what is missing, not the answer; hints are for that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from classroom.labs.facts import AccountFacts
    from core.context import CallContext


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str
    # Not passed because the student has not got to it yet (what it checks does not exist): the panel shows a
    # neutral "Not yet" rather than a red cross, kept for something built and wrong.
    pending: bool = False

    @property
    def state(self) -> str:
        """``passed`` | ``failed`` | ``not-yet``, as stored in the progress row and drawn by the panel."""
        return "passed" if self.passed else "not-yet" if self.pending else "failed"


def passed(message: str) -> Outcome:
    return Outcome(True, message)


def failed(message: str) -> Outcome:
    return Outcome(False, message)


def not_yet(message: str) -> Outcome:
    """A check the student has not attempted yet: what it looks at is not there."""
    return Outcome(False, message, pending=True)


@dataclass(frozen=True)
class Check:
    key: str  # stable: progress rows keep results under it
    title: str  # the goal, as the student reads it in the panel
    run: Callable[[AccountFacts], Outcome]


StartingState = Callable[["CallContext"], None]
"""Builds a lab's starting state in a just-emptied account, through the services as the account's root user
(origin "system"), so the trail shows what the lab set up."""


@dataclass(frozen=True)
class Lab:
    number: int
    slug: str
    title: str
    topic: str  # the part of the seed article it teaches
    summary: str  # one or two sentences: the scenario
    steps: tuple[str, ...]  # instructions; `backticks` become code
    checks: tuple[Check, ...]
    hints: tuple[str, ...] = ()
    starting_state: StartingState | None = None
    # Where the lab starts, as the panel says it: what its starting state holds, or that it goes on from the
    # previous lab's end in the same account. Labs 1 → 10 are meant to be done in order in one account.
    start: str = ""
    console_links: tuple[tuple[str, str], ...] = field(default=())  # (label, console path) shortcuts in the panel

    def check(self, key: str) -> Check:
        for check in self.checks:
            if check.key == key:
                return check
        raise KeyError(key)
