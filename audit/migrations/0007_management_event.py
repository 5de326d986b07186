"""AuditEvent.management_event: the record's ``managementEvent`` as a column (Event history's default filter), filled
from the records already stored."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_access_reports")]

    operations = [
        migrations.AddField(
            model_name="auditevent", name="management_event", field=models.BooleanField(db_default=True)
        ),
        migrations.RunSQL(
            "UPDATE audit_auditevent SET management_event = false WHERE record ->> 'managementEvent' = 'false'",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
