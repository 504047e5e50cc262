"""Uniqueness and search on the keyed hashes, and a CHECK on PostgreSQL that refuses a plain value
in a sealed column."""

from importlib import import_module

from django.db import migrations, models

from kjzx.sealing import sealed_checks

SPECS = import_module("records.migrations.0006_seal_existing_rows").SPECS  # the columns sealed there


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0006_seal_existing_rows"),
    ]

    operations = [
        migrations.AddIndex(
            model_name='archive',
            index=models.Index(fields=['id_number_hash'], name='archive_id_number_idx'),
        ),
        migrations.AddIndex(
            model_name='archive',
            index=models.Index(fields=['id_last4_hash', 'jurisdiction'], name='archive_id_last4_idx'),
        ),
        migrations.AddConstraint(
            model_name='archive',
            constraint=models.UniqueConstraint(fields=('id_type', 'id_number_hash'), name='archive_unique_id_document'),
        ),
        sealed_checks(*SPECS),
    ]
