"""A real Celery worker for tests about work that happens after a request (audit delivery, lab progress).

``worker`` (fixture): a ``celery worker --pool=solo`` subprocess on a queue of its own, pointed at the test
database and the test Redis, with ``AUDIT_ENQUEUE_DELIVERY`` on; ``worker.start()`` when the test wants it up,
stopped at the end of the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from console.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


class Worker:
    def __init__(self, queue: str, data_dir: Path) -> None:
        self.queue, self.data_dir, self.proc = queue, data_dir, None

    def start(self) -> None:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "IAM_DATA_DIR": str(self.data_dir),
            "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": celery_app.conf.broker_url,
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "console",
                "worker",
                "--pool=solo",
                "-Q",
                self.queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


@pytest.fixture
def worker(tmp_path, transactional_db):
    queue = f"audit-test-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    w = Worker(queue, tmp_path)
    with override_settings(AUDIT_ENQUEUE_DELIVERY=True, DATA_DIR=tmp_path):
        yield w
    w.stop()
    celery_app.conf.task_default_queue = previous
