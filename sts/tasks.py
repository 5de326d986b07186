from __future__ import annotations

from celery import shared_task

from sts import services


@shared_task(name="sts.expire_sessions", ignore_result=True)
def expire_sessions() -> int:
    return services.expire_sessions()
