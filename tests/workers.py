"""A real Celery worker for tests about work that happens after a request (audit delivery, lab progress, reports).

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``), so every test module sees the one ``worker`` fixture:
a ``celery worker --pool=solo`` subprocess on a queue of its own, pointed at the test database (password included,
as the embedded PostgreSQL needs) and the test Redis, with ``AUDIT_ENQUEUE_DELIVERY`` on in the test process;
``worker.start()`` when the test wants it up, stopped at the end of the test. The worker's output goes to a file
that a failed test's report shows ("worker log"), so a worker that cannot start says why instead of a bare timeout.
Tests that use it are marked ``worker`` automatically (``-m "not worker"`` leaves them out).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[1]


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """``DATABASE_URL`` for a subprocess from Django's connection settings, the password included."""
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = str(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{quote(password, safe='')}@" if password else f"{user}@" if user else ""
    host = str(settings_dict.get("HOST") or "127.0.0.1")
    host = quote(host, safe="") if host.startswith("/") else host  # a Unix socket directory
    port = settings_dict.get("PORT") or 5432
    return f"postgresql://{credentials}{host}:{port}/{quote(str(settings_dict['NAME']), safe='')}"


class Worker:
    def __init__(self, queue: str, data_dir: Path, database: Mapping[str, Any], broker_url: str) -> None:
        self.queue, self.data_dir, self.database, self.broker_url = queue, data_dir, database, broker_url
        self.log_path = data_dir / "celery-worker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, log_level: str = "warning", **env: str) -> None:
        """Start the worker; ``env`` adds environment variables (settings) for the worker process only."""
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "IAM_DATA_DIR": str(self.data_dir),
            "DATABASE_URL": database_url(self.database),
            "REDIS_URL": self.broker_url,
            "CELERY_QUEUE": self.queue,  # the tasks the worker publishes itself (lab progress) come back to it
            **env,
        }
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
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
                    log_level,
                ],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@pytest.fixture
def worker(request: pytest.FixtureRequest, tmp_path: Path, transactional_db: None) -> Iterator[Worker]:
    # Django is imported here, not at the top: this plugin is loaded for the pure engine tests too (-p no:django).
    from django.db import connection
    from django.test import override_settings

    from console.celery import app as celery_app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    w = Worker(queue, tmp_path, connection.settings_dict, celery_app.conf.broker_url)
    request.node.stash[_WORKER] = w
    try:
        with override_settings(AUDIT_ENQUEUE_DELIVERY=True, DATA_DIR=tmp_path):
            yield w
    finally:
        w.stop()
        celery_app.conf.task_default_queue = previous
        _drop_queue(celery_app.conf.broker_url, queue)


def _drop_queue(broker_url: str, queue: str) -> None:
    """Tasks still waiting at the end (a refresh scheduled a second ahead, returned by the stopped worker) go with
    the test's queue."""
    from core import redis_clients

    with contextlib.suppress(Exception):
        redis_clients.client(broker_url, timeout=2).delete(queue)


_WORKER = pytest.StashKey[Worker]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.worker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    w = item.stash.get(_WORKER, None)
    if w is not None and report.failed:
        report.sections.append(("worker log", w.log() or "(the worker wrote nothing)"))
    return report
