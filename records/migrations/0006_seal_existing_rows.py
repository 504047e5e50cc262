"""Existing plain values sealed under the current key and their hashes filled (reverse: opened again).

Separate from the schema changes: each migration is its own transaction on PostgreSQL.
"""

from django.db import migrations

from kjzx.sealing import SealedTable, seal_existing_rows

SPECS = (
    SealedTable("records_archive", {"id_number": "text", "mobile": "text"},
                {"id_number_hash": ("id_number", "id_number"), "id_last4_hash": ("id_number", "id_last4"),
                 "mobile_hash": ("mobile", "mobile")}),
    SealedTable("records_changerequest", {"new_values": "json", "old_values": "json"}),
)


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0005_sealed_columns"),
    ]

    operations = [
        seal_existing_rows(*SPECS),
    ]
