"""Test settings: the real PostgreSQL and Redis (from DATABASE_URL / REDIS_URL, or this machine's local ones),
with cheap password hashing so the suite stays fast."""

import atexit
import os
import shutil
import tempfile

from console.settings import *  # noqa: F403

ARGON2_TIME_COST = 1
ARGON2_MEMORY_COST_KIB = 1024
DEBUG = False
ALLOWED_HOSTS = ["*"]

# The live server of browser tests serves static files itself; WhiteNoise wants a collected STATIC_ROOT.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405

# Most tests have no Celery worker: they don't publish delivery tasks (tests/audit turns it on with a real worker).
AUDIT_ENQUEUE_DELIVERY = False
# ...so lab progress is refreshed inside the delivery that a test runs (tests about scheduling it turn this on).
CLASSROOM_PROGRESS_DELAY = 0

# Live-server threads must not keep connections open past a test (the test database is dropped at the end).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Parallel test processes share one Redis: each keeps its own sign-in failure counters.
SIGNIN_THROTTLE_PREFIX = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}:signin:fail"

# Each test process (each xdist worker) keeps S3's object bodies in its own temporary directory, gone at its exit.
OBJECT_DIR = tempfile.mkdtemp(prefix=f"iam-objects-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
atexit.register(shutil.rmtree, OBJECT_DIR, True)
