"""Continuing education (继续教育): the year's policy, the credit ledger, online learning, certificates.

R-CE-1…8, R-CE-12, R-CE-13, R-CE-15. 学分 (study credits) are ``CreditEntry`` rows; the
credit-information file (会计人员信用信息档案) is ``IntegrityRecord`` — two different words, two names.
The rules are in ``cpe/ledger.py`` (entries, status, freeze) and ``cpe/learning.py`` (online courses).
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_credit_code
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

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT, related_name="credits")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="entries")
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


class Certificate(models.Model):
    """A credit certificate (学分证明) of a completed year, checkable by its code (R-CE-15)."""

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT,
                                related_name="certificates")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("验证码"), max_length=16, unique=True, default=new_verification_code)
    issued_at = models.DateTimeField(_("签发时间"), default=timezone.now)

    class Meta:
        verbose_name = _("学分证明")
        verbose_name_plural = _("学分证明")
        constraints = [models.UniqueConstraint(fields=["archive", "year"], name="certificate_one_per_year")]

    def __str__(self):
        return f"{self.year_id}年度学分证明 {self.code}"


# --- online learning (网络学习), R-CE-2, R-CE-6…8, R-CE-12, R-CE-14 --------------------------------
# The rules (who may enrol, when a year is open, scoring, the automatic registration) are in
# cpe/learning.py; these models only hold what was offered and what each person did.

class InstitutionKind(models.TextChoices):
    ONLINE = "online", _("网络培训")
    FACE_TO_FACE = "face_to_face", _("面授培训")
    BOTH = "both", _("网络及面授培训")


class TrainingInstitution(models.Model):
    """A continuing-education training institution (继续教育培训机构), R-CE-14.

    Only a filed and published (已备案、公布) institution may train: its courses appear in the
    catalogue only while ``filed`` is set. The filing workflow itself (plans, reports, evaluation,
    withdrawal) comes with the institutions issue; until then provincial staff set ``filed``.
    """

    name = models.CharField(_("机构名称"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True,
                                   validators=[validate_credit_code])
    kind = models.CharField(_("培训形式"), max_length=20, choices=InstitutionKind.choices,
                            default=InstitutionKind.ONLINE)
    region = models.ForeignKey("accounts.Region", verbose_name=_("备案地"), on_delete=models.PROTECT,
                               related_name="training_institutions")
    filed = models.BooleanField(_("已备案并公布"), default=True)
    contact = models.CharField(_("联系方式"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("继续教育培训机构")
        verbose_name_plural = _("继续教育培训机构")
        ordering = ["name"]

    def __str__(self):
        return self.name


def https_only(url: str) -> str:
    """An institution-provided address, only if it is https (never embed plain http or other schemes)."""
    return url if (url or "").lower().startswith("https://") else ""


class Course(models.Model):
    """An online course (网络课程) offered for one CE year, R-CE-2, R-CE-8.

    ``year`` is the year whose credits it earns (R-CE-4); it can be learned while that year is open
    for learning (R-CE-5, R-CE-6, see :func:`cpe.learning.learning_refusal`).
    """

    institution = models.ForeignKey(TrainingInstitution, verbose_name=_("培训机构"), on_delete=models.PROTECT,
                                    related_name="courses")
    title = models.CharField(_("课程名称"), max_length=200)
    subject_kind = models.CharField(_("科目类别"), max_length=20, choices=SubjectKind.choices)
    credits = models.DecimalField(_("学分"), max_digits=5, decimal_places=1)
    hours = models.DecimalField(_("学时"), max_digits=5, decimal_places=1)
    description = models.TextField(_("课程简介"), blank=True)
    year = models.ForeignKey(CEYear, verbose_name=_("适用年度"), on_delete=models.PROTECT, related_name="courses")
    video_url = models.URLField(_("课程视频地址"), blank=True,
                                help_text=_("培训机构提供的 https 地址；非 https 不显示。"))
    published = models.BooleanField(_("已发布"), default=False)
    pass_mark = models.PositiveSmallIntegerField(_("合格分数"), default=60)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("网络课程")
        verbose_name_plural = _("网络课程")
        ordering = ["-year", "subject_kind", "title", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="course_credits_positive"),
            models.CheckConstraint(condition=Q(pass_mark__lte=100), name="course_pass_mark_within_100"),
        ]
        indexes = [models.Index(fields=["year", "subject_kind"], condition=Q(published=True),
                                name="course_catalogue_idx")]

    def __str__(self):
        return f"{self.year_id}年度 {self.title}"

    @property
    def safe_video_url(self) -> str:
        return https_only(self.video_url)


class Lesson(models.Model):
    """One section of a course (课程章节)."""

    course = models.ForeignKey(Course, verbose_name=_("课程"), on_delete=models.CASCADE, related_name="lessons")
    order = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("章节名称"), max_length=200)
    body = models.TextField(_("正文"), blank=True)
    video_url = models.URLField(_("视频地址"), blank=True, help_text=_("培训机构提供的 https 地址；非 https 不显示。"))
    minutes = models.PositiveSmallIntegerField(_("时长（分钟）"), default=45)

    class Meta:
        verbose_name = _("课程章节")
        verbose_name_plural = _("课程章节")
        ordering = ["course", "order"]
        constraints = [models.UniqueConstraint(fields=["course", "order"], name="lesson_order_unique")]

    def __str__(self):
        return f"{self.order}. {self.title}"

    @property
    def safe_video_url(self) -> str:
        return https_only(self.video_url)


class Question(models.Model):
    """A single-choice question of a course's end-of-course test (课程测试题)."""

    course = models.ForeignKey(Course, verbose_name=_("课程"), on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(_("序号"))
    text = models.CharField(_("题目"), max_length=500)
    choices = models.JSONField(_("选项"), default=list, help_text=_("选项文字的列表，如 [\"甲\", \"乙\", \"丙\"]。"))
    answer = models.PositiveSmallIntegerField(_("正确选项序号"), help_text=_("从0开始：0 为第一个选项。"))

    class Meta:
        verbose_name = _("课程测试题")
        verbose_name_plural = _("课程测试题")
        ordering = ["course", "order"]
        constraints = [models.UniqueConstraint(fields=["course", "order"], name="question_order_unique")]

    def __str__(self):
        return self.text

    def clean(self):
        from django.core.exceptions import ValidationError

        choices = self.choices
        if not isinstance(choices, list) or len(choices) < 2 or not all(
                isinstance(c, str) and c.strip() for c in choices):
            raise ValidationError({"choices": _("至少两个选项，每个选项为非空文字。")})
        if self.answer is None or self.answer >= len(choices):
            raise ValidationError({"answer": _("正确选项序号超出选项范围。")})


class Enrolment(models.Model):
    """A person's enrolment in an online course (报名), R-CE-8, R-CE-12: progress, tests, the pass."""

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT, related_name="enrolments")
    course = models.ForeignKey(Course, verbose_name=_("课程"), on_delete=models.PROTECT, related_name="enrolments")
    enrolled_at = models.DateTimeField(_("报名时间"), default=timezone.now)
    passed_at = models.DateTimeField(_("测试合格时间"), null=True, blank=True)
    best_score = models.PositiveSmallIntegerField(_("最高成绩"), null=True, blank=True)

    class Meta:
        verbose_name = _("网络课程报名")
        verbose_name_plural = _("网络课程报名")
        constraints = [models.UniqueConstraint(fields=["archive", "course"], name="enrolment_unique")]
        indexes = [models.Index(fields=["archive", "-enrolled_at"], name="enrolment_person_idx"),
                   models.Index(fields=["course"], name="enrolment_passed_idx",
                                condition=Q(passed_at__isnull=False))]

    def __str__(self):
        return f"{self.archive_id} · {self.course_id}"


class LessonProgress(models.Model):
    """A lesson the person has completed (学完本节)."""

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("报名"), on_delete=models.CASCADE,
                                  related_name="progress")
    lesson = models.ForeignKey(Lesson, verbose_name=_("章节"), on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(_("完成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("章节学习记录")
        verbose_name_plural = _("章节学习记录")
        constraints = [models.UniqueConstraint(fields=["enrolment", "lesson"], name="lesson_progress_unique")]

    def __str__(self):
        return f"{self.enrolment_id} · {self.lesson_id}"


class TestAttempt(models.Model):
    """One submission of a course's end-of-course test (课程测试), scored 0–100."""

    __test__ = False  # not a pytest test class, whatever its name

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("报名"), on_delete=models.CASCADE,
                                  related_name="attempts")
    score = models.PositiveSmallIntegerField(_("成绩"))
    passed = models.BooleanField(_("是否合格"))
    answers = models.JSONField(_("作答"), default=list)
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("课程测试记录")
        verbose_name_plural = _("课程测试记录")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["enrolment", "-submitted_at"], name="test_attempt_enrolment_idx")]

    def __str__(self):
        return f"{self.score}分"
