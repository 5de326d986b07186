"""Lab progress after delivered events: one refresh per account per burst of writes, in a task of its own.

A student's writes come in bursts (the Create user wizard's user, policy and password; attach then detach), which
the web side publishes as one or several deliveries. Re-running every lab's checks inside each delivery was two
thirds of the worker's CPU under a classroom's load (issue 16). So a delivery only *schedules* the account's
refresh, ``CLASSROOM_PROGRESS_DELAY`` seconds later, unless one is already scheduled: a Redis marker per account
(``SET NX``) says so, and the deliveries of the burst that follow find it and add nothing.

The task clears the marker *before* it runs the checks: a write delivered while they run schedules the next refresh,
so the last write of a burst is always followed by a refresh that sees it (its change committed before its event
was delivered). The marker expires by itself (``MARKER_SECONDS``) if its task is lost with a killed worker. When
Redis does not answer, or the task cannot be published, the refresh runs in the delivery, as it did before; with a
delay of 0 (the tests without a worker) it always does.
"""

from __future__ import annotations

import functools
import logging

import redis
from celery import current_app, shared_task
from django.conf import settings

from classroom import progress
from classroom.models import StudentSeat
from core import redis_clients

logger = logging.getLogger(__name__)

MARKER_SECONDS = 60  # a scheduled refresh whose task was lost: the next write after this schedules another


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis_clients.client(url, timeout=0.5)


def marker_key(account_id: str) -> str:
    # Per queue: installations (or test runs) sharing one Redis keep their markers apart, as they keep their tasks.
    return f"progress:refresh:{current_app.conf.task_default_queue}:{account_id}"


def delay() -> float:
    return float(getattr(settings, "CLASSROOM_PROGRESS_DELAY", 1.0))


def on_events_delivered(sender, *, account_ids: set[str], **_kwargs) -> None:  # noqa: ANN001
    """Refresh the labs of the student accounts whose events were just delivered (other accounts have no board):
    scheduled once per burst, or at once when it cannot be."""
    for account_id in StudentSeat.objects.filter(account_id__in=account_ids).values_list("account_id", flat=True):
        if not schedule_refresh(account_id):
            progress.refresh(account_id)


def schedule_refresh(account_id: str) -> bool:
    """Whether the account's refresh is scheduled (now, or already by an earlier delivery of the burst); False:
    the caller refreshes it itself."""
    seconds = delay()
    if seconds <= 0:
        return False
    client = _client(settings.REDIS_URL)
    key = marker_key(account_id)
    try:
        if not client.set(key, "1", nx=True, ex=MARKER_SECONDS):
            return True  # a refresh is scheduled and has not started: it will see this delivery's events
    except redis.RedisError:
        logger.warning("progress refresh of %s not scheduled (Redis down): refreshing now", account_id)
        return False
    try:
        refresh_progress.apply_async((account_id,), countdown=seconds)
    except Exception:  # the broker refused it: the marker must not hold back the next delivery's refresh
        logger.warning("progress refresh of %s not published: refreshing now", account_id, exc_info=True)
        _forget_marker(client, key)
        return False
    return True


def _forget_marker(client: redis.Redis, key: str) -> None:
    try:
        client.delete(key)
    except redis.RedisError:
        logger.warning("could not clear %s (Redis down); it expires in %d s", key, MARKER_SECONDS)


@shared_task(name="classroom.refresh_progress", ignore_result=True)
def refresh_progress(account_id: str) -> None:
    """The scheduled refresh: clear the account's marker first (a write delivered from now on schedules the next
    refresh), then run the checks."""
    _forget_marker(_client(settings.REDIS_URL), marker_key(account_id))
    progress.refresh(account_id)
