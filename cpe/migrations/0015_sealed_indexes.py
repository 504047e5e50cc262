"""Uniqueness and search on the keyed hashes, and a CHECK on PostgreSQL that refuses a plain value
in a sealed column."""

from importlib import import_module

from django.db import migrations, models

from kjzx.sealing import sealed_checks

SPECS = import_module("cpe.migrations.0014_seal_existing_rows").SPECS  # the columns sealed there


class Migration(migrations.Migration):

    dependencies = [
        ("cpe", "0014_seal_existing_rows"),
    ]

    operations = [
        migrations.AddIndex(
            model_name='examrow',
            index=models.Index(condition=models.Q(('state', 'pending')), fields=['id_number_hash'], name='exam_row_pending_idx'),
        ),
        sealed_checks(*SPECS),
    ]
