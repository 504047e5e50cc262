# The audit history proves itself: the client's User-Agent, a keyed hash chain over every
# row (kjzx.audit_chain), computed here for the rows that exist, and a trigger that refuses UPDATE and
# DELETE on the table (as cpe_creditentry has, cpe 0002), and kjzx_audit_next(n), the chain's lock and head.

from django.db import migrations, models


def chain_existing_rows(apps, schema_editor):
    from kjzx.audit_chain import rechain

    AuditEvent = apps.get_model("kjzx", "AuditEvent")
    rechain(AuditEvent, 1, using=schema_editor.connection.alias)


def append_only(apps, schema_editor):
    from kjzx.audit_chain import NEXT_SQL, TRIGGER_SQL

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)
        schema_editor.execute(NEXT_SQL)


def drop_append_only(apps, schema_editor):
    from kjzx.audit_chain import DROP_NEXT_SQL, DROP_TRIGGER_SQL

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER_SQL)
        schema_editor.execute(DROP_NEXT_SQL)


class Migration(migrations.Migration):

    dependencies = [
        ('kjzx', '0007_notification_deliveries'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='user_agent',
            field=models.CharField(blank=True, max_length=200, verbose_name='客户端'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='key_id',
            field=models.CharField(blank=True, editable=False, max_length=16, verbose_name='密钥编号'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='前一条哈希'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='row_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='本条哈希'),
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
