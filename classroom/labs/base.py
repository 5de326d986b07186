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


def passed(message: str) -> Outcome:
    return Outcome(True, message)


def failed(message: str) -> Outcome:
    return Outcome(False, message)


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
    console_links: tuple[tuple[str, str], ...] = field(default=())  # (label, console path) shortcuts in the panel

    def check(self, key: str) -> Check:
        for check in self.checks:
            if check.key == key:
                return check
        raise KeyError(key)
