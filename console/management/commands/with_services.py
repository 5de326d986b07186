"""``manage.py with_services -- COMMAND...``: run a command (the test suite) against a real PostgreSQL and Redis.

Variables already set are used as they are. With ``--local-defaults``, an unset DATABASE_URL / REDIS_URL becomes this
machine's own server (``postgresql://postgres@127.0.0.1:5432/iam_classroom``, ``redis://127.0.0.1:6379/15``) when it
answers; otherwise an embedded one is started under ``<data dir>/test-services`` for the command's lifetime. This is
how ``make test`` needs nothing but Python on a fresh machine.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from console import embedded

LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/iam_classroom"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/15"


class Command(BaseCommand):
    help = "Run a command with DATABASE_URL/REDIS_URL set, starting embedded servers for the unset ones."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--local-defaults",
            action="store_true",
            help="prefer this machine's PostgreSQL (5432) and Redis (6379) when they answer",
        )
        parser.add_argument("args", nargs="+", metavar="COMMAND", help="the command to run (after --)")

    def handle(self, *args: str, **options: object) -> None:
        if not args:
            raise CommandError("give the command to run after --")
        defaults = {"DATABASE_URL": LOCAL_DATABASE_URL, "REDIS_URL": LOCAL_REDIS_URL}
        if not options["local_defaults"]:
            defaults = {}
        code = embedded.run_with_services(settings.DATA_DIR.resolve() / "test-services", args, local_defaults=defaults)
        if code:
            raise SystemExit(code)
