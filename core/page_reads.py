"""What the reads of one console page share: AWS's console sends a page's List*/Get* calls together, and IAM is
eventually consistent, so a page reads its caller's policies (``policies.authz``) and the entities it names
(``identities.services``: the user's page made five reads, each reading the user twice) once, not once per call.

Only while ``page_reads_shared`` is active (console GET requests); ``iam_call`` ends the sharing for the rest of the
request before it decides any call that is not a read (``stop_sharing``): what a write changes, the next read sees.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_shared: ContextVar[dict[Hashable, Any] | None] = ContextVar("page_reads", default=None)


@contextmanager
def page_reads_shared() -> Iterator[None]:
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def shared[T](key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, once per ``key`` while a page's reads share; every time otherwise."""
    store = _shared.get()
    if store is None:
        return read()
    if key not in store:
        store[key] = read()
    return store[key]


def stop_sharing() -> None:
    """A write is being decided: this and every later read of the request read afresh."""
    _shared.set(None)
