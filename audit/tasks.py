"""Delivery of audit events (the transactional outbox's consumer) and the re-delivery sweep."""

from __future__ import annotations

from celery import shared_task

from audit import delivery


@shared_task(name="audit.deliver_event", ignore_result=True)
def deliver_event(event_pk: int) -> None:
    delivery.deliver([event_pk])


@shared_task(name="audit.redeliver_pending", ignore_result=True)
def redeliver_pending() -> int:
    """Beat: deliver whatever is still undelivered (Redis or the worker were down when it was written)."""
    return delivery.deliver_pending()
