"""Existing plain values sealed under the current key and their hashes filled (reverse: opened again).

Separate from the schema changes: each migration is its own transaction on PostgreSQL.
"""

from django.db import migrations

from kjzx.sealing import SealedTable, seal_existing_rows

SPECS = (
    SealedTable("accounts_user", {"id_number": "text", "mobile": "text"},
                {"id_number_hash": ("id_number", "id_number"), "mobile_hash": ("mobile", "mobile")}),
)


def accountant_usernames(apps, connection, forward):
    """An accountant's user name becomes the blind index of the ID number (back to the number in reverse)."""
    with connection.cursor() as cursor:
        if forward:
            cursor.execute("UPDATE accounts_user SET username = id_number_hash "
                           "WHERE role = 'accountant' AND id_number_hash <> ''")
        else:
            cursor.execute("UPDATE accounts_user SET username = id_number "
                           "WHERE role = 'accountant' AND id_number <> '' AND username = id_number_hash")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_sealed_columns"),
    ]

    operations = [
        seal_existing_rows(*SPECS, after=accountant_usernames),
    ]
