"""What training institutions put online (课程内容管理) and the timing policy staff keep, R-CE-8, R-CE-14.

An institution account manages its own institutions' online courses only (the owner check is here as
well as in the selectors that found them): the course (credits, hours, year, subject kind, pass mark,
how many questions a paper draws), its lessons — a video or a PDF uploaded into the project's storage
(:func:`cpe.learning.media.media_probe` says what it really is and how long a video really lasts) or a
text — each with its duration, and the question bank. Rules:

- a video lesson's declared duration is never longer than the media (the database says so too);
- once someone has started learning a lesson, its file, type and duration stay as they are (their
  progress was measured against them): the institution adds a lesson instead;
- once someone has enrolled, a course's credits, subject kind and year stay as they are;
- a course is published only by a filed institution, with at least one lesson and one question;
- questions are added and retired (停用), never edited or deleted: past papers keep what they asked.

Every write is one transaction with its audit row; a replaced file is removed after the commit.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max

from cpe.institutions.selectors import ONLINE_KINDS
from cpe.learning.media import media_probe, stored_name
from cpe.learning.selectors import clock, plain
from cpe.models import (
    CEYear,
    Course,
    Enrolment,
    LearningPolicy,
    Lesson,
    LessonKind,
    LessonProgress,
    Question,
    SubjectKind,
    TrainingInstitution,
)
from kjzx.api import DomainError
from kjzx.audit import record_event, register_event_labels

register_event_labels({
    "cpe.course_saved": "保存网络课程",
    "cpe.lesson_saved": "保存课程章节",
    "cpe.question_added": "新增课程测试题",
    "cpe.question_retired": "停用或启用课程测试题",
    "cpe.learning_policy_updated": "修改网络学习计时规则",
})

MAX_LESSON_SECONDS = 6 * 3600
MAX_CHOICES = 8


def _owned(user, institution: TrainingInstitution) -> None:
    if institution.owner_id != getattr(user, "pk", None):
        raise DomainError({"detail": ["只能管理本机构的课程。"]}, status_code=403)


def _decimal(value, field: str, label: str, errors: dict, *, low: Decimal, high: Decimal) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = [f"请填写{label}（数字）。"]
        return None
    if not number.is_finite() or not low <= number <= high or number != number.quantize(Decimal("0.1")):
        errors[field] = [f"{label}应在{plain(low)}至{plain(high)}之间，最多一位小数。"]
        return None
    return number


def _int(value, field: str, label: str, errors: dict, *, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = [f"请填写{label}（整数）。"]
        return None
    if not low <= number <= high:
        errors[field] = [f"{label}应在{low}至{high}之间。"]
        return None
    return number


def _course_fields(data: dict, course: Course | None) -> dict:
    errors: dict[str, list[str]] = {}
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 200:
        errors["title"] = ["请填写课程名称（不超过200字）。"]
    kind = data.get("subject_kind")
    if kind not in SubjectKind.values:
        errors["subject_kind"] = ["请选择科目类别（公需科目或专业科目）。"]
    credits = _decimal(data.get("credits"), "credits", "学分", errors, low=Decimal("0.1"), high=Decimal("99.9"))
    hours = _decimal(data.get("hours"), "hours", "学时", errors, low=Decimal("0.1"), high=Decimal("99.9"))
    pass_mark = _int(data.get("pass_mark", 60), "pass_mark", "合格分数", errors, low=1, high=100)
    test_size = _int(data.get("test_size", 10), "test_size", "每次测试抽题数", errors, low=1, high=100)
    year = CEYear.objects.filter(pk=_int(data.get("year"), "year", "适用年度", errors, low=2018, high=2100)
                                 or 0).first()
    if year is None and "year" not in errors:
        errors["year"] = ["没有该年度的继续教育安排。"]
    elif year is not None and year.is_frozen and (course is None or course.year_id != year.pk):
        errors["year"] = [f"{year.year}年度学分登记已截止，不能再开设该年度的课程。"]
    if errors:
        raise DomainError(errors)
    return {"title": title, "subject_kind": kind, "credits": credits, "hours": hours, "pass_mark": pass_mark,
            "test_size": test_size, "year": year, "description": str(data.get("description") or "").strip()}


@transaction.atomic
def course_save(*, user, institution: TrainingInstitution, data: dict, course: Course | None = None) -> Course:
    """Create or change one of the institution's online courses (网络课程), R-CE-8, R-CE-14."""
    _owned(user, institution)
    if institution.kind not in ONLINE_KINDS:
        raise DomainError({"detail": ["本机构备案的培训形式不含网络培训，不能开设网络课程。"]})
    fields = _course_fields(data, course)
    publish = bool(data.get("published"))
    if course is not None:
        course = Course.objects.select_for_update().get(pk=course.pk, institution=institution)
        if Enrolment.objects.filter(course=course).exists() and any(
                getattr(course, name) != fields[name] for name in ("credits", "subject_kind", "year")):
            raise DomainError({"credits": ["已有学员报名本课程，不能修改学分、科目类别或适用年度。"]})
    errors = _publish_errors(institution, course) if publish else []
    if errors:
        raise DomainError({"published": errors})
    before = {} if course is None else {name: str(getattr(course, name)) for name in (*fields, "published")}
    course = course or Course(institution=institution)
    for name, value in fields.items():
        setattr(course, name, value)
    course.published = publish
    course.save()
    after = {name: str(getattr(course, name)) for name in (*fields, "published")}
    record_event(course, "cpe.course_saved", by=user, extra={
        "changed": {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}})
    return course


def _publish_errors(institution: TrainingInstitution, course: Course | None) -> list[str]:
    errors = []
    if not institution.filed:
        errors.append("培训机构经财政部门备案并公布后，方可发布课程。")
    if course is None or not course.lessons.exists():
        errors.append("请先添加至少一个章节，再发布课程。")
    if course is None or not course.questions.filter(retired=False).exists():
        errors.append("请先添加测试题，再发布课程。")
    return errors


def _lesson_fields(data: dict, upload, lesson: Lesson | None) -> tuple[dict, object]:
    errors: dict[str, list[str]] = {}
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 200:
        errors["title"] = ["请填写章节名称（不超过200字）。"]
    kind = data.get("kind")
    if kind not in LessonKind.values:
        errors["kind"] = ["请选择章节类型（视频、图文或PDF讲义）。"]
    duration = _int(data.get("duration_seconds"), "duration_seconds", "时长（秒）", errors, low=1,
                    high=MAX_LESSON_SECONDS)
    body = str(data.get("body") or "").strip()
    if kind == LessonKind.TEXT and not body:
        errors["body"] = ["图文章节请填写正文。"]
    needs_file = kind in (LessonKind.VIDEO, LessonKind.PDF) and (
        lesson is None or lesson.kind != kind or not lesson.media)
    if needs_file and upload is None and "kind" not in errors:
        errors["media"] = ["视频章节请上传视频文件，PDF讲义章节请上传 PDF 文件。"]
    probe = None
    if upload is not None and kind in (LessonKind.VIDEO, LessonKind.PDF):
        try:
            probe = media_probe(upload, kind)
        except DomainError as exc:
            errors.update(exc.errors)
    media_seconds = probe.seconds if probe else (lesson.media_seconds if lesson and lesson.kind == kind else None)
    if kind == LessonKind.VIDEO and duration and media_seconds is not None and duration > media_seconds + 1:
        errors["duration_seconds"] = [f"声明的时长{clock(duration)}超过视频实际时长{clock(media_seconds)}，"
                                      "请按视频实际时长填写。"]
    if errors:
        raise DomainError(errors)
    return {"title": title, "kind": kind, "body": body, "duration_seconds": duration}, probe


@transaction.atomic
def lesson_save(*, user, course: Course, data: dict, upload=None, lesson: Lesson | None = None) -> Lesson:
    """Add or change a lesson (课程章节) of one of the institution's courses: a video or PDF file from the
    upload (probed), or a text; its duration (R-CE-8)."""
    _owned(user, course.institution)
    if lesson is not None:
        lesson = Lesson.objects.select_for_update().get(pk=lesson.pk, course=course)
    fields, probe = _lesson_fields(data, upload, lesson)
    changes_timing = lesson is not None and (probe is not None or fields["kind"] != lesson.kind
                                             or fields["duration_seconds"] != lesson.duration_seconds)
    if changes_timing and LessonProgress.objects.filter(lesson=lesson).exists():
        raise DomainError({"media": ["已有学员学习本节，不能更换文件、类型或时长；如需调整，请新增章节。"]})
    old_file = lesson.media.name if lesson is not None and lesson.media else ""
    if lesson is None:
        order = (course.lessons.aggregate(last=Max("order"))["last"] or 0) + 1
        lesson = Lesson(course=course, order=order)
    for name, value in fields.items():
        setattr(lesson, name, value)
    if fields["kind"] == LessonKind.TEXT:
        lesson.media, lesson.media_type, lesson.media_seconds = "", "", None
    elif probe is not None:
        lesson.media.save(stored_name(probe, secrets.token_hex(16)), upload, save=False)
        lesson.media_type, lesson.media_seconds = probe.content_type, probe.seconds
    lesson.save()
    if old_file and old_file != lesson.media.name:
        storage = lesson.media.storage
        transaction.on_commit(lambda: storage.delete(old_file))
    record_event(course, "cpe.lesson_saved", by=user, extra={
        "lesson": lesson.pk, "kind": lesson.kind, "duration_seconds": lesson.duration_seconds,
        "media_seconds": str(lesson.media_seconds) if lesson.media_seconds is not None else None,
        "file_replaced": bool(probe)})
    return lesson


@transaction.atomic
def question_add(*, user, course: Course, data: dict) -> Question:
    """Add a single-choice question to the course's bank (题库)."""
    _owned(user, course.institution)
    errors: dict[str, list[str]] = {}
    text = str(data.get("text") or "").strip()
    if not text or len(text) > 500:
        errors["text"] = ["请填写题目（不超过500字）。"]
    choices = data.get("choices")
    if isinstance(choices, str):
        choices = choices.splitlines()
    choices = [str(choice).strip() for choice in choices or [] if str(choice).strip()]
    if not 2 <= len(choices) <= MAX_CHOICES or any(len(choice) > 200 for choice in choices):
        errors["choices"] = [f"请填写{2}至{MAX_CHOICES}个选项，每行一个，每个不超过200字。"]
    answer = _int(data.get("answer"), "answer", "正确选项序号", errors, low=1, high=max(len(choices), 1))
    if errors:
        raise DomainError(errors)
    order = (course.questions.aggregate(last=Max("order"))["last"] or 0) + 1
    question = Question.objects.create(course=course, order=order, text=text, choices=choices, answer=answer - 1)
    record_event(course, "cpe.question_added", by=user, extra={"question": question.pk})
    return question


@transaction.atomic
def question_retire(*, user, question: Question, retired: bool) -> Question:
    """停用 (no longer drawn) or 启用 a question; a published course keeps at least one question in use."""
    _owned(user, question.course.institution)
    question = Question.objects.select_for_update().select_related("course").get(pk=question.pk)
    if retired and question.course.published and not question.course.questions.filter(
            retired=False).exclude(pk=question.pk).exists():
        raise DomainError({"detail": ["已发布的课程至少保留一道启用的测试题。"]})
    if question.retired != retired:
        question.retired = retired
        question.save(update_fields=["retired"])
        record_event(question.course, "cpe.question_retired", by=user,
                     extra={"question": question.pk, "retired": retired})
    return question


# --- the timing policy (网络学习计时规则), provincial staff in the admin -------------------------------

POLICY_FIELDS = ("completion_ratio", "max_playback_rate", "seek_tolerance_seconds", "heartbeat_seconds")


@transaction.atomic
def learning_policy_save(*, by, policy: LearningPolicy) -> LearningPolicy:
    """Save the one row of 网络学习计时规则 (R-CE-8) with each changed field's old and new value audited."""
    from django.utils import timezone

    stored = LearningPolicy.objects.select_for_update().filter(pk=1).first()
    changed = {name: [str(getattr(stored, name)) if stored else None, str(getattr(policy, name))]
               for name in POLICY_FIELDS if stored is None or getattr(stored, name) != getattr(policy, name)}
    policy.pk, policy.updated_at, policy.updated_by = 1, timezone.now(), by
    policy.full_clean()
    policy.save()
    record_event(policy, "cpe.learning_policy_updated", by=by, extra={"changed": changed})
    return policy
