"""``manage.py standalone``: run the whole product on one machine, like ``airflow standalone``.

With DATABASE_URL / REDIS_URL unset it starts an embedded PostgreSQL and Redis under the data directory
(``IAM_DATA_DIR``, default ``./.data``); with them set it uses those servers. Then it migrates, loads the AWS managed
policies, seeds the demo account and runs the web server (granian), a Celery worker and Celery beat until Ctrl-C.
See ``console/embedded.py``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management.base import BaseCommand, CommandParser
from django.db.migrations.loader import MigrationLoader

from console import embedded


def disk_migrations() -> frozenset[tuple[str, str]]:
    """Every migration of the installed apps, as (app, name): a restart skips ``migrate`` when all are applied."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def static_fingerprint() -> str:
    """The static files collectstatic would copy (path, size, modification time): a restart skips collectstatic
    when this is what was collected last time."""
    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Start PostgreSQL and Redis if needed, prepare the database, and run the web server, worker and beat."
    requires_system_checks: list[str] = []  # the web server's own start runs them; this process opens no DB

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("PORT", "8000")),
            help="web server port (default: $PORT or 8000)",
        )
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for a class server)"
        )
        parser.add_argument("--web-workers", type=int, default=2, help="web server worker processes (default 2)")
        parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes (default 2)")

    def handle(self, *args: object, **options: object) -> None:
        opts = embedded.Options(
            base_dir=settings.BASE_DIR,
            data_dir=settings.DATA_DIR.resolve(),
            host=str(options["host"]),
            port=int(options["port"]),  # type: ignore[call-overload]
            web_workers=int(options["web_workers"]),  # type: ignore[call-overload]
            worker_concurrency=int(options["worker_concurrency"]),  # type: ignore[call-overload]
            migrations=disk_migrations(),
            static_root=Path(settings.STATIC_ROOT),
            static_fingerprint=static_fingerprint(),
        )
        code = embedded.run(opts, out=lambda line: (self.stdout.write(line), self.stdout.flush()))
        if code:
            raise SystemExit(code)
