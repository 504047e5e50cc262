"""Online learning (网络学习): enrolling, lessons, the end-of-course test, automatic registration.

R-CE-2 (公需 / 专业 courses), R-CE-6 (make-up window), R-CE-7 (online is the default form),
R-CE-8 (automatic registration), R-CE-12 (collection first), R-TRF-3 (the outbound check).

A person's way through a course::

    course_enrol ──▶ lesson_complete (each lesson, any order) ──▶ test_submit (retries allowed)
                                                                   └─ first pass: enrolment.passed_at

A course belongs to one CE year and can be learned while that year is open for learning
(:func:`learning_refusal`): from 1 January of the year to its deadline (R-CE-5: 2024 until
2025-03-31), or afterwards inside its make-up window (R-CE-6: 2020–2023 until 2024-12-31, the
"继续教育补学入口"), never in a frozen year (R-CE-13). The same check guards enrolling, completing a
lesson and submitting the test, so nothing is learned for a year once its window has closed.

Automatic registration (R-CE-8). The seeds say "学满90学分，学分由系统自动登记": we read it as "once
the person's year adds up to the year's required total, the system registers the online credits".
So a passed course waits as 已学待登记 until (credits registered for the year, by any form, + every
passed-but-unregistered online course of the year) >= ``CEYear.required_total``; then all of them
are registered at once through :func:`cpe.ledger.credit_register` (form ``online``, source
``course:<pk>``, so a course registers once even if its test is passed again), the person is told
by a notification, and from then on each new pass registers at once. Only the total is compared
(not the professional share): R-CE-3's 60 professional credits is what *completes* a year
(:func:`cpe.ledger.year_status`), not a condition for registering what was earned. Before a year
freezes, :func:`register_pending_before_close` (a :data:`cpe.ledger.BEFORE_CLOSE` hook) registers
every pending pass of that year, so earned credits always count in the credit-information file.

Everything here is scoped to the caller's own archive: another person's enrolments are never read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from cpe.ledger import ZERO, YearStatus, credit_register, year_status
from cpe.models import (
    CEYear,
    Course,
    CreditEntry,
    CreditForm,
    Enrolment,
    Lesson,
    LessonProgress,
    SourceType,
    SubjectKind,
    TestAttempt,
)
from kjzx.api import DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.notifications import notification_send
from records.models import Archive

register_event_labels({
    "cpe.course_enrolled": "报名网络课程",
    "cpe.lesson_completed": "学完课程章节",
    "cpe.test_submitted": "提交课程测试",
    "cpe.online_credits_registered": "网络学习学分自动登记",
})

NOT_COLLECTED = "请先完成信息采集（审核通过）后再参加网络学习，学分登记以信息采集完成为前提。"
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
        return f"{policy.year}年度学分登记已结束并纳入信用信息档案，不能再学习该年度课程。"
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


# --- whose archive (R-CE-12) --------------------------------------------------------------------

def learner_archive(person) -> Archive | None:
    """The person's archive, for reading: never opens one (see transfers.views_person._own_archive)."""
    return Archive.objects.filter(person=person).first() if getattr(person, "pk", None) else None


def is_collected(archive: Archive | None) -> bool:
    return archive is not None and archive.status == Archive.Status.ACTIVE and archive.collected_at is not None


def _collected_archive(person, *, lock: bool = False) -> Archive:
    queryset = Archive.objects.select_for_update() if lock else Archive.objects
    archive = queryset.filter(person=person).first()
    if not is_collected(archive):
        raise DomainError({"archive": [NOT_COLLECTED]})  # R-CE-12
    return archive


def _check_learnable(course: Course) -> None:
    if not course.published or not course.institution.filed:
        raise DomainError({"course": ["该课程未发布，或培训机构未经财政部门备案、公布，不能学习。"]})  # R-CE-14
    refusal = learning_refusal(course.year)
    if refusal:
        raise DomainError({"course": [refusal]})


def _enrolment(archive: Archive, course: Course, *, lock: bool = False) -> Enrolment:
    queryset = Enrolment.objects.select_for_update(of=("self",)) if lock else Enrolment.objects
    enrolment = (queryset.select_related("course__year", "course__institution")
                 .filter(archive=archive, course_id=course.pk).first())
    if enrolment is None:
        raise DomainError({"course": ["请先报名参加本课程。"]})
    return enrolment


# --- services -----------------------------------------------------------------------------------

@transaction.atomic
def course_enrol(*, person, course: Course) -> Enrolment:
    """Enrol in an online course (报名), R-CE-12, R-CE-6; enrolling twice returns the same enrolment."""
    archive = _collected_archive(person)
    course = Course.objects.select_related("year", "institution").get(pk=course.pk)
    _check_learnable(course)
    enrolment, created = Enrolment.objects.get_or_create(archive=archive, course=course)
    if created:
        record_event(enrolment, "cpe.course_enrolled", by=person, extra={
            "course": course.pk, "year": course.year_id, "makeup": is_makeup(course.year)})
    return enrolment


@transaction.atomic
def lesson_complete(*, person, lesson: Lesson) -> LessonProgress:
    """Mark a lesson learned (学完本节); doing it again changes nothing."""
    archive = _collected_archive(person)
    enrolment = _enrolment(archive, lesson.course)
    _check_learnable(enrolment.course)
    progress, created = LessonProgress.objects.get_or_create(enrolment=enrolment, lesson=lesson)
    if created:
        record_event(enrolment, "cpe.lesson_completed", by=person, extra={"lesson": lesson.pk})
    return progress


@dataclasses.dataclass(frozen=True)
class TestResult:
    """What a test submission came to: the attempt, and where the course's credits stand."""

    __test__ = False  # not a pytest test class

    attempt: TestAttempt
    enrolment: Enrolment
    correct: int
    questions: int
    state: str  # State.LEARNING (not passed yet), PENDING or REGISTERED
    newly_registered: list[CreditEntry]
    missing: Decimal  # credits still to earn before pending online credits register (R-CE-8)

    @property
    def registered(self) -> bool:
        return self.state == State.REGISTERED


def _parse_answers(answers, questions) -> list[int]:
    """One chosen option per question, in the questions' order; every problem in one message."""
    if not isinstance(answers, list | tuple):
        raise DomainError({"answers": ["请按题目顺序提交答案列表，如 [0, 2, 1]。"]})
    chosen, missing = [], []
    for number, question in enumerate(questions, start=1):
        value = answers[number - 1] if number <= len(answers) else None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(question.choices):
            missing.append(str(number))
            value = None
        chosen.append(value)
    if len(answers) > len(questions):
        raise DomainError({"answers": [f"本测试共{len(questions)}题，提交的答案多于题目数。"]})
    if missing:
        raise DomainError({"answers": [f"请回答全部试题：第{'、'.join(missing)}题尚未作答或选项无效。"]})
    return chosen


def score_of(correct: int, total: int) -> int:
    """0–100, rounded half up."""
    return (correct * 200 + total) // (2 * total) if total else 0


@transaction.atomic
def test_submit(*, person, course: Course, answers) -> TestResult:
    """Submit the end-of-course test (课程测试): only once every lesson is learned; retries allowed (R-CE-8).

    The first pass sets ``passed_at``; the online credits then register if the year adds up (module doc).
    """
    archive = _collected_archive(person, lock=True)  # lock: one person's passes settle one at a time
    enrolment = _enrolment(archive, course, lock=True)
    course = enrolment.course
    _check_learnable(course)
    lessons = Lesson.objects.filter(course=course).count()
    if enrolment.progress.count() < lessons:
        raise DomainError({"answers": ["请先学完全部章节，再参加课程测试。"]})
    questions = list(course.questions.order_by("order"))
    if not questions:
        raise DomainError({"answers": ["本课程尚未设置测试题，请联系培训机构。"]})
    chosen = _parse_answers(answers, questions)
    correct = sum(1 for question, answer in zip(questions, chosen, strict=True) if question.answer == answer)
    score = score_of(correct, len(questions))
    passed = score >= course.pass_mark
    attempt = TestAttempt.objects.create(enrolment=enrolment, score=score, passed=passed, answers=chosen)
    _record_score(enrolment, attempt)
    record_event(enrolment, "cpe.test_submitted", by=person, extra={
        "course": course.pk, "score": score, "passed": passed})
    entries = online_credits_register(archive, course.year) if passed else []
    summary = online_summary(archive, course.year)
    state = (State.REGISTERED if str(course.pk) in summary.registered_ids
             else State.PENDING if enrolment.passed_at else State.LEARNING)
    return TestResult(attempt, enrolment, correct, len(questions), state, entries, summary.missing)


def _record_score(enrolment: Enrolment, attempt: TestAttempt) -> None:
    fields = []
    if enrolment.best_score is None or attempt.score > enrolment.best_score:
        enrolment.best_score = attempt.score
        fields.append("best_score")
    if attempt.passed and enrolment.passed_at is None:
        enrolment.passed_at = attempt.submitted_at
        fields.append("passed_at")
    if fields:
        enrolment.save(update_fields=fields)


# --- automatic registration (R-CE-8) ------------------------------------------------------------

def _registered_course_ids(archive: Archive, year) -> set[str]:
    return set(CreditEntry.objects.filter(archive=archive, year_id=getattr(year, "year", year),
                                          source_type=SourceType.COURSE).values_list("source_id", flat=True))


def _pending(archive: Archive, policy: CEYear, registered: set[str]) -> list[Enrolment]:
    passed = (Enrolment.objects.filter(archive=archive, course__year=policy, passed_at__isnull=False)
              .select_related("course__institution").order_by("passed_at", "id"))
    return [enrolment for enrolment in passed if str(enrolment.course_id) not in registered]


def online_credits_register(archive: Archive, policy: CEYear, *, force: bool = False) -> list[CreditEntry]:
    """Register the year's passed online courses once the year adds up to the required total (R-CE-8).

    ``force`` registers them whatever the total (the year is about to freeze). Each course is one
    ledger entry (source ``course:<pk>``); the person gets one notification for the lot.
    """
    pending = _pending(archive, policy, _registered_course_ids(archive, policy))
    if not pending:
        return []
    waiting = sum((enrolment.course.credits for enrolment in pending), ZERO)
    if not force and year_status(archive, policy).total + waiting < policy.required_total:
        return []
    entries = [credit_register(
        archive=archive, year=policy.year, subject_kind=enrolment.course.subject_kind, form=CreditForm.ONLINE,
        credits=enrolment.course.credits, source_type=SourceType.COURSE, source_id=str(enrolment.course_id),
        source_label=f"网络课程：{enrolment.course.title}（{enrolment.course.institution.name}）")
        for enrolment in pending]
    record_event(archive, "cpe.online_credits_registered", extra={
        "year": policy.year, "courses": [e.course_id for e in pending], "credits": str(waiting), "forced": force})
    if archive.person_id:
        notification_send(
            user=archive.person, title=f"{policy.year}年度网络学习学分已登记",
            body=f"您已学完并通过测试的{len(pending)}门网络课程共{waiting}学分，已由系统自动登记为{policy.year}年度"
                 f"继续教育学分。",
            link=f"{reverse('cpe_course_list')}?year={policy.year}")
    return entries


def register_pending_before_close(policy: CEYear) -> None:
    """BEFORE_CLOSE hook (R-CE-8, R-CE-13): every passed, unregistered course of the year counts before it freezes."""
    learners = (Enrolment.objects.filter(course__year=policy, passed_at__isnull=False).values("archive_id"))
    archives = Archive.objects.filter(pk__in=learners, status=Archive.Status.ACTIVE, collected_at__isnull=False)
    for archive in archives.select_related("person").order_by("pk").iterator(chunk_size=500):
        online_credits_register(archive, policy, force=True)


# --- the outbound check (R-TRF-3) ----------------------------------------------------------------

def outbound_refusal(archive: Archive) -> str | None:
    """An OUTBOUND_CHECKS entry: refuse while a course of this CE year is learned but not registered (R-TRF-3).

    "本年度" are the years in their regular learning period today (R-CE-5): in January–March both the
    past year (due 31 March) and the new one. Make-up learning of older years does not hold a transfer.
    """
    today = timezone.localdate()
    years = list(CEYear.objects.filter(frozen_at__isnull=True, year__lte=today.year, deadline__gte=today)
                 .values_list("year", flat=True))
    enrolled = set(Enrolment.objects.filter(archive=archive, course__year__in=years)
                   .values_list("course_id", flat=True))
    if not enrolled:
        return None
    registered = set(CreditEntry.objects.filter(archive=archive, year__in=years, source_type=SourceType.COURSE)
                     .values_list("source_id", flat=True))
    return OUTBOUND_REFUSAL if any(str(course_id) not in registered for course_id in enrolled) else None


# --- selectors ----------------------------------------------------------------------------------

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
            archive=archive, course_id__in=[c.pk for c in courses]).annotate(done=Count("progress"))}
        registered = _registered_course_ids(archive, policy)
    for course in courses:
        enrolment = enrolments.get(course.pk)
        _describe(course, enrolment, enrolment.done if enrolment else 0, registered)
    return courses


def course_for_learner(archive: Archive | None, course: Course) -> Course:
    """One course with its lessons, each marked done for this person only, and their state and last test."""
    course.lesson_list = list(course.lessons.order_by("order"))
    course.lesson_count = len(course.lesson_list)
    enrolment = None
    if archive is not None:
        progress = Prefetch("progress", queryset=LessonProgress.objects.only("enrolment", "lesson"))
        enrolment = Enrolment.objects.filter(archive=archive, course=course).prefetch_related(progress).first()
    done_ids = {p.lesson_id for p in enrolment.progress.all()} if enrolment else set()
    for lesson in course.lesson_list:
        lesson.done = lesson.pk in done_ids
    course.next_lesson = next((lesson for lesson in course.lesson_list if not lesson.done), None)
    registered = _registered_course_ids(archive, course.year_id) if enrolment else set()
    course.last_attempt = enrolment.attempts.first() if enrolment else None
    return _describe(course, enrolment, len(done_ids), registered)


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
    """Registered figures (:func:`cpe.ledger.year_status`) plus the passed courses waiting: four queries."""
    registered = _registered_course_ids(archive, policy)
    return OnlineSummary(year_status(archive, policy), _pending(archive, policy, registered), registered)

