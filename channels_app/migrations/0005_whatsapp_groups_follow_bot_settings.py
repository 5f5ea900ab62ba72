"""Answering in WhatsApp groups is decided by the bot settings' "answer in group chats"
(sales.BotSettings.group_chats_enabled, in each seller's schema) alone: a seller who had ticked
the WhatsApp page's own box keeps groups answered, then that column goes."""

from django.db import migrations


def carry_groups_to_bot_settings(apps, schema_editor):
    WhatsAppSession = apps.get_model("channels_app", "WhatsAppSession")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    schemas = set(
        WhatsAppSession.objects.filter(groups_enabled=True).values_list("account__seller__schema_name", flat=True)
    )
    with connection.cursor() as cursor:
        for schema in sorted(schemas):
            cursor.execute("SELECT to_regclass(%s)", [f"{quote(schema)}.sales_botsettings"])
            if cursor.fetchone()[0] is None:
                continue
            cursor.execute(
                f"UPDATE {quote(schema)}.sales_botsettings SET group_chats_enabled = TRUE WHERE id = 1"  # noqa: S608
            )


class Migration(migrations.Migration):
    dependencies = [
        ("channels_app", "0004_whatsapp_sessions"),
        ("sellers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_groups_to_bot_settings, migrations.RunPython.noop),
        migrations.RemoveField(model_name="whatsappsession", name="groups_enabled"),
    ]
