"""ID and mobile numbers sealed (SM4-GCM) with their keyed hashes (kjzx.fields): the columns.

The values are sealed by 0006_seal_existing_rows;
the indexes and constraints on the hashes follow in 0007_sealed_indexes.
"""

import kjzx.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_sealed_columns'),
        ('records', '0004_queue_keyset_indexes'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='archive',
            name='archive_unique_id_document',
        ),
        migrations.RemoveConstraint(
            model_name='archive',
            name='archive_mobile_format',
        ),
        migrations.RemoveIndex(
            model_name='archive',
            name='archive_id_number_idx',
        ),
        migrations.AddField(
            model_name='archive',
            name='id_last4_hash',
            field=kjzx.fields.KeyedHashField(purpose='id_last4', source='id_number'),
        ),
        migrations.AddField(
            model_name='archive',
            name='id_number_hash',
            field=kjzx.fields.KeyedHashField(purpose='id_number', source='id_number'),
        ),
        migrations.AddField(
            model_name='archive',
            name='mobile_hash',
            field=kjzx.fields.KeyedHashField(purpose='mobile', source='mobile'),
        ),
        migrations.AlterField(
            model_name='archive',
            name='id_number',
            field=kjzx.fields.EncryptedTextField(hash_field='id_number_hash', verbose_name='证件号码'),
        ),
        migrations.AlterField(
            model_name='archive',
            name='mobile',
            field=kjzx.fields.EncryptedTextField(blank=True, hash_field='mobile_hash', verbose_name='手机号码'),
        ),
        migrations.AlterField(
            model_name='changerequest',
            name='new_values',
            field=kjzx.fields.EncryptedJSONField(default=dict, verbose_name='变更后'),
        ),
        migrations.AlterField(
            model_name='changerequest',
            name='old_values',
            field=kjzx.fields.EncryptedJSONField(default=dict, verbose_name='变更前'),
        ),
    ]
