"""The one source of "now" for everything that depends on time (sessions, expiry, audit, password age).

Tests move time with ``frozen()`` instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen_at: datetime | None = None


def now() -> datetime:
    return _frozen_at if _frozen_at is not None else datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    global _frozen_at
    previous, _frozen_at = _frozen_at, at
    try:
        yield
    finally:
        _frozen_at = previous


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward (only meaningful inside ``frozen``)."""
    global _frozen_at
    if _frozen_at is None:
        raise RuntimeError("advance() needs a frozen clock")
    _frozen_at += delta
