"""The users list's Groups column as a stored count (issue 16 §3): sorting 5,000 users by it counted every user's
memberships (a correlated count run once per user); now it is a column indexed with the account. Existing users
get their count here; add_user_to_group / remove_user_from_group keep it from then on."""

from django.db import migrations, models

COUNT_MEMBERSHIPS = """
UPDATE identities_iamuser AS u SET group_count = m.n
FROM (SELECT user_id, count(*) AS n FROM identities_groupmembership GROUP BY user_id) AS m
WHERE m.user_id = u.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0009_ssh_keys_service_credentials_signing_certificates_sts_preference"),
        ("policies", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="iamuser",
            name="group_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunSQL(COUNT_MEMBERSHIPS, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="iamuser",
            index=models.Index(fields=["account", "group_count", "id"], name="iamuser_account_groups"),
        ),
    ]
