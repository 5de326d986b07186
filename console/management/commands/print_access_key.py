"""``manage.py print_access_key ACCOUNT_ID [--user NAME]``: create an access key for an IAM user (or, without
``--user``, for the root user) and print it, for class handouts and scripts.

The key is created through the same service as IAM's CreateAccessKey (quota of two keys, audited as the root user
with the user agent ``manage.py print_access_key``). The secret is shown this once, as AWS does.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.context import CallContext, Principal
from core.errors import IamError
from identities.credentials import create_access_key
from identities.models import Account


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = "Create an access key for an IAM user (or the root user) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", help="the 12-digit account ID (hyphens allowed)")
        parser.add_argument("--user", help="IAM user name; omit for the root user's key")
        parser.add_argument(
            "--format",
            choices=["credentials", "env", "json"],
            default="credentials",
            help="an ~/.aws/credentials profile (default), shell exports, or JSON",
        )
        parser.add_argument("--profile", help="profile name for --format credentials (default: the user name)")

    def handle(self, *args: object, **options: str | None) -> None:
        account_id = (options["account_id"] or "").replace("-", "")
        if not Account.objects.filter(pk=account_id).exists():
            raise CommandError(f"No account {account_id}.")
        ctx = CallContext(
            Principal.root(account_id), source_ip="127.0.0.1", user_agent="manage.py print_access_key", origin="system"
        )
        try:
            new = create_access_key(ctx, user_name=options["user"])
        except IamError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        key_id, secret = new.key.access_key_id, new.secret_access_key
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "AccountId": account_id,
                        "UserName": options["user"],
                        "AccessKeyId": key_id,
                        "SecretAccessKey": secret,
                    }
                )
            )
        elif options["format"] == "env":
            self.stdout.write(f"export AWS_ACCESS_KEY_ID={key_id}\nexport AWS_SECRET_ACCESS_KEY={secret}")
        else:
            profile = options["profile"] or options["user"] or "root"
            self.stdout.write(f"[{profile}]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}")
