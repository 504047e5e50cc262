"""Uniqueness and search on the keyed hashes, and a CHECK on PostgreSQL that refuses a plain value
in a sealed column."""

from importlib import import_module

from django.db import migrations, models

from kjzx.sealing import sealed_checks

SPECS = import_module("accounts.migrations.0006_seal_existing_rows").SPECS  # the columns sealed there


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0006_seal_existing_rows"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('id_number_hash', ''), _negated=True), fields=('id_type', 'id_number_hash'), name='user_unique_id_document'),
        ),
        sealed_checks(*SPECS),
    ]
