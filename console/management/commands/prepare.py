"""``manage.py prepare``: what the launcher sets up before the product is ready, in one process: ``migrate`` (unless
``--skip-migrate``: the launcher found every migration applied), the AWS managed policy catalog, the demo account.

One process rather than three: each Python process that imports Django costs ~1 s of CPU, on the same two cores the
servers boot on (docs/benchmarks.md, start-up).
"""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # the web server's workers run the checks as they start
    help = "Migrate (unless --skip-migrate), load the AWS managed policies and create the demo account (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-migrate", action="store_true", help="Every migration is known to be applied.")

    def handle(self, *args: object, **options: object) -> None:
        if not options["skip_migrate"]:
            started = time.perf_counter()
            call_command("migrate", interactive=False, skip_checks=True, stdout=self.stdout, stderr=self.stderr)
            self.stdout.write(f"migrate done in {time.perf_counter() - started:.2f} s")
        call_command("load_managed_policies", stdout=self.stdout, stderr=self.stderr)
        call_command("seed_demo", stdout=self.stdout, stderr=self.stderr)
