"""One run per period of each beat task, however many ``celery beat`` schedulers are running (docs/deploy.md).

A deployment runs one beat. A second one (started by mistake, or left running by a failover) sends every scheduled
task twice. So a scheduled run first takes its task's lease in Redis (``SET NX PX``), held for 90 % of the task's
period: a run that another beat sends while it is held is skipped. Redis keeps the time, so the machines' clocks do
not matter, and one beat's own runs (a whole period apart) always find the lease expired.

The lease saves repeated work; it is not what keeps the effects single. The tasks are idempotent: the sweep delivers
each audit event once (``audit.delivery``: ``SKIP LOCKED`` and ``delivered_at``), and each expired role session is
marked once. So when Redis does not answer, the run goes ahead.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from typing import Any

import redis
from django.conf import settings

from core import redis_clients

logger = logging.getLogger(__name__)

HELD = 0.9  # of the task's period


@functools.cache
def _client() -> redis.Redis:
    return redis_clients.client(settings.REDIS_URL, timeout=0.5)


def period(task_name: str) -> float:
    """The task's period in the beat schedule, in seconds."""
    entries: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
    return min(float(e["schedule"]) for e in entries.values() if e["task"] == task_name)


def lease_key(task_name: str) -> str:
    # Per queue: installations (or test runs) sharing one Redis keep their leases apart, as they keep their tasks.
    return f"beat:lease:{settings.CELERY_TASK_DEFAULT_QUEUE}:{task_name}"


def take_lease(task_name: str) -> bool:
    """Whether this scheduled run of ``task_name`` should go ahead: False when a run of it started less than 90 % of
    its period ago (sent by another beat)."""
    holder = f"{socket.gethostname()}:{os.getpid()}"
    try:
        taken = _client().set(lease_key(task_name), holder, nx=True, px=max(1, int(period(task_name) * HELD * 1000)))
    except redis.RedisError:
        logger.warning("beat lease unavailable (Redis down); running %s anyway", task_name)
        return True
    if taken:
        logger.info("%s: beat lease taken, running", task_name)
    else:
        logger.info("%s: already run this period (another beat sent it), skipped", task_name)
    return bool(taken)
