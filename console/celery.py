"""The Celery application: Redis broker, tasks discovered in each app's ``tasks.py``.

Database connections: Celery's Django fixup closes every connection before and after each task (unless
``CELERY_DB_REUSE_MAX``), so each task used to open a new PostgreSQL connection: a backend forked and its catalog
caches warmed for a task of a few milliseconds, and no prepared statement ever reused. Under a classroom's load
(issue 16) a delivery or a progress refresh every few milliseconds paid that each time, in the worker and in
PostgreSQL. Tasks now treat connections as Django treats them around a request: ``close_old_connections`` before
and after each task closes one past ``CONN_MAX_AGE`` or left unusable by an error (the database restarted), and keeps
the others (settings: ``CELERY_DB_REUSE_MAX`` turns the fixup's closing off).
"""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("iam_classroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(**_kwargs: object) -> None:
    from django.db import close_old_connections  # reason: Django is set up once the worker runs tasks

    close_old_connections()
