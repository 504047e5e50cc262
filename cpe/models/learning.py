"""Online learning (网络学习) and training institutions, R-CE-2, R-CE-6…8, R-CE-14."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_credit_code
from cpe.models.ledger import CEYear, SubjectKind
from records.models import Archive

# --- online learning (网络学习), R-CE-2, R-CE-6…8, R-CE-12, R-CE-14 --------------------------------
# The rules (who may enrol, when a year is open, scoring, the automatic registration) are in
# cpe/learning/; these models only hold what was offered and what each person did.

class InstitutionKind(models.TextChoices):
    ONLINE = "online", _("网络培训")
    FACE_TO_FACE = "face_to_face", _("面授培训")
    BOTH = "both", _("网络及面授培训")


class TrainingInstitution(models.Model):
    """A continuing-education training institution (继续教育培训机构), R-CE-14.

    Only a filed and published (已备案、公布) institution may train: its courses appear in the
    catalogue only while ``filed`` is set, which the filing workflow (``InstitutionFiling``: 准予备案,
    撤销备案) sets and clears; provincial staff may also set it in the admin.
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


class Course(models.Model):
    """An online course (网络课程) offered for one CE year, R-CE-2, R-CE-8.

    ``year`` is the year whose credits it earns (R-CE-4); it can be learned while that year is open
    for learning (R-CE-5, R-CE-6, see :func:`cpe.learning.selectors.learning_refusal`).
    """

    institution = models.ForeignKey(TrainingInstitution, verbose_name=_("培训机构"), on_delete=models.PROTECT,
                                    related_name="courses")
    title = models.CharField(_("课程名称"), max_length=200)
    subject_kind = models.CharField(_("科目类别"), max_length=20, choices=SubjectKind.choices)
    credits = models.DecimalField(_("学分"), max_digits=5, decimal_places=1)
    hours = models.DecimalField(_("学时"), max_digits=5, decimal_places=1)
    description = models.TextField(_("课程简介"), blank=True)
    year = models.ForeignKey(CEYear, verbose_name=_("适用年度"), on_delete=models.PROTECT, related_name="courses")
    published = models.BooleanField(_("已发布"), default=False)
    pass_mark = models.PositiveSmallIntegerField(_("合格分数"), default=60)
    test_size = models.PositiveSmallIntegerField(
        _("每次测试抽题数"), default=10,
        help_text=_("每次测试从题库中随机抽取的题数；题库不足时全部抽取。"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("网络课程")
        verbose_name_plural = _("网络课程")
        ordering = ["-year", "subject_kind", "title", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="course_credits_positive"),
            models.CheckConstraint(condition=Q(pass_mark__lte=100), name="course_pass_mark_within_100"),
            models.CheckConstraint(condition=Q(test_size__gt=0), name="course_test_size_positive"),
        ]
        indexes = [models.Index(fields=["year", "subject_kind"], condition=Q(published=True),
                                name="course_catalogue_idx")]

    def __str__(self):
        return f"{self.year_id}年度 {self.title}"


class LessonKind(models.TextChoices):
    VIDEO = "video", _("视频")
    TEXT = "text", _("图文")
    PDF = "pdf", _("PDF讲义")


def lesson_media_path(lesson: Lesson, filename: str) -> str:
    """Where a lesson's file lives in storage; the name itself is chosen by the service (a random one)."""
    return f"learning/course-{lesson.course_id}/{filename}"


class Lesson(models.Model):
    """One section of a course (课程章节): a video, a text or a PDF, with its duration (R-CE-8).

    ``duration_seconds`` is what the lesson takes: a video's declared length (never longer than the
    media, which ffprobe measured into ``media_seconds``), a text's or a PDF's minimum reading time.
    The file (video or PDF) lives in the project's storage and is served only to enrolled people.
    """

    course = models.ForeignKey(Course, verbose_name=_("课程"), on_delete=models.CASCADE, related_name="lessons")
    order = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("章节名称"), max_length=200)
    kind = models.CharField(_("章节类型"), max_length=10, choices=LessonKind.choices, default=LessonKind.TEXT)
    body = models.TextField(_("正文"), blank=True, help_text=_("图文章节的正文；视频、PDF章节可写内容提要。"))
    media = models.FileField(_("视频或PDF文件"), upload_to=lesson_media_path, max_length=200, blank=True)
    media_type = models.CharField(_("文件类型"), max_length=50, blank=True, editable=False)
    media_seconds = models.DecimalField(_("视频实际时长（秒）"), max_digits=8, decimal_places=2, null=True,
                                        blank=True, editable=False)
    duration_seconds = models.PositiveIntegerField(
        _("时长（秒）"), help_text=_("视频章节不得超过视频实际时长；图文、PDF章节为最少阅读时间。"))

    class Meta:
        verbose_name = _("课程章节")
        verbose_name_plural = _("课程章节")
        ordering = ["course", "order"]
        constraints = [
            models.UniqueConstraint(fields=["course", "order"], name="lesson_order_unique"),
            models.CheckConstraint(condition=Q(duration_seconds__gt=0), name="lesson_duration_positive"),
            # A video's declared duration never exceeds the measured media (one second for rounding).
            models.CheckConstraint(
                condition=~Q(kind="video") | Q(media_seconds__isnull=False,
                                               duration_seconds__lte=F("media_seconds") + Decimal(1)),
                name="lesson_video_within_media"),
        ]

    def __str__(self):
        return f"{self.order}. {self.title}"

    @property
    def minutes(self) -> int:
        """The duration in whole minutes, rounded up (what a page shows beside the title)."""
        return -(-self.duration_seconds // 60)


class Question(models.Model):
    """A single-choice question of a course's end-of-course test (课程测试题)."""

    course = models.ForeignKey(Course, verbose_name=_("课程"), on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(_("序号"))
    text = models.CharField(_("题目"), max_length=500)
    choices = models.JSONField(_("选项"), default=list, help_text=_("选项文字的列表，如 [\"甲\", \"乙\", \"丙\"]。"))
    answer = models.PositiveSmallIntegerField(_("正确选项序号"), help_text=_("从0开始：0 为第一个选项。"))
    retired = models.BooleanField(_("已停用"), default=False,
                                  help_text=_("停用的题目不再抽取，已作答的记录仍保留。"))

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
    """A person's progress in one lesson (学习进度), R-CE-8: what the server credited, where the media stands.

    ``credited_seconds`` is the learning time the server accepted (heartbeats, never the browser's
    word); ``furthest`` the furthest point of a video actually watched, ``position`` where the person
    left it (to resume on any device). ``completed_at`` is set once the credited time reaches the
    lesson's required time (:func:`cpe.learning.selectors.required_seconds`).
    """

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("报名"), on_delete=models.CASCADE,
                                  related_name="progress")
    lesson = models.ForeignKey(Lesson, verbose_name=_("章节"), on_delete=models.PROTECT, related_name="+")
    credited_seconds = models.DecimalField(_("已计学习时长（秒）"), max_digits=9, decimal_places=2,
                                           default=Decimal(0))
    furthest = models.DecimalField(_("视频已观看到（秒）"), max_digits=9, decimal_places=2, default=Decimal(0))
    position = models.DecimalField(_("上次观看位置（秒）"), max_digits=9, decimal_places=2, default=Decimal(0))
    started_at = models.DateTimeField(_("开始学习时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("最近学习时间"), default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("章节学习记录")
        verbose_name_plural = _("章节学习记录")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "lesson"], name="lesson_progress_unique"),
            models.CheckConstraint(condition=Q(credited_seconds__gte=0, furthest__gte=0, position__gte=0),
                                   name="lesson_progress_not_negative"),
        ]

    def __str__(self):
        return f"{self.enrolment_id} · {self.lesson_id}"


class LearningPolicy(models.Model):
    """How the server judges online learning time (网络学习计时规则), R-CE-8: one row, provincial staff edit it.

    Saved only through :func:`cpe.learning.services.learning_policy_save` (checked, audited).
    """

    completion_ratio = models.DecimalField(
        _("完成比例"), max_digits=3, decimal_places=2, default=Decimal("0.95"),
        validators=[MinValueValidator(Decimal("0.50")), MaxValueValidator(Decimal("1.00"))],
        help_text=_("已计学习时长达到章节时长的该比例即完成本节，0.50–1.00。"))
    max_playback_rate = models.DecimalField(
        _("最高计时倍速"), max_digits=3, decimal_places=2, default=Decimal("1.25"),
        validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(Decimal("2.00"))],
        help_text=_("倍速播放时，每秒最多计入的学习时长；超过该倍速的进度记录不予接受。1.00–2.00。"))
    seek_tolerance_seconds = models.PositiveSmallIntegerField(
        _("进度容差（秒）"), default=5, validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("播放位置超出已观看内容的容许误差（网络延迟），1–30秒。"))
    heartbeat_seconds = models.PositiveSmallIntegerField(
        _("进度上报间隔（秒）"), default=15, validators=[MinValueValidator(5), MaxValueValidator(60)],
        help_text=_("浏览器在播放且页面可见时上报学习进度的间隔，5–60秒；图文章节每次最多计入两个间隔。"))
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("网络学习计时规则")
        verbose_name_plural = _("网络学习计时规则")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="learning_policy_single_row")]

    def __str__(self):
        return str(_("网络学习计时规则"))


class LearningSession(models.Model):
    """One sitting at one lesson (学习会话): the person's single active lesson and its heartbeat chain.

    A person learns one lesson at a time: opening another (or the same in another tab or device) ends
    this one (``superseded``), and its later heartbeats are refused. Each accepted heartbeat moves
    ``seq`` on by one and issues a fresh ``nonce`` that the next one must carry; ``playing`` says
    whether the time since ``last_beat_at`` (the server's clock) may be credited.
    """

    class End(models.TextChoices):
        SUPERSEDED = "superseded", _("已在其他页面或设备开始学习")

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT,
                                related_name="learning_sessions")
    progress = models.ForeignKey(LessonProgress, verbose_name=_("章节学习记录"), on_delete=models.CASCADE,
                                 related_name="sessions")
    key = models.CharField(_("会话标识"), max_length=40, unique=True)
    seq = models.PositiveIntegerField(_("已接受的进度序号"), default=0)
    nonce = models.CharField(_("下一次进度校验码"), max_length=40)
    playing = models.BooleanField(_("计时中"), default=False)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    last_beat_at = models.DateTimeField(_("最近一次进度时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=20, choices=End.choices, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("学习会话")
        verbose_name_plural = _("学习会话")
        constraints = [models.UniqueConstraint(fields=["archive"], condition=Q(ended_at__isnull=True),
                                               name="learning_session_one_active")]

    def __str__(self):
        return f"{self.archive_id} · {self.progress_id} · {self.seq}"


class RefusalKind(models.TextChoices):
    """Why the server refused a heartbeat or a completion (R-CE-8)."""

    FORGED = "forged", _("进度记录无效（伪造或校验失败）")
    REPLAYED = "replayed", _("进度记录重复提交")
    OUT_OF_ORDER = "out_of_order", _("进度记录顺序错乱")
    TOO_FAST = "too_fast", _("播放速度超过上限")
    SEEK_AHEAD = "seek_ahead", _("跳过未观看的内容")
    TWO_LESSONS = "two_lessons", _("同时学习多节课程")
    TOO_EARLY = "too_early", _("学习时长不足")


class LearningRefusal(models.Model):
    """A refused heartbeat or 学完本节 (学习记录拒收日志), with its reason: what the server would not believe."""

    at = models.DateTimeField(_("时间"), default=timezone.now)
    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT,
                                related_name="learning_refusals")
    lesson = models.ForeignKey(Lesson, verbose_name=_("章节"), on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(LearningSession, verbose_name=_("学习会话"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="refusals")
    kind = models.CharField(_("拒收类型"), max_length=20, choices=RefusalKind.choices)
    reason = models.CharField(_("原因"), max_length=300)
    detail = models.JSONField(_("详情"), default=dict)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("学习记录拒收日志")
        verbose_name_plural = _("学习记录拒收日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["archive", "-at"], name="learning_refusal_person_idx"),
                   models.Index(fields=["kind", "-at"], name="learning_refusal_kind_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"


class TestAttempt(models.Model):
    """One paper of a course's end-of-course test (课程测试), R-CE-8.

    Drawn when the person opens the test: ``questions`` are the ids sampled from the course's bank,
    in the order shown, kept on the server so the answers are scored against exactly that paper.
    Submitted once: ``answers`` (option per question), ``wrong`` (the ids answered wrongly), the
    score 0–100 and whether it passed.
    """

    __test__ = False  # not a pytest test class, whatever its name

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("报名"), on_delete=models.CASCADE,
                                  related_name="attempts")
    questions = models.JSONField(_("抽取的题目"), default=list)
    started_at = models.DateTimeField(_("抽题时间"), default=timezone.now)
    score = models.PositiveSmallIntegerField(_("成绩"), null=True, blank=True)
    passed = models.BooleanField(_("是否合格"), null=True, blank=True)
    answers = models.JSONField(_("作答"), default=list)
    wrong = models.JSONField(_("答错的题目"), default=list)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("课程测试记录")
        verbose_name_plural = _("课程测试记录")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["enrolment", "-started_at"], name="test_attempt_enrolment_idx")]
        constraints = [
            models.UniqueConstraint(fields=["enrolment"], condition=Q(submitted_at__isnull=True),
                                    name="test_attempt_one_open_paper"),
            models.CheckConstraint(condition=Q(submitted_at__isnull=True) | Q(score__isnull=False,
                                                                              passed__isnull=False),
                                   name="test_attempt_submitted_is_scored"),
        ]

    def __str__(self):
        return f"{self.score}分" if self.score is not None else "未提交"
