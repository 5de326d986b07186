"""``manage.py reset_account ACCOUNT_ID --yes``: empty an account's IAM state for the next class.

Deletes every IAM user, group, role, instance profile, customer managed policy, inline policy, attachment, user
access key, MFA device (except root's), role session, password policy, credential report, SAML and OIDC provider,
service-linked role deletion task, access-advisor record, lab progress and the account alias
(``identities.reset.reset_account_iam``). Keeps the account, its root user and the root user's credentials, and the
audit history. Who may run it is who may run ``manage.py`` on the server (the same authentication as every other
administrative command).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from identities.models import Account
from identities.reset import reset_account_iam


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = "Reset an account's IAM state to empty, keeping the root user and its credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", help="the 12-digit account ID (hyphens allowed)")
        parser.add_argument("--yes", action="store_true", help="confirm: without it nothing is deleted")

    def handle(self, *args: object, **options: object) -> None:
        account_id = str(options["account_id"]).replace("-", "")
        if not Account.objects.filter(pk=account_id).exists():
            raise CommandError(f"No account {account_id}.")
        if not options["yes"]:
            raise CommandError(f"This deletes every IAM entity of account {account_id}; add --yes to confirm.")
        summary = reset_account_iam(account_id)
        what = ", ".join(f"{n} {label}" for label, n in summary.deleted.items()) or "nothing to delete"
        self.stdout.write(f"Account {account_id} reset in {summary.milliseconds:.1f} ms: {what}.")
