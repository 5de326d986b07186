"""``manage.py seed_demo``: the demo account the launcher signs you into (idempotent).

The root password is random, stored hashed in the database and in clear only in ``<data dir>/demo-credentials``
(mode 0600), which the launcher reads to print it at each start. Running again keeps the password when the file
still matches the database; otherwise (a new database, a lost file) it sets a new one and rewrites the file.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console.embedded import read_env_file, write_private_file
from console.management.commands.create_account import generate_password
from console.services import create_account
from core.errors import IamError
from core.passwords import hash_password, verify_password
from identities.models import Account

DEMO_ACCOUNT_ID = "111122223333"
DEMO_EMAIL = "root@demo.example"
DEMO_ALIAS = "demo"
CREDENTIALS_FILE = "demo-credentials"


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # a data command: migrate (run first) does the checks
    help = "Create the demo account (ID 111122223333, root@demo.example) and save its root password."

    def handle(self, *args: object, **options: object) -> None:
        path = settings.DATA_DIR / CREDENTIALS_FILE
        saved = read_env_file(path).get("PASSWORD", "")
        account = Account.objects.filter(pk=DEMO_ACCOUNT_ID).first()
        if account is not None and saved and verify_password(account.root_password_hash, saved):
            self.stdout.write(f"Demo account {DEMO_ACCOUNT_ID} is ready; root credentials in {path}.")
            return
        password = generate_password()
        if account is None:
            try:
                create_account(
                    account_id=DEMO_ACCOUNT_ID, email=DEMO_EMAIL, password=password, alias=DEMO_ALIAS, name="Demo"
                )
            except IamError as exc:
                raise CommandError(exc.message) from exc
            action = "Created"
        else:
            # The password file was lost or belongs to another database: give the demo root a new password.
            Account.objects.filter(pk=DEMO_ACCOUNT_ID).update(root_password_hash=hash_password(password))
            action = "Reset the root password of"
        write_private_file(
            path,
            f"ACCOUNT_ID={DEMO_ACCOUNT_ID}\nEMAIL={account.root_email if account else DEMO_EMAIL}\n"
            f"PASSWORD={password}\n",
        )
        self.stdout.write(f"{action} demo account {DEMO_ACCOUNT_ID}; root password: {password} (saved in {path}).")
