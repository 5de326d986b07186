"""``manage.py refresh_managed_policies [SOURCE]``: rebuild the committed AWS managed policy data file."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from policies.catalog.managed import DATA_FILE
from policies.catalog.sources import SourceError, read_source, write


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # writes a file in the source tree; the database is not involved
    help = (
        "Rebuild policies/catalog/data/aws_managed_policies.json from SOURCE: a file or http(s) URL holding the output "
        "of `aws iam get-account-authorization-details --filter AWSManagedPolicy`, moto's "
        "moto/iam/aws_managed_policies.py (or its JSON), or an earlier data file; without SOURCE, the installed moto "
        "package. Then run load_managed_policies (the launcher does at every start) to apply it to the database."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("source", nargs="?", help="a file path or http(s) URL (default: the installed moto)")
        parser.add_argument("--output", type=Path, default=DATA_FILE, help="where to write (default: %(default)s)")

    def handle(self, *args: object, **options: object) -> None:
        source = options.get("source")
        output = options["output"]
        assert isinstance(output, Path)
        try:
            data = read_source(str(source) if source else None)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        changed = write(data, output)
        version = f" {data.source_version}" if data.source_version else ""
        self.stdout.write(
            f"{len(data.policies)} AWS managed policies from {data.source}{version} (newest update {data.date}): "
            f"{output} {'written' if changed else 'already up to date'}."
        )
