"""The environment a deployment on several machines sets (docs/deploy.md), as each process reads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_under(**env: str) -> dict:
    code = (
        "import json, console.settings as s; d = s.DATABASES['default']; print(json.dumps({"
        "'prepare_threshold': d['OPTIONS']['prepare_threshold'], 'no_cursors': d['DISABLE_SERVER_SIDE_CURSORS'], "
        "'queue': s.CELERY_TASK_DEFAULT_QUEUE, 'trails': s.TRAIL_DIR, "
        "'schedule': {e['task']: [e['schedule'], e['kwargs']] for e in s.CELERY_BEAT_SCHEDULE.values()}}))"
    )
    names = ("DB_PREPARED_STATEMENTS", "DB_SERVER_SIDE_CURSORS", "CELERY_QUEUE", "IAM_TRAIL_DIR")
    base = {k: v for k, v in os.environ.items() if k not in names and not k.endswith("_SECONDS")}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_behind_pgbouncer_nothing_is_prepared_and_no_cursor_outlives_a_transaction():
    default = settings_under()
    assert (default["prepare_threshold"], default["no_cursors"], default["queue"], default["trails"]) == (
        2,
        False,
        "celery",
        "",
    )
    pooled = settings_under(DB_PREPARED_STATEMENTS="false")
    assert pooled["prepare_threshold"] is None and pooled["no_cursors"] is True
    assert settings_under(DB_PREPARED_STATEMENTS="false", DB_SERVER_SIDE_CURSORS="true")["no_cursors"] is False


def test_the_beat_schedule_queue_and_trail_directory_come_from_the_environment():
    assert settings_under()["schedule"] == {
        "audit.redeliver_pending": [10.0, {"scheduled": True}],
        "sts.expire_sessions": [15.0, {"scheduled": True}],
        "s3.sweep_orphan_bodies": [3600.0, {"scheduled": True}],
    }
    configured = settings_under(
        AUDIT_SWEEP_SECONDS="30",
        EXPIRE_SESSIONS_SECONDS="60",
        IAM_OBJECT_SWEEP_SECONDS="600",
        CELERY_QUEUE="school-b",
        IAM_TRAIL_DIR="/srv/trails",
    )
    assert configured["schedule"]["audit.redeliver_pending"][0] == 30.0
    assert configured["schedule"]["sts.expire_sessions"][0] == 60.0
    assert configured["schedule"]["s3.sweep_orphan_bodies"][0] == 600.0
    assert (configured["queue"], configured["trails"]) == ("school-b", "/srv/trails")
