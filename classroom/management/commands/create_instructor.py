"""``manage.py create_instructor``: a new instructor account (or make an existing account an instructor)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classroom import services
from core.errors import IamError
from identities.models import Account


class Command(BaseCommand):
    help = "Create an instructor: a new AWS account whose root user may create classes. Prints the account ID."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", help="root user email of the new account")
        parser.add_argument("--password", help="root password (required with --email)")
        parser.add_argument("--name", default="", help="the instructor's name")
        parser.add_argument("--account-id", help="make this existing account an instructor instead")

    def handle(self, *args: object, **options: str | None) -> None:
        if options["account_id"]:
            account = Account.objects.filter(pk=options["account_id"]).first()
            if account is None:
                raise CommandError(f"No account {options['account_id']}.")
            services.make_instructor(account, display_name=options["name"] or "")
        else:
            if not options["email"] or not options["password"]:
                raise CommandError("Give --email and --password, or --account-id.")
            try:
                account = services.sign_up_instructor(
                    email=options["email"], password=options["password"], name=options["name"] or ""
                )
            except IamError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(account.id)
