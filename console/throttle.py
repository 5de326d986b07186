"""Sign-in throttling backed by Redis: after repeated failures one sign-in name is locked for a while, whoever
tries it and from wherever; nobody else is.

There is deliberately no lock per client address. Behind the TLS reverse proxy the README recommends, or a
school's NAT, a whole class signs in from one address: a lock on it would let one student lock everyone out.
A correct password is therefore refused only when the name it is for is locked (docs/security.md).

Counters are keyed by the account and the sign-in name as ``console.services.sign_in_user_name`` normalizes it
(the same function the user lookup uses), lower-cased, since IAM user names are unique case-insensitively: every
variant of a name (case, surrounding whitespace) counts against, and is refused by, the same lock.

Redis being down must not stop a class from signing in, so the throttle then lets attempts through.
"""

from __future__ import annotations

import contextlib
import functools
import logging

import redis
from django.conf import settings

from core import redis_clients

logger = logging.getLogger(__name__)

MAX_USER_FAILURES = 20
LOCK_SECONDS = 15 * 60
ROOT = "<root>"  # the name under which an account's root user is counted


@functools.cache
def _client() -> redis.Redis:
    return redis_clients.client(settings.REDIS_URL, timeout=0.5)


def _prefix() -> str:
    # Settings, so parallel test processes sharing one Redis keep their counters apart.
    return getattr(settings, "SIGNIN_THROTTLE_PREFIX", "signin:fail")


def _user_key(account_id: str, user_name: str) -> str:
    return f"{_prefix()}:user:{account_id}:{user_name.lower()}"


def clear_all() -> None:
    """Forget every failure counter (tests start from a clean slate with this, not FLUSHDB)."""
    client = _client()
    keys = list(client.scan_iter(match=f"{_prefix()}:*", count=1000))
    if keys:
        client.delete(*keys)


def is_locked(account_id: str, user_name: str) -> bool:
    """Whether ``user_name`` (normalized by ``console.services.sign_in_user_name``) of the account is locked."""
    try:
        failures = _client().get(_user_key(account_id, user_name))
    except redis.RedisError:
        logger.warning("sign-in throttle unavailable (Redis down); not enforcing")
        return False
    return int(failures or 0) >= MAX_USER_FAILURES


def record_failure(account_id: str, user_name: str) -> bool:
    """Count one failed attempt; True when this failure locks the name. The lock lasts LOCK_SECONDS after the
    latest failure."""
    key = _user_key(account_id, user_name)
    try:
        pipe = _client().pipeline()
        pipe.incr(key)
        pipe.expire(key, LOCK_SECONDS)
        failures, _ = pipe.execute()
    except redis.RedisError:
        logger.warning("sign-in throttle unavailable (Redis down); failure not counted")
        return False
    return int(failures) == MAX_USER_FAILURES


def clear(account_id: str, user_name: str) -> None:
    with contextlib.suppress(redis.RedisError):
        _client().delete(_user_key(account_id, user_name))
