"""Uniqueness and search on the keyed hashes, and a CHECK on PostgreSQL that refuses a plain value
in a sealed column."""

from importlib import import_module

from django.db import migrations, models

from kjzx.sealing import sealed_checks

SPECS = import_module("transfers.migrations.0006_seal_existing_rows").SPECS  # the columns sealed there


class Migration(migrations.Migration):

    dependencies = [
        ("transfers", "0006_seal_existing_rows"),
    ]

    operations = [
        migrations.AddIndex(
            model_name='transfer',
            index=models.Index(fields=['person_id_number_hash'], name='transfer_person_idx'),
        ),
        migrations.AddIndex(
            model_name='transfer',
            index=models.Index(fields=['person_id_last4_hash', 'jurisdiction'], name='transfer_person_last4_idx'),
        ),
        sealed_checks(*SPECS),
    ]
