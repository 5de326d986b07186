"""The labs: one module per lab, ``labNN_<slug>.py``, each defining ``LAB`` (a ``classroom.labs.base.Lab``).

Adding a lab is adding a module: the registry finds them by name, in number order.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache

from classroom.labs.base import Check, Lab, Outcome, failed, not_yet, passed

__all__ = ["Check", "Lab", "Outcome", "all_labs", "failed", "get_lab", "not_yet", "passed"]

_MODULE = re.compile(r"^lab\d\d_\w+$")


@cache
def all_labs() -> tuple[Lab, ...]:
    labs = []
    for module in pkgutil.iter_modules(__path__):
        if _MODULE.match(module.name):
            labs.append(importlib.import_module(f"{__name__}.{module.name}").LAB)
    labs.sort(key=lambda lab: lab.number)
    numbers = [lab.number for lab in labs]
    slugs = [lab.slug for lab in labs]
    if len(set(numbers)) != len(numbers) or len(set(slugs)) != len(slugs):
        raise RuntimeError(f"two labs share a number or a slug: {numbers} {slugs}")
    return tuple(labs)


def get_lab(slug: str) -> Lab | None:
    for lab in all_labs():
        if lab.slug == slug:
            return lab
    return None
