"""Authenticator secrets sealed at rest: django-otp's TOTP devices move, unchanged in every other
respect, into ``accounts.AuthenticatorDevice`` whose key is an ``EncryptedTextField`` (SM4-GCM);
the clear rows in ``otp_totp_totpdevice`` are deleted. A person's app keeps working (same secret,
same step, same last verified step); a session that passed the second factor on the old device asks
for a code once more. Reverse: the devices go back in clear.
"""

import django.db.models.deletion
import django_otp.plugins.otp_totp.models
import kjzx.fields
from django.conf import settings
from django.db import migrations, models

from kjzx.sealing import SealedTable, sealed_checks


FIELDS = ("user_id", "name", "confirmed", "throttling_failure_timestamp", "throttling_failure_count", "created_at",
          "last_used_at", "key", "step", "t0", "digits", "tolerance", "drift", "last_t")


def _move(source, target):
    for device in source.objects.order_by("pk").iterator():
        moved = target.objects.create(**{name: getattr(device, name) for name in FIELDS})
        target.objects.filter(pk=moved.pk).update(created_at=device.created_at)  # not the day of the move
    source.objects.all().delete()


def seal_devices(apps, schema_editor):
    _move(apps.get_model("otp_totp", "TOTPDevice"), apps.get_model("accounts", "AuthenticatorDevice"))


def open_devices(apps, schema_editor):
    _move(apps.get_model("accounts", "AuthenticatorDevice"), apps.get_model("otp_totp", "TOTPDevice"))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_sealed_indexes'),
        ('otp_totp', '0003_add_timestamps'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuthenticatorDevice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='The human-readable name of this device.', max_length=64)),
                ('confirmed', models.BooleanField(default=True, help_text='Is this device ready for use?')),
                ('throttling_failure_timestamp', models.DateTimeField(blank=True, default=None, help_text='A timestamp of the last failed verification attempt. Null if last attempt succeeded.', null=True)),
                ('throttling_failure_count', models.PositiveIntegerField(default=0, help_text='Number of successive failed attempts.')),
                ('created_at', models.DateTimeField(auto_now_add=True, help_text='The date and time when this device was initially created in the system.', null=True)),
                ('last_used_at', models.DateTimeField(blank=True, help_text='The most recent date and time this device was used.', null=True)),
                ('key', kjzx.fields.EncryptedTextField(default=django_otp.plugins.otp_totp.models.default_key, help_text='认证器应用的共享密钥，加密存储。', verbose_name='密钥')),
                ('step', models.PositiveSmallIntegerField(default=30, verbose_name='步长（秒）')),
                ('t0', models.BigIntegerField(default=0, verbose_name='起始时间')),
                ('digits', models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6, verbose_name='位数')),
                ('tolerance', models.PositiveSmallIntegerField(default=1, verbose_name='容许偏差（步）')),
                ('drift', models.SmallIntegerField(default=0, verbose_name='时钟漂移（步）')),
                ('last_t', models.BigIntegerField(default=-1, verbose_name='最近一次通过的步')),
                ('user', models.ForeignKey(help_text='The user that this device belongs to.', on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': '动态口令设备',
                'verbose_name_plural': '动态口令设备',
                'abstract': False,
            },
        ),
        sealed_checks(SealedTable("accounts_authenticatordevice", {"key": "text"})),
        migrations.RunPython(seal_devices, open_devices),
    ]
