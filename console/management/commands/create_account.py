"""``manage.py create_account``: a new AWS account with its root user, for scripts, classes and tests.

Prints the account ID alone on standard output; a generated password goes to standard error.
"""

from __future__ import annotations

import secrets

from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.services import create_account
from core.errors import IamError


def generate_password() -> str:
    """A root password that meets AWS's rules (upper, lower, digit and symbol) and is easy to type."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    while True:
        groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(3)]
        password = "-".join(groups)
        if (
            any(c.isupper() for c in password)
            and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # a data command: migrate (run first) does the checks
    help = "Create an AWS account with its root user and print the account ID."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="root user email address (the sign-in name)")
        parser.add_argument("--password", help="root password; a random one is generated and shown if omitted")
        parser.add_argument("--account-id", help="12 digits; random if omitted")
        parser.add_argument("--alias", help="account alias used in the sign-in URL")
        parser.add_argument("--name", default="", help="account name (defaults to the email's local part)")

    def handle(self, *args: object, **options: str | None) -> None:
        password = options["password"] or generate_password()
        try:
            account = create_account(
                email=options["email"] or "",
                password=password,
                account_id=options["account_id"],
                alias=options["alias"],
                name=options["name"] or "",
            )
        except IamError as exc:
            raise CommandError(exc.message) from exc
        if not options["password"]:
            self.stderr.write(f"Root password: {password}")
        self.stdout.write(account.id)
