"""Settings for IAM Classroom, all from the environment, with safe defaults for a laptop.

DATABASE_URL / REDIS_URL: when unset, the values written by ``manage.py standalone`` for its embedded
PostgreSQL and Redis (``.data/runtime.env``) are used, so ``manage.py shell`` works beside a running launcher.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("IAM_DATA_DIR", BASE_DIR / ".data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or not value.strip() else int(value)


def _runtime_env() -> dict[str, str]:
    runtime = DATA_DIR / "runtime.env"
    if not runtime.exists():
        return {}
    pairs = (line.split("=", 1) for line in runtime.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


_RUNTIME = _runtime_env()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = (
    os.environ.get("SECRET_KEY") or _RUNTIME.get("SECRET_KEY") or "insecure-dev-key-set-SECRET_KEY-in-production"
)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

DATABASE_URL = (
    os.environ.get("DATABASE_URL")
    or _RUNTIME.get("DATABASE_URL")
    or "postgresql://postgres@127.0.0.1:5432/iam_classroom"
)
REDIS_URL = os.environ.get("REDIS_URL") or _RUNTIME.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
# Server-side parameter binding (Django's documented option), so PostgreSQL can reuse plans: psycopg prepares a
# statement once it has run DB_PREPARE_THRESHOLD times on a connection (core/db.py's hot-path queries, and any
# frequent ORM query). DB_PREPARED_STATEMENTS=false keeps the binding but never prepares: named prepared statements
# do not survive PgBouncer in transaction mode (before 1.21's max_prepared_statements).
DATABASES["default"].setdefault("OPTIONS", {}).update(
    server_side_binding=True,
    prepare_threshold=env_int("DB_PREPARE_THRESHOLD", 2) if env_bool("DB_PREPARED_STATEMENTS", True) else None,
)
# Django's server-side cursors (``QuerySet.iterator()``) are declared WITH HOLD outside a transaction, which outlives
# the transaction PgBouncer lent the connection for: off with DB_PREPARED_STATEMENTS=false too, as Django's docs say
# for transaction pooling (DB_SERVER_SIDE_CURSORS sets them apart).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = not env_bool(
    "DB_SERVER_SIDE_CURSORS", env_bool("DB_PREPARED_STATEMENTS", True)
)

INSTALLED_APPS = [
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "console",
    "identities",
    "policies",
    "audit",
    "sts",
    "awsapi",
    "classroom",
    "ec2",
    "s3",
]

MIDDLEWARE = [
    "awsapi.middleware.QueryApiMiddleware",  # /aws answers here (awsapi.wsgi.respond, as in production): first
    "console.middleware.RejectNulBytesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.middleware.ConsoleIdentityMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.console",
                "classroom.context_processors.lab_panel",
            ],
            "builtins": ["django_htmx.templatetags.django_htmx"],
        },
    }
]

# Console sessions live in PostgreSQL: signing in keeps working while Redis is down.
SESSION_ENGINE = "console.session_store"  # the database backend, read with one prepared statement
SESSION_COOKIE_AGE = 12 * 60 * 60  # AWS console sessions last 12 hours
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SAMESITE = "Lax"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
# How many reverse proxies (each appending to X-Forwarded-For) stand in front of the server: the client's address,
# for the sign-in throttle, the audit record's sourceIPAddress and aws:SourceIp, is read through them
# (core/addresses.py, docs/security.md). 0: X-Forwarded-For is ignored.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Strict CSP: no inline script anywhere; styles come from our own sheet.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Celery: the audit outbox delivery and session expiry run here (issue 5); Redis is the broker.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
# Connections outlive a task (CONN_MAX_AGE, as for requests: console/celery.py), instead of the fixup closing them
# after each: the fixup closes them only every this many tasks.
CELERY_DB_REUSE_MAX = 1_000_000

# Argon2 cost for root and IAM-user console passwords (tests lower it; see tests/settings.py).
ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 3)
ARGON2_MEMORY_COST_KIB = env_int("ARGON2_MEMORY_COST_KIB", 65536)

# Public base URL printed in sign-in URLs and handouts.
CONSOLE_BASE_URL = os.environ.get("CONSOLE_BASE_URL", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
WHITENOISE_USE_FINDERS = DEBUG
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
CELERY_TASK_PUBLISH_RETRY = False  # an unreachable broker must not hold up a request; the sweep re-delivers
# The queue every node publishes to and every worker consumes (one Redis may serve several installations).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
# ``scheduled``: the run takes the task's lease (core.beat), so a second beat scheduler does no harm.
CELERY_BEAT_SCHEDULE = {
    "redeliver-audit-events": {
        "task": "audit.redeliver_pending",
        "schedule": float(env_int("AUDIT_SWEEP_SECONDS", 10)),
        "kwargs": {"scheduled": True},
    },
    "expire-role-sessions": {
        "task": "sts.expire_sessions",
        "schedule": float(env_int("EXPIRE_SESSIONS_SECONDS", 15)),
        "kwargs": {"scheduled": True},
    },
    "sweep-orphan-object-bodies": {  # S3 body files an interrupted call left with no row (s3/bodies.py)
        "task": "s3.sweep_orphan_bodies",
        "schedule": float(env_int("IAM_OBJECT_SWEEP_SECONDS", 3600)),
        "kwargs": {"scheduled": True},
    },
}
AUDIT_ENQUEUE_DELIVERY = env_bool("AUDIT_ENQUEUE_DELIVERY", True)
# Where workers append the daily trail files (default IAM_DATA_DIR/trails). With workers on several machines, one
# shared directory (NFSv4: the files are appended under flock) keeps each account's file whole (docs/deploy.md).
TRAIL_DIR = os.environ.get("IAM_TRAIL_DIR", "")
# The progress board's "needs help" signs (classroom.stuck): this many denied calls on one action within the window
# (seconds), or no check of the current lab turning green for CLASSROOM_STUCK_IDLE seconds while the student works.
CLASSROOM_STUCK_DENIALS = env_int("CLASSROOM_STUCK_DENIALS", 3)
CLASSROOM_STUCK_DENIAL_WINDOW = env_int("CLASSROOM_STUCK_DENIAL_WINDOW", 300)
CLASSROOM_STUCK_IDLE = env_int("CLASSROOM_STUCK_IDLE", 900)
# Lab progress is refreshed this many seconds after a student's events are delivered, once for a burst of writes
# (classroom.tasks); 0 refreshes inside each delivery.
CLASSROOM_PROGRESS_DELAY = float(os.environ.get("CLASSROOM_PROGRESS_DELAY", "1"))

# Where the S3 practice service keeps object bodies, one file each (default IAM_DATA_DIR/objects; their rows are in
# PostgreSQL). Every web node must see the same directory (NFSv4 between machines, docs/deploy.md). IAM_OBJECT_FSYNC
# fsyncs each body before its row commits (s3/bodies.py: without it an OS crash may lose the last seconds' bodies).
OBJECT_DIR = os.environ.get("IAM_OBJECT_DIR", "")
OBJECT_FSYNC = env_bool("IAM_OBJECT_FSYNC", False)
# The S3 practice service (s3/): the largest object one PutObject may store (S3's EntityTooLarge above it), and
# what one account's buckets may hold in all.
S3_MAX_OBJECT_SIZE = env_int("S3_MAX_OBJECT_SIZE", 5 * 1024 * 1024)
S3_ACCOUNT_QUOTA = env_int("S3_ACCOUNT_QUOTA", 100 * 1024 * 1024)
