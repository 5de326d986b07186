"""Every classroom IdP key belongs to an account, one per account and protocol (after 0003 removed the
deployment-wide keys). A migration of its own: PostgreSQL cannot alter a table with pending trigger events left by
0003's data changes in the same transaction."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0007_providers_uuid_slr_deletions"),
        ("sts", "0003_per_account_identity_providers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="identityproviderkey",
            name="account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="identities.account"
            ),
        ),
        migrations.AddConstraint(
            model_name="identityproviderkey",
            constraint=models.UniqueConstraint(fields=("account", "kind"), name="idp_key_one_per_account_and_kind"),
        ),
    ]
