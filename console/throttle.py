"""Sign-in throttling backed by Redis: after repeated failures, one user name (or one client address) is locked
for a while, without locking anyone else out.

Redis being down must not stop a class from signing in, so the throttle then lets attempts through.
"""

from __future__ import annotations

import contextlib
import functools
import logging

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

MAX_USER_FAILURES = 20
MAX_ADDRESS_FAILURES = 100
LOCK_SECONDS = 15 * 60


@functools.cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)


def _prefix() -> str:
    # Settings, so parallel test processes sharing one Redis keep their counters apart.
    return getattr(settings, "SIGNIN_THROTTLE_PREFIX", "signin:fail")


def _user_key(account_id: str, user_name: str) -> str:
    return f"{_prefix()}:user:{account_id}:{user_name.lower()}"


def _address_key(address: str) -> str:
    return f"{_prefix()}:ip:{address}"


def clear_all() -> None:
    """Forget every failure counter (tests start from a clean slate with this, not FLUSHDB)."""
    client = _client()
    keys = list(client.scan_iter(match=f"{_prefix()}:*", count=1000))
    if keys:
        client.delete(*keys)


def is_locked(account_id: str, user_name: str, address: str) -> bool:
    try:
        user_failures, address_failures = _client().mget(_user_key(account_id, user_name), _address_key(address))
    except redis.RedisError:
        logger.warning("sign-in throttle unavailable (Redis down); not enforcing")
        return False
    return int(user_failures or 0) >= MAX_USER_FAILURES or int(address_failures or 0) >= MAX_ADDRESS_FAILURES


def record_failure(account_id: str, user_name: str, address: str) -> bool:
    """Count one failed attempt; True when this failure locks the user name."""
    try:
        pipe = _client().pipeline()
        pipe.incr(_user_key(account_id, user_name))
        pipe.expire(_user_key(account_id, user_name), LOCK_SECONDS)
        pipe.incr(_address_key(address))
        pipe.expire(_address_key(address), LOCK_SECONDS)
        user_failures, _, _, _ = pipe.execute()
    except redis.RedisError:
        logger.warning("sign-in throttle unavailable (Redis down); failure not counted")
        return False
    return int(user_failures) == MAX_USER_FAILURES


def clear(account_id: str, user_name: str) -> None:
    with contextlib.suppress(redis.RedisError):
        _client().delete(_user_key(account_id, user_name))
