"""Existing plain values sealed under the current key and their hashes filled (reverse: opened again).

Separate from the schema changes: each migration is its own transaction on PostgreSQL.
"""

from django.db import migrations

from kjzx.sealing import SealedTable, seal_existing_rows

SPECS = (
    SealedTable("transfers_transfer", {"person_id_number": "text", "person_record": "json"},
                {"person_id_number_hash": ("person_id_number", "id_number"),
                 "person_id_last4_hash": ("person_id_number", "id_last4")}),
)


class Migration(migrations.Migration):

    dependencies = [
        ("transfers", "0005_sealed_columns"),
    ]

    operations = [
        seal_existing_rows(*SPECS),
    ]
