"""Existing plain values sealed under the current key and their hashes filled (reverse: opened again).

Separate from the schema changes: each migration is its own transaction on PostgreSQL.
"""

from django.db import migrations

from kjzx.sealing import SealedTable, seal_existing_rows

SPECS = (
    SealedTable("cpe_attendancerow", {"id_number": "text"}, {"id_number_hash": ("id_number", "id_number")}),
    SealedTable("cpe_examrow", {"id_number": "text"}, {"id_number_hash": ("id_number", "id_number")}),
)


class Migration(migrations.Migration):

    dependencies = [
        ("cpe", "0013_sealed_columns"),
    ]

    operations = [
        seal_existing_rows(*SPECS),
    ]
