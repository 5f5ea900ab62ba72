from django.db import migrations

import sales.models
from django.contrib.postgres.fields import ArrayField
from django.db import models

ALL = ["darija", "ar", "fr", "en"]


def fill_empty(apps, schema_editor):
    # An empty list meant "every language" to the engine but made the settings form refuse to save.
    apps.get_model("sales", "BotSettings").objects.filter(languages=[]).update(languages=ALL)


class Migration(migrations.Migration):
    dependencies = [("sales", "0005_sandbox")]

    operations = [
        migrations.AlterField(
            model_name="botsettings",
            name="languages",
            field=ArrayField(
                base_field=models.CharField(
                    choices=[("darija", "Darija"), ("ar", "Arabic"), ("fr", "French"), ("en", "English")], max_length=8
                ),
                blank=True,
                default=sales.models.default_languages,
                size=None,
                verbose_name="languages",
            ),
        ),
        migrations.RunPython(fill_empty, migrations.RunPython.noop),
    ]
