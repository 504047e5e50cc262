"""The year's policy, the credit ledger, the credit-information file and certificates (R-CE-1…5, 12, 13, 15)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models import Archive, Attachment


class SubjectKind(models.TextChoices):
    GENERAL = "general", _("公需科目")
    PROFESSIONAL = "professional", _("专业科目")


class CreditForm(models.TextChoices):
    """How a credit was earned (R-CE-7, the credit table)."""

    ONLINE = "online", _("网络培训")
    FACE_TO_FACE = "face_to_face", _("面授培训")
    EXAM = "exam", _("考试")
    CONFERENCE = "conference", _("会计类专业会议")
    DEGREE = "degree", _("学历（学位）教育")
    RESEARCH = "research", _("课题研究")
    PAPER = "paper", _("发表论文")
    BOOK = "book", _("出版著作")
    OTHER = "other", _("其他")


class CEYear(models.Model):
    """One continuing-education year's policy (年度继续教育政策), set by provincial staff as data.

    R-CE-3 (90 / 60), R-CE-5 (deadline, 31 March of N+1 by default), R-CE-6 (make-up window),
    R-CE-13 (the date registration closes and the year is frozen). Nothing of this is a constant
    in code: a migration seeds 2018 (the national rules, 财会〔2018〕10号, took effect 2018-07-01)
    through the current year with the seeds' dates, and staff edit them in the admin.
    """

    year = models.PositiveSmallIntegerField(_("年度"), primary_key=True)
    required_total = models.DecimalField(_("应修总学分"), max_digits=5, decimal_places=1, default=Decimal("90"))
    required_professional = models.DecimalField(_("专业科目应修学分"), max_digits=5, decimal_places=1,
                                                default=Decimal("60"))
    deadline = models.DateField(_("完成期限"),
                                help_text=_("当年度继续教育应在此日期前完成（如2024年度为2025-03-31）。"))
    makeup_until = models.DateField(_("补学截止日期"), null=True, blank=True,
                                    help_text=_("空表示不组织补学；过完成期限后、此日期前可通过补学入口学习。"))
    registration_closes_on = models.DateField(
        _("学分登记截止日期"), help_text=_("此日后本年度学分不再登记，结果纳入会计人员信用信息档案。"))
    frozen_at = models.DateTimeField(_("已归档时间"), null=True, blank=True, editable=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("继续教育年度")
        verbose_name_plural = _("继续教育年度")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(required_professional__lte=models.F("required_total")),
                                   name="ceyear_professional_within_total"),
            models.CheckConstraint(condition=Q(year__gte=2018), name="ceyear_from_2018"),
        ]

    def __str__(self):
        return f"{self.year}年度"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class CreditStandard(models.Model):
    """A credit standard for other forms (学分计量标准), as data with the year it takes effect (SPEC table).

    财会〔2018〕10号 art. 13 and 晋财会〔2021〕23号; provincial staff add a row with a later
    ``effective_from`` to change a value, so earlier years keep theirs.
    """

    form = models.CharField(_("形式"), max_length=20, choices=CreditForm.choices)
    variant = models.CharField(_("情形"), max_length=30,
                               help_text=_("如 per_subject、per_day、sole、host、participant"))
    label = models.CharField(_("说明"), max_length=100)
    credits = models.DecimalField(_("学分"), max_digits=5, decimal_places=1)
    per = models.CharField(_("计量单位"), max_length=20, blank=True, help_text=_("如 科、天、学时；空表示每项"))
    daily_cap = models.DecimalField(_("每日上限"), max_digits=5, decimal_places=1, null=True, blank=True)
    subject_kind = models.CharField(_("科目类别"), max_length=20, choices=SubjectKind.choices,
                                    default=SubjectKind.PROFESSIONAL)
    effective_from = models.PositiveSmallIntegerField(_("起始年度"), default=2018)

    class Meta:
        verbose_name = _("学分计量标准")
        verbose_name_plural = _("学分计量标准")
        ordering = ["form", "variant", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["form", "variant", "effective_from"],
                                               name="credit_standard_unique")]

    def __str__(self):
        return f"{self.label}：{self.credits}学分{('/' + self.per) if self.per else ''}"


class SourceType(models.TextChoices):
    """Where a ledger entry came from: each source registers once per person and year."""

    COURSE = "course", _("网络课程")
    INSTITUTION_LIST = "institution_list", _("培训机构学员名单")
    EXAM_FILE = "exam_file", _("考试合格名单")
    CLAIM = "claim", _("学分登记申请")
    REVERSAL = "reversal", _("更正（冲销）")
    PROVINCE = "province", _("省财政厅登记")


class CreditEntry(models.Model):
    """One registered credit (学分登记), append-only: never edited or deleted (STYLE §3).

    A correction is a reversing entry (negative credits, ``reverses`` set, a reason). The same
    source for the same person and year registers once (``credit_entry_unique_source``); on
    PostgreSQL a trigger also refuses UPDATE and DELETE of any row.
    """

    # no index of their own: (archive, year) and (year, archive) below lead with each (every index costs
    # every registered row a write; bench/README.md, lists)
    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT, related_name="credits",
                                db_index=False)
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="entries",
                             db_index=False)
    subject_kind = models.CharField(_("科目类别"), max_length=20, choices=SubjectKind.choices)
    form = models.CharField(_("形式"), max_length=20, choices=CreditForm.choices)
    credits = models.DecimalField(_("学分"), max_digits=6, decimal_places=1)
    source_type = models.CharField(_("来源"), max_length=20, choices=SourceType.choices)
    source_id = models.CharField(_("来源编号"), max_length=64)
    source_label = models.CharField(_("来源说明"), max_length=200)
    evidence = models.ForeignKey(Attachment, verbose_name=_("证明材料"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    reverses = models.OneToOneField("self", verbose_name=_("冲销的记录"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="reversed_by")
    reason = models.CharField(_("更正原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("学分登记")
        verbose_name_plural = _("学分登记")
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["archive", "year", "source_type", "source_id"],
                                    name="credit_entry_unique_source"),
            models.CheckConstraint(condition=Q(reverses__isnull=True, credits__gt=0)
                                   | Q(reverses__isnull=False, credits__lt=0), name="credit_entry_sign"),
        ]
        indexes = [models.Index(fields=["archive", "year"], name="credit_entry_person_year_idx"),
                   models.Index(fields=["year", "archive"], name="credit_entry_year_idx")]

    def __str__(self):
        return f"{self.year_id}年度 {self.get_form_display()} {self.credits}学分"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("学分登记不可修改：更正请登记冲销记录。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("学分登记不可删除：更正请登记冲销记录。")


class IntegrityRecord(models.Model):
    """A person's CE result for a closed year in their credit-information file (信用信息档案), R-CE-13."""

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT,
                                related_name="integrity_records")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    completed = models.BooleanField(_("是否完成"))
    total = models.DecimalField(_("总学分"), max_digits=6, decimal_places=1)
    professional = models.DecimalField(_("专业科目学分"), max_digits=6, decimal_places=1)
    general = models.DecimalField(_("公需科目学分"), max_digits=6, decimal_places=1)
    by_form = models.JSONField(_("分形式学分"), default=dict)
    frozen_at = models.DateTimeField(_("归档时间"), default=timezone.now)

    class Meta:
        verbose_name = _("继续教育信用记录")
        verbose_name_plural = _("继续教育信用记录")
        constraints = [models.UniqueConstraint(fields=["archive", "year"], name="integrity_record_unique")]

    def __str__(self):
        return f"{self.year_id}年度：{'已完成' if self.completed else '未完成'}"


def new_verification_code() -> str:
    """16 characters of an unambiguous alphabet: unguessable, easy to read out or type."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


NUMBER_PREFIX = "晋财会继教证"  # 文号 of the 学分证明: 晋财会继教证〔2026〕000123


def certificate_number(year: int, serial: int) -> str:
    """The certificate's document number (证明编号): the prefix, the issue year in 〔〕, six digits."""
    return f"{NUMBER_PREFIX}〔{year}〕{serial:06d}"


def certificate_document_path(certificate: Certificate, filename: str) -> str:
    return f"certificates/{certificate.number_year}/{certificate.code}.pdf"


def seal_image_path(seal: CertificateSeal, filename: str) -> str:
    return f"seals/{timezone.localdate():%Y%m%d}-{secrets.token_hex(4)}.png"


class CertificateSeal(models.Model):
    """The issuing bureau's seal on certificates (学分证明用章): a red round PNG with transparency, R-CE-15.

    Uploaded in the admin; the newest is the one in use, earlier ones stay (the certificates that bear
    them point at them). Checked and normalised by :func:`cpe.ledger.certificates.seal.seal_upload`.
    """

    issuer = models.CharField(_("出具单位"), max_length=100, help_text=_("印章所属单位，印在学分证明落款处。"))
    image = models.FileField(_("印章图片"), upload_to=seal_image_path, max_length=200,
                             help_text=_("透明背景的PNG图片（红色圆形印章），边长不少于300像素。"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("学分证明用章")
        verbose_name_plural = _("学分证明用章")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.issuer}（{timezone.localtime(self.uploaded_at):%Y-%m-%d %H:%M}）"


class Certificate(models.Model):
    """A credit certificate (学分证明) of a completed year: an official, signed document, R-CE-15.

    Numbered per issue year (:func:`certificate_number`, allocated on the first save), it keeps what it
    states (``stated``, taken at issue) and its signed PDF (``document``, made once and kept: the same
    certificate is always the same bytes). A correction that takes the year below the requirement voids
    it (``revoked_at``, ``revoked_reason``); then a new one may be issued for the year.
    """

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT,
                                related_name="certificates")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("验证码"), max_length=16, unique=True, default=new_verification_code)
    issued_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    number = models.CharField(_("证明编号"), max_length=40, unique=True, editable=False)
    number_year = models.PositiveSmallIntegerField(_("编号年份"), editable=False)
    number_serial = models.PositiveIntegerField(_("编号序号"), editable=False)
    stated = models.JSONField(_("证明所载内容"), default=dict, blank=True, editable=False,
                              help_text=_("签发时的姓名、脱敏证件号码与学分，证明与查验页均以此为准。"))
    document = models.FileField(_("签名PDF"), upload_to=certificate_document_path, max_length=200, blank=True,
                                editable=False)
    seal = models.ForeignKey(CertificateSeal, verbose_name=_("所用印章"), null=True, blank=True, editable=False,
                             on_delete=models.PROTECT, related_name="+")
    signed_by = models.CharField(_("签名证书"), max_length=300, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True, editable=False)
    revoked_reason = models.CharField(_("作废原因"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("学分证明")
        verbose_name_plural = _("学分证明")
        constraints = [
            models.UniqueConstraint(fields=["archive", "year"], condition=Q(revoked_at__isnull=True),
                                    name="certificate_one_valid_per_year"),
            models.UniqueConstraint(fields=["number_year", "number_serial"], name="certificate_number_serial"),
            models.CheckConstraint(condition=Q(revoked_at__isnull=True) | ~Q(revoked_reason=""),
                                   name="certificate_revoked_with_reason"),
        ]

    def __str__(self):
        return f"{self.year_id}年度学分证明 {self.number or self.code}"

    def save(self, *args, **kwargs):
        if self._state.adding and not self.number:
            return self._save_numbered(*args, **kwargs)
        return super().save(*args, **kwargs)

    def _save_numbered(self, *args, **kwargs):
        """Insert with the next number of the issue year: the largest + 1; should another certificate
        take it first (the unique constraint), take the next one (a few tries)."""
        self.number_year = timezone.localtime(self.issued_at).year
        for attempt in range(10):
            last = (Certificate.objects.filter(number_year=self.number_year)
                    .aggregate(last=models.Max("number_serial"))["last"] or 0)
            self.number_serial = last + 1
            self.number = certificate_number(self.number_year, self.number_serial)
            try:
                with transaction.atomic():
                    return super().save(*args, **kwargs)
            except IntegrityError:
                taken = Certificate.objects.filter(number_year=self.number_year, number_serial=self.number_serial)
                if attempt == 9 or not taken.exists():
                    self.number = ""
                    raise

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
