"""ID and mobile numbers sealed (SM4-GCM) with their keyed hashes (kjzx.fields): the columns.

The values are sealed by 0006_seal_existing_rows;
the indexes and constraints on the hashes follow in 0007_sealed_indexes.
"""

import kjzx.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_staff_second_factor_and_admin_roles'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='user',
            name='user_unique_id_document',
        ),
        migrations.RemoveConstraint(
            model_name='user',
            name='user_mobile_format',
        ),
        migrations.RemoveConstraint(
            model_name='user',
            name='user_id_number_format',
        ),
        migrations.AddField(
            model_name='user',
            name='id_number_hash',
            field=kjzx.fields.KeyedHashField(purpose='id_number', source='id_number'),
        ),
        migrations.AddField(
            model_name='user',
            name='mobile_hash',
            field=kjzx.fields.KeyedHashField(db_index=True, purpose='mobile', source='mobile'),
        ),
        migrations.AlterField(
            model_name='user',
            name='id_number',
            field=kjzx.fields.EncryptedTextField(blank=True, hash_field='id_number_hash', verbose_name='证件号码'),
        ),
        migrations.AlterField(
            model_name='user',
            name='mobile',
            field=kjzx.fields.EncryptedTextField(blank=True, hash_field='mobile_hash', verbose_name='手机号码'),
        ),
    ]
