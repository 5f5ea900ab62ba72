from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [
        ("channels_app", "0002_channel_config"),
    ]

    operations = [
        # whatsmeow's session store (neonize opens it with search_path=wa): its own schema, not
        # public and not a seller's.
        migrations.RunSQL("CREATE SCHEMA IF NOT EXISTS wa", reverse_sql=migrations.RunSQL.noop),
    ]
