"""ID and mobile numbers sealed (SM4-GCM) with their keyed hashes (kjzx.fields): the columns.

The values are sealed by 0006_seal_existing_rows;
the indexes and constraints on the hashes follow in 0007_sealed_indexes.
"""

import kjzx.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_sealed_columns'),
        ('records', '0005_sealed_columns'),
        ('transfers', '0004_queue_keyset_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='transfer',
            name='transfer_person_idx',
        ),
        migrations.AddField(
            model_name='transfer',
            name='person_id_last4_hash',
            field=kjzx.fields.KeyedHashField(purpose='id_last4', source='person_id_number'),
        ),
        migrations.AddField(
            model_name='transfer',
            name='person_id_number_hash',
            field=kjzx.fields.KeyedHashField(purpose='id_number', source='person_id_number'),
        ),
        migrations.AlterField(
            model_name='transfer',
            name='person_id_number',
            field=kjzx.fields.EncryptedTextField(blank=True, hash_field='person_id_number_hash', verbose_name='证件号码'),
        ),
        migrations.AlterField(
            model_name='transfer',
            name='person_record',
            field=kjzx.fields.EncryptedJSONField(blank=True, default=dict, verbose_name='人员信息'),
        ),
    ]
