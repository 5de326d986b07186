"""Redis clients that answer at once when Redis is away.

redis-py (6 and later) retries a failed connection three times with an exponential backoff by default: a ping of a
Redis that is not (yet) listening took 1–3.5 s instead of failing. Every caller here has its own answer to a Redis
that is away (the launcher polls until it answers, the sign-in throttle and the beat lease fail open), so none of
them wants the library's retries.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def client(url: str, *, timeout: float) -> redis.Redis:
    """A client of ``url`` whose connects and commands give up after ``timeout`` seconds, without retries."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )
