"""Delivery of audit events (the transactional outbox's consumer) and the re-delivery sweep."""

from __future__ import annotations

from celery import shared_task

from audit import delivery
from core import beat


@shared_task(name="audit.deliver_event", ignore_result=True)
def deliver_event(event_pk: int) -> None:
    # Deliver this event and, in the same transaction, a batch of any others still waiting: under load most tasks
    # then find their event already delivered and cost one query.
    delivery.deliver_pending(limit=delivery.BATCH, including=[event_pk])


@shared_task(name="audit.redeliver_pending", ignore_result=True)
def redeliver_pending(scheduled: bool = False) -> int:
    """Beat: deliver whatever is still undelivered (Redis or the worker were down when it was written)."""
    if scheduled and not beat.take_lease("audit.redeliver_pending"):
        return 0
    return delivery.deliver_pending()
