"""``manage.py load_managed_policies``: load or refresh the AWS managed policy catalog (idempotent)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from policies.catalog.managed import managed_policies
from policies.loading import load_aws_managed_policies


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # a data command: migrate (run first) does the checks
    help = (
        "Load the AWS managed policies (the committed catalog file) into the database; re-running applies only changes."
    )

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        changed = load_aws_managed_policies()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"AWS managed policies: {len(managed_policies())} in the catalog, {changed} added or updated "
            f"({elapsed:.2f} s)."
        )
