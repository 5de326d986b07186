from __future__ import annotations

from celery import shared_task

from core import beat
from sts import services


@shared_task(name="sts.expire_sessions", ignore_result=True)
def expire_sessions(scheduled: bool = False) -> int:
    if scheduled and not beat.take_lease("sts.expire_sessions"):
        return 0
    return services.expire_sessions()
