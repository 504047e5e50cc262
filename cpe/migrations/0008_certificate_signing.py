"""Certificates become official, signed documents (R-CE-15): a document number per issue year,
what the certificate states kept at issue, the signed PDF, the seal it bears, and revocation.

Certificates issued before this migration get their numbers here (by issue year, in issue order); one
whose year a correction has already taken below the requirement is revoked here, with that reason.
Their statement and signed PDF are made the first time they are downloaded.
"""

from decimal import Decimal

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import Sum

import cpe.models.ledger

PREFIX = "晋财会继教证"  # cpe.models.ledger.NUMBER_PREFIX as of this migration
LEGACY_REVOKED = "学分更正后该年度学分未达到要求（系统升级时核对）。"


def number_and_check_legacy(apps, schema_editor):
    Certificate = apps.get_model("cpe", "Certificate")
    CreditEntry = apps.get_model("cpe", "CreditEntry")
    serials: dict[int, int] = {}
    now = django.utils.timezone.now()
    for certificate in Certificate.objects.select_related("year").order_by("issued_at", "id"):
        year = django.utils.timezone.localtime(certificate.issued_at).year
        serials[year] = serials.get(year, 0) + 1
        certificate.number_year, certificate.number_serial = year, serials[year]
        certificate.number = f"{PREFIX}〔{year}〕{serials[year]:06d}"
        sums = CreditEntry.objects.filter(archive_id=certificate.archive_id, year_id=certificate.year_id)
        total = sums.aggregate(total=Sum("credits"))["total"] or Decimal(0)
        professional = sums.filter(subject_kind="professional").aggregate(total=Sum("credits"))["total"] or Decimal(0)
        policy = certificate.year
        if total < policy.required_total or professional < policy.required_professional:
            certificate.revoked_at, certificate.revoked_reason = now, LEGACY_REVOKED
        certificate.save(update_fields=["number", "number_year", "number_serial", "revoked_at", "revoked_reason"])


class Migration(migrations.Migration):

    dependencies = [
        ('cpe', '0007_learning_progress'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CertificateSeal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('issuer', models.CharField(help_text='印章所属单位，印在学分证明落款处。', max_length=100, verbose_name='出具单位')),
                ('image', models.FileField(help_text='透明背景的PNG图片（红色圆形印章），边长不少于300像素。', max_length=200, upload_to=cpe.models.ledger.seal_image_path, verbose_name='印章图片')),
                ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='上传时间')),
                ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='上传人')),
            ],
            options={
                'verbose_name': '学分证明用章',
                'verbose_name_plural': '学分证明用章',
                'ordering': ['-uploaded_at', '-id'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='certificate',
            name='certificate_one_per_year',
        ),
        migrations.AddField(
            model_name='certificate',
            name='document',
            field=models.FileField(blank=True, editable=False, max_length=200, upload_to=cpe.models.ledger.certificate_document_path, verbose_name='签名PDF'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='number',
            field=models.CharField(editable=False, max_length=40, null=True, unique=True, verbose_name='证明编号'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='number_serial',
            field=models.PositiveIntegerField(editable=False, null=True, verbose_name='编号序号'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='number_year',
            field=models.PositiveSmallIntegerField(editable=False, null=True, verbose_name='编号年份'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='revoked_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='作废时间'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='revoked_reason',
            field=models.CharField(blank=True, editable=False, max_length=200, verbose_name='作废原因'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='signed_by',
            field=models.CharField(blank=True, editable=False, max_length=300, verbose_name='签名证书'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='stated',
            field=models.JSONField(blank=True, default=dict, editable=False, help_text='签发时的姓名、脱敏证件号码与学分，证明与查验页均以此为准。', verbose_name='证明所载内容'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='seal',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cpe.certificateseal', verbose_name='所用印章'),
        ),
        migrations.RunPython(number_and_check_legacy, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='certificate',
            name='number',
            field=models.CharField(editable=False, max_length=40, unique=True, verbose_name='证明编号'),
        ),
        migrations.AlterField(
            model_name='certificate',
            name='number_serial',
            field=models.PositiveIntegerField(editable=False, verbose_name='编号序号'),
        ),
        migrations.AlterField(
            model_name='certificate',
            name='number_year',
            field=models.PositiveSmallIntegerField(editable=False, verbose_name='编号年份'),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=models.UniqueConstraint(condition=models.Q(('revoked_at__isnull', True)), fields=('archive', 'year'), name='certificate_one_valid_per_year'),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=models.UniqueConstraint(fields=('number_year', 'number_serial'), name='certificate_number_serial'),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=models.CheckConstraint(condition=models.Q(('revoked_at__isnull', True), models.Q(('revoked_reason', ''), _negated=True), _connector='OR'), name='certificate_revoked_with_reason'),
        ),
    ]
