"""Online learning (网络学习) and training institutions, R-CE-2, R-CE-6…8, R-CE-14."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_credit_code
from cpe.models.ledger import CEYear, SubjectKind
from records.models import Archive

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
    address = models.CharField(_("地址"), max_length=200, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("机构账号"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="training_institutions",
                              help_text=_("培训机构在本系统的账号（角色：培训机构），由其办理备案、报送方案和名单。"))
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
