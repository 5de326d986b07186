"""The S3 practice service's upkeep, run by beat."""

from __future__ import annotations

from celery import shared_task

from core import beat
from s3 import services


@shared_task(name="s3.sweep_orphan_bodies", ignore_result=True)
def sweep_orphan_bodies(scheduled: bool = False) -> int:
    if scheduled and not beat.take_lease("s3.sweep_orphan_bodies"):
        return 0
    return services.sweep_orphan_bodies()
