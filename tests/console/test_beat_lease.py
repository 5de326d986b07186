"""A second ``celery beat`` does no harm (docs/deploy.md, issue 16 §2): a scheduled run takes its task's lease in
Redis, and a run sent by another beat within the same period is skipped. Calls made by hand always run. The whole
deployment with two real beats is tests/e2e/test_several_nodes.py."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from audit.models import AuditEvent
from core import beat
from identities import services
from sts.tasks import expire_sessions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_leases():
    """Leases of a queue of this test's own (they are per queue, as the tasks are)."""
    with override_settings(CELERY_TASK_DEFAULT_QUEUE=f"test-{uuid.uuid4().hex[:8]}"):
        yield
        for name in ("audit.redeliver_pending", "sts.expire_sessions"):
            beat._client().delete(beat.lease_key(name))


def test_a_second_scheduled_run_in_the_same_period_is_skipped(root_ctx, settings, tmp_path):
    from audit.tasks import redeliver_pending

    settings.DATA_DIR = tmp_path  # the trail files the delivery appends to
    services.create_user(root_ctx, user_name="first")
    assert redeliver_pending(scheduled=True) >= 1  # the first beat's run delivers
    assert not AuditEvent.objects.filter(delivered_at__isnull=True).exists()
    services.create_user(root_ctx, user_name="second")
    assert redeliver_pending(scheduled=True) == 0  # the other beat's, a moment later: skipped
    assert AuditEvent.objects.filter(delivered_at__isnull=True, event_name="CreateUser").count() == 1
    assert expire_sessions(scheduled=True) == 0 and not beat.take_lease("sts.expire_sessions")  # leases per task
    assert redeliver_pending() >= 1  # by hand (an operator, a test): always runs
    assert not AuditEvent.objects.filter(delivered_at__isnull=True).exists()


def test_the_lease_lasts_most_of_the_tasks_period():
    assert beat.take_lease("audit.redeliver_pending")
    ttl = beat._client().pttl(beat.lease_key("audit.redeliver_pending"))
    assert 0 < ttl <= beat.period("audit.redeliver_pending") * 1000 * beat.HELD


def test_without_redis_the_run_goes_ahead(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    beat._client.cache_clear()
    try:
        assert beat.take_lease("audit.redeliver_pending") and beat.take_lease("audit.redeliver_pending")
    finally:
        beat._client.cache_clear()
