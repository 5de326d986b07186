"""``manage.py web``: one web node of a deployment on several machines (docs/deploy.md): granian serving
``console.wsgi`` with the connection handling ``manage.py standalone`` uses (``console.embedded.web_server_command``,
``IAM_WEB_THREADS`` / ``IAM_WEB_CONNECTIONS`` / ``IAM_WEB_IDLE_TIMEOUT_MS``). The process becomes granian (exec), so
a service manager's stop signal reaches the server itself. Migrations and ``collectstatic`` are release steps, run
before it."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandParser

from console.embedded import web_server_command


class Command(BaseCommand):
    help = "Run the web server (granian) of one web node; the database, Redis and static files are prepared."
    requires_system_checks: list[str] = []  # granian's workers load Django and run them

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="default $PORT or 8000"
        )
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes (default: one a core)")

    def handle(self, *args: object, **options: object) -> None:
        command = web_server_command(str(options["host"]), int(options["port"]), int(options["workers"]))  # type: ignore[call-overload]
        sys.stdout.flush()
        os.execv(command[0], command)
