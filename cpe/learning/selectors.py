"""Reads of online learning (网络学习): when a year can be learned, the catalogue, a person's standing,
the timing policy and what a lesson requires.

R-CE-5, R-CE-6, R-CE-8, R-CE-13, R-CE-14, R-TRF-3. Everything here reads the caller's own archive:
another person's enrolments are never read (R-ACL-2).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Count, Prefetch, Q, Sum
from django.http import Http404
from django.utils import timezone

from cpe.ledger.rules import frozen_refusal
from cpe.ledger.selectors import ZERO, YearStatus, unregistered_online_passes, year_status
from cpe.models import (
    CEYear,
    Course,
    CreditEntry,
    Enrolment,
    LearningPolicy,
    Lesson,
    LessonKind,
    LessonProgress,
    Question,
    SourceType,
    SubjectKind,
    TestAttempt,
)
from records.models import Archive

OUTBOUND_REFUSAL = "您已报名参加本年度继续教育，请待本年度学分登记确认后再申请跨省调出。"


class State:
    """A person's standing in one course, as shown on every page and in the API."""

    NONE = ""
    LEARNING = "learning"
    PENDING = "pending"
    REGISTERED = "registered"

    LABELS = {NONE: "未报名", LEARNING: "学习中", PENDING: "已学待登记", REGISTERED: "学分已登记"}


# --- when a year can be learned (R-CE-5, R-CE-6, R-CE-13) -------------------------------------

def learning_refusal(policy: CEYear, today: dt.date | None = None) -> str:
    """Why courses of ``policy``'s year cannot be learned today, or "" when they can."""
    today = today or timezone.localdate()
    if policy.is_frozen:
        return frozen_refusal(policy.year)
    if today < dt.date(policy.year, 1, 1):
        return f"{policy.year}年度课程尚未开放学习。"
    if today <= policy.deadline:
        return ""
    if policy.makeup_until and today <= policy.makeup_until:
        return ""
    if policy.makeup_until:
        return f"{policy.year}年度补学已于{policy.makeup_until.isoformat()}截止，今后不再组织补学。"
    return f"{policy.year}年度继续教育已于{policy.deadline.isoformat()}截止，该年度不组织补学。"


def is_makeup(policy: CEYear, today: dt.date | None = None) -> bool:
    """Past the deadline and inside the make-up window (补学), R-CE-6."""
    today = today or timezone.localdate()
    return bool(policy.makeup_until) and policy.deadline < today <= policy.makeup_until and not policy.is_frozen


@dataclasses.dataclass(frozen=True)
class LearningYears:
    """The years open for learning today: the regular ones (newest first) and the make-up ones (补学入口)."""

    regular: list[CEYear]
    makeup: list[CEYear]

    @property
    def all(self) -> list[CEYear]:
        return self.regular + self.makeup

    def find(self, year) -> CEYear | None:
        return next((policy for policy in self.all if str(policy.year) == str(year)), None)


def learning_years(today: dt.date | None = None) -> LearningYears:
    """One query; a make-up year appears only while its window is open (R-CE-6)."""
    today = today or timezone.localdate()
    open_years = [policy for policy in CEYear.objects.filter(frozen_at__isnull=True, year__lte=today.year)
                  .order_by("-year") if not learning_refusal(policy, today)]
    makeup = [policy for policy in open_years if is_makeup(policy, today)]
    return LearningYears([policy for policy in open_years if policy not in makeup], makeup)


def learner_archive(person) -> Archive | None:
    """The person's archive, for reading: never opens one."""
    return Archive.objects.filter(person=person).first() if getattr(person, "pk", None) else None


# --- the timing policy and what a lesson requires (R-CE-8) --------------------------------------

def learning_policy() -> LearningPolicy:
    """The one row of 网络学习计时规则 (seeded by the migration; its defaults if it was ever removed)."""
    return LearningPolicy.objects.filter(pk=1).first() or LearningPolicy(pk=1)


def time_scale() -> Decimal:
    """``KJZX_LEARNING_TIME_SCALE`` (0.001–1, docs/cpe.md): a demo or a test may shorten every lesson's
    required time. Honoured only with DEBUG or under the test settings; in production it is always 1.
    It scales the time a lesson requires, never a heartbeat check."""
    raw = getattr(settings, "KJZX_LEARNING_TIME_SCALE", "")
    module = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    allowed = settings.DEBUG or str(module).endswith("settings_test")
    if raw in (None, "") or not allowed:
        return Decimal(1)
    try:
        scale = Decimal(str(raw))
    except InvalidOperation:
        return Decimal(1)
    return min(max(scale, Decimal("0.001")), Decimal(1)) if scale.is_finite() else Decimal(1)


def required_seconds(lesson: Lesson, policy: LearningPolicy | None = None) -> int:
    """The credited time that completes ``lesson``: its duration × the completion ratio × the time scale,
    in whole seconds (at least one; a video's never more than its media lasts)."""
    policy = policy or learning_policy()
    required = math.ceil(Decimal(lesson.duration_seconds) * policy.completion_ratio * time_scale())
    if lesson.kind == LessonKind.VIDEO and lesson.media_seconds is not None:
        required = min(required, math.floor(lesson.media_seconds))  # never more than the media can give
    return max(1, required)


def describe_lesson(lesson: Lesson, progress: LessonProgress | None, policy: LearningPolicy) -> Lesson:
    """Attach this person's standing in the lesson: learned and required seconds, resume point, done."""
    lesson.progress = progress
    lesson.required_seconds = required_seconds(lesson, policy)
    lesson.learned_seconds = int(progress.credited_seconds) if progress else 0
    lesson.remaining_seconds = max(lesson.required_seconds - lesson.learned_seconds, 0)
    lesson.done = bool(progress and progress.completed_at)
    lesson.percent = min(100, lesson.learned_seconds * 100 // lesson.required_seconds)
    lesson.duration_clock = clock(lesson.duration_seconds)
    lesson.learned_clock, lesson.required_clock = clock(lesson.learned_seconds), clock(lesson.required_seconds)
    return lesson


def has_media(lesson: Lesson) -> bool:
    return lesson.kind in (LessonKind.VIDEO, LessonKind.PDF) and bool(lesson.media)


def plain(number) -> str:
    """1.25 → "1.25", 90.0 → "90", 10 → "10" (never "1E+1")."""
    text = f"{Decimal(number):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def clock(seconds) -> str:
    """12:05, 1:02:03: a duration as a person reads it."""
    seconds = max(int(seconds or 0), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def in_words(seconds) -> str:
    """12分30秒, 1小时2分: what is still needed, in a refusal's words."""
    seconds = max(math.ceil(seconds or 0), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}小时" if hours else "", f"{minutes}分" if minutes else "", f"{secs}秒" if secs else ""]
    return "".join(parts) or "0秒"


def lesson_for_learner(archive: Archive | None, lesson: Lesson) -> Lesson:
    """One lesson with the caller's own progress in it (nothing of anyone else's, R-ACL-2)."""
    progress = None
    if archive is not None:
        progress = LessonProgress.objects.filter(enrolment__archive=archive, lesson=lesson).first()
    return describe_lesson(lesson, progress, learning_policy())


def lesson_media_get(user, pk) -> Lesson:
    """A lesson's file, for its course's enrolled people only (anyone else: 404, the same as no file)."""
    archive = learner_archive(user)
    lesson = lesson_get(pk)
    if archive is None or not has_media(lesson) or not Enrolment.objects.filter(
            archive=archive, course_id=lesson.course_id).exists():
        raise Http404
    return lesson


LETTERS = "ABCDEFGHIJ"


def attempt_review(attempt: TestAttempt | None) -> list[dict]:
    """The questions a submitted paper got wrong, in its order, with the option the person chose (never
    the right one: the bank stays a bank)."""
    if attempt is None or not attempt.wrong:
        return []
    found = Question.objects.in_bulk(attempt.questions)
    wrong = set(attempt.wrong)
    review = []
    for number, (pk, chosen) in enumerate(zip(attempt.questions, attempt.answers, strict=False), start=1):
        question = found.get(pk)
        if pk in wrong and question is not None:
            answer = question.choices[chosen] if isinstance(chosen, int) and chosen < len(question.choices) else ""
            review.append({"number": number, "text": question.text,
                           "chosen": f"{LETTERS[chosen % len(LETTERS)]}. {answer}" if answer else ""})
    return review


# --- an institution's own courses (R-CE-14, R-ACL-1) ----------------------------------------------

def owned_courses(user):
    """The online courses of the institutions this institution account runs; nobody else's."""
    from cpe.institutions.selectors import owned_institutions

    return (Course.objects.filter(institution__in=owned_institutions(user)).select_related("institution", "year")
            .annotate(lesson_count=Count("lessons", distinct=True),
                      question_count=Count("questions", filter=Q(questions__retired=False), distinct=True),
                      enrolment_count=Count("enrolments", distinct=True))
            .order_by("-year", "institution__name", "title", "id"))


def owned_course_get(user, pk) -> Course:
    try:
        return owned_courses(user).get(pk=int(pk))
    except (Course.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def owned_lesson_get(user, pk) -> Lesson:
    lesson = Lesson.objects.select_related("course__institution").filter(
        pk=pk, course__in=owned_courses(user).values("pk")).first()
    if lesson is None:
        raise Http404
    return lesson


def owned_question_get(user, pk) -> Question:
    question = Question.objects.select_related("course__institution").filter(
        pk=pk, course__in=owned_courses(user).values("pk")).first()
    if question is None:
        raise Http404
    return question


def lessons_in_use(course: Course) -> set[int]:
    """The course's lessons someone has started learning (their file, type and duration are fixed now)."""
    return set(LessonProgress.objects.filter(lesson__course=course).values_list("lesson_id", flat=True).distinct())


# --- the catalogue ------------------------------------------------------------------------------

def offered_courses():
    """Published courses of filed institutions (R-CE-14): the only ones anyone sees."""
    return Course.objects.filter(published=True, institution__filed=True)


def course_get(pk) -> Course:
    course = offered_courses().select_related("institution", "year").filter(pk=pk).first()
    if course is None:
        raise Http404
    return course


def lesson_get(pk) -> Lesson:
    lesson = (Lesson.objects.select_related("course__institution", "course__year")
              .filter(pk=pk, course__in=offered_courses()).first())
    if lesson is None:
        raise Http404
    return lesson


def registered_course_ids(archive: Archive, year) -> set[str]:
    """The courses whose credits are in the ledger for the person's ``year`` (source ``course:<pk>``)."""
    return set(CreditEntry.objects.filter(archive=archive, year_id=getattr(year, "year", year),
                                          source_type=SourceType.COURSE).values_list("source_id", flat=True))


def pending_enrolments(archive: Archive, policy: CEYear) -> list[Enrolment]:
    """The person's passed courses of the year whose credits are not registered yet (已学待登记), as the
    ledger defines them (:func:`cpe.ledger.selectors.unregistered_online_passes`)."""
    return list(unregistered_online_passes(archive, policy).select_related("course__institution")
                .order_by("passed_at", "id"))


def _state(enrolment: Enrolment | None, registered: set[str]) -> str:
    if enrolment is None:
        return State.NONE
    if str(enrolment.course_id) in registered:
        return State.REGISTERED
    return State.PENDING if enrolment.passed_at else State.LEARNING


def _describe(course: Course, enrolment: Enrolment | None, done: int, registered: set[str]) -> Course:
    course.enrolment = enrolment
    course.done = done
    course.state = _state(enrolment, registered)
    course.state_label = State.LABELS[course.state]
    course.percent = round(100 * done / course.lesson_count) if course.lesson_count else 0
    if not hasattr(course, "learned_seconds"):
        course.learned_seconds = int(getattr(enrolment, "learned", None) or 0)
    course.learned_clock = clock(course.learned_seconds)
    course.all_done = enrolment is not None and done >= course.lesson_count
    return course


def catalogue(archive: Archive | None, policy: CEYear, subject_kind: str = "") -> list[Course]:
    """The catalogue of one year (网络学习), with the person's own state per course: three queries, any size."""
    courses = (offered_courses().filter(year=policy).select_related("institution")
               .annotate(lesson_count=Count("lessons", distinct=True)).order_by("subject_kind", "title", "id"))
    if subject_kind in SubjectKind.values:
        courses = courses.filter(subject_kind=subject_kind)
    courses = list(courses)
    enrolments, registered = {}, set()
    if archive is not None and courses:
        enrolments = {e.course_id: e for e in Enrolment.objects.filter(
            archive=archive, course_id__in=[c.pk for c in courses]).annotate(
            done=Count("progress", filter=Q(progress__completed_at__isnull=False)),
            learned=Sum("progress__credited_seconds"))}
        registered = registered_course_ids(archive, policy)
    for course in courses:
        enrolment = enrolments.get(course.pk)
        _describe(course, enrolment, enrolment.done if enrolment else 0, registered)
    return courses


def course_for_learner(archive: Archive | None, course: Course) -> Course:
    """One course with its lessons, each with this person's progress only (learned time, required time,
    done), the course's learning time, their state and last submitted test."""
    policy = learning_policy()
    course.lesson_list = list(course.lessons.order_by("order"))
    course.lesson_count = len(course.lesson_list)
    enrolment = None
    if archive is not None:
        enrolment = (Enrolment.objects.filter(archive=archive, course=course)
                     .prefetch_related(Prefetch("progress", queryset=LessonProgress.objects.all())).first())
    progress = {p.lesson_id: p for p in enrolment.progress.all()} if enrolment else {}
    for lesson in course.lesson_list:
        describe_lesson(lesson, progress.get(lesson.pk), policy)
    done = sum(1 for lesson in course.lesson_list if lesson.done)
    course.next_lesson = next((lesson for lesson in course.lesson_list if not lesson.done), None)
    course.learned_seconds = sum((lesson.learned_seconds for lesson in course.lesson_list), 0)
    course.required_seconds = sum((lesson.required_seconds for lesson in course.lesson_list), 0)
    course.required_clock = clock(course.required_seconds)
    registered = registered_course_ids(archive, course.year_id) if enrolment else set()
    course.last_attempt = (enrolment.attempts.filter(submitted_at__isnull=False).order_by("-submitted_at", "-id")
                           .first() if enrolment else None)
    return _describe(course, enrolment, done, registered)


@dataclasses.dataclass(frozen=True)
class OnlineSummary:
    """A person's online learning in one year: what is registered and what waits (已学待登记), R-CE-8."""

    status: YearStatus
    pending: list[Enrolment]
    registered_ids: set[str]

    @property
    def pending_credits(self) -> Decimal:
        return sum((enrolment.course.credits for enrolment in self.pending), ZERO)

    @property
    def missing(self) -> Decimal:
        """Credits still to earn before the pending ones register (0 when nothing waits or it adds up)."""
        if not self.pending:
            return ZERO
        return max(self.status.required_total - self.status.total - self.pending_credits, ZERO)


def online_summary(archive: Archive, policy: CEYear) -> OnlineSummary:
    """Registered figures (:func:`cpe.ledger.selectors.year_status`) plus the passed courses waiting: five queries."""
    return OnlineSummary(year_status(archive, policy), pending_enrolments(archive, policy),
                         registered_course_ids(archive, policy))


# --- the outbound check (R-TRF-3) ----------------------------------------------------------------

def outbound_refusal(archive: Archive, today: dt.date | None = None) -> str | None:
    """Refuse an outbound transfer while a course of this CE year is learned but not registered (R-TRF-3).

    ``transfers.services`` asks it before an outbound transfer is opened or submitted. "本年度" are the
    years in their regular learning period today (R-CE-5): in January–March both the past year (due
    31 March) and the new one. Make-up learning of older years does not hold a transfer.
    """
    today = today or timezone.localdate()
    years = list(CEYear.objects.filter(frozen_at__isnull=True, year__lte=today.year, deadline__gte=today)
                 .values_list("year", flat=True))
    enrolled = set(Enrolment.objects.filter(archive=archive, course__year__in=years)
                   .values_list("course_id", flat=True))
    if not enrolled:
        return None
    registered = set(CreditEntry.objects.filter(archive=archive, year__in=years, source_type=SourceType.COURSE)
                     .values_list("source_id", flat=True))
    return OUTBOUND_REFUSAL if any(str(course_id) not in registered for course_id in enrolled) else None
