"""ID and mobile numbers sealed (SM4-GCM) with their keyed hashes (kjzx.fields): the columns.

The values are sealed by 0014_seal_existing_rows;
the indexes and constraints on the hashes follow in 0015_sealed_indexes.
"""

import kjzx.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cpe', '0012_queue_keyset_indexes'),
        ('records', '0005_sealed_columns'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='examrow',
            name='exam_row_pending_idx',
        ),
        migrations.AddField(
            model_name='attendancerow',
            name='id_number_hash',
            field=kjzx.fields.KeyedHashField(purpose='id_number', source='id_number'),
        ),
        migrations.AddField(
            model_name='examrow',
            name='id_number_hash',
            field=kjzx.fields.KeyedHashField(purpose='id_number', source='id_number'),
        ),
        migrations.AlterField(
            model_name='attendancerow',
            name='id_number',
            field=kjzx.fields.EncryptedTextField(blank=True, hash_field='id_number_hash', verbose_name='证件号码'),
        ),
        migrations.AlterField(
            model_name='examrow',
            name='id_number',
            field=kjzx.fields.EncryptedTextField(blank=True, hash_field='id_number_hash', verbose_name='证件号码'),
        ),
    ]
