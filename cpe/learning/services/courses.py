"""Online learning (网络学习): enrolling, the end-of-course test, automatic registration.

R-CE-2 (公需 / 专业 courses), R-CE-6 (make-up window), R-CE-7 (online is the default form),
R-CE-8 (automatic registration), R-CE-12 (collection first). A person's way through a course::

    course_enrol ──▶ every lesson learned for its time (:mod:`cpe.learning.services.progress`)
                 ──▶ test_paper (questions drawn from the bank) ──▶ test_submit (retries: a new paper)
                                                                    └─ first pass: enrolment.passed_at

A course belongs to one CE year and can be learned while that year is open for learning
(:func:`cpe.learning.selectors.learning_refusal`): from 1 January of the year to its deadline
(R-CE-5: 2024 until 2025-03-31), or afterwards inside its make-up window (R-CE-6: 2020–2023 until
2024-12-31, the "继续教育补学入口"), never in a frozen year (R-CE-13). The same check guards enrolling,
every heartbeat, completing a lesson and the test, so nothing is learned for a year once its window has closed.

The test. Each paper is a random sample of the course's bank (``Course.test_size`` questions, all of them
when the bank is smaller), drawn by the server and kept on it (``TestAttempt.questions``): the answers
are scored against exactly that paper, so they cannot be matched to other questions, and a retry draws
a new paper. The result says which questions were answered wrongly (not their right answers).

Automatic registration (R-CE-8). The seeds say "学满90学分，学分由系统自动登记": we read it as "once
the person's year adds up to the year's required total, the system registers the online credits".
So a passed course waits as 已学待登记 until (credits registered for the year, by any form, + every
passed-but-unregistered online course of the year) >= ``CEYear.required_total``; then all of them
are registered at once through :func:`cpe.ledger.services.credits_register` (form ``online``, source
``course:<pk>``, so a course registers once even if its test is passed again), the person is told
by a notification, and from then on each new pass registers at once. Only the total is compared
(not the professional share): R-CE-3's 60 professional credits is what *completes* a year, not a
condition for registering what was earned. Before a year freezes, :func:`register_pending_before_close`
(the ledger's ``BEFORE_CLOSE`` hook) registers every pending pass of that year in one batch, so
earned credits always count in the credit-information file.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cpe.learning.selectors import (
    State,
    is_makeup,
    learning_refusal,
    online_summary,
    pending_enrolments,
)
from cpe.ledger.rules import NOT_COLLECTED, collection_approved
from cpe.ledger.selectors import ZERO, year_status
from cpe.ledger.services import CreditRow, credits_register
from cpe.models import (
    CEYear,
    Course,
    CreditEntry,
    CreditForm,
    Enrolment,
    Lesson,
    Question,
    SourceType,
    TestAttempt,
)
from kjzx.api import DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.notifications import notification_send
from records.models import Archive

register_event_labels({
    "cpe.course_enrolled": "报名网络课程",
    "cpe.test_paper_drawn": "抽取课程测试试卷",
    "cpe.test_submitted": "提交课程测试",
    "cpe.online_credits_registered": "网络学习学分自动登记",
})
NO_QUESTIONS = "本课程尚未设置测试题，请联系培训机构。"
LESSONS_FIRST = "请先学完全部章节（每节学满规定时长），再参加课程测试。"

CLOSE_BATCH = 5000  # passed courses per ledger batch when a year closes


def _collected_archive(person, *, lock: bool = False) -> Archive:
    queryset = Archive.objects.select_for_update() if lock else Archive.objects
    archive = queryset.filter(person=person).first()
    if not collection_approved(archive):
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
    wrong: list[Question] = dataclasses.field(default_factory=list)  # answered wrongly, in the paper's order

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


def _lessons_learned(enrolment: Enrolment) -> bool:
    lessons = Lesson.objects.filter(course_id=enrolment.course_id).count()
    return enrolment.progress.filter(completed_at__isnull=False).count() >= lessons


def paper_questions(attempt: TestAttempt) -> list[Question] | None:
    """The paper's questions in its order; None when one has since been deleted (the paper is void)."""
    found = Question.objects.in_bulk(attempt.questions)
    if any(pk not in found for pk in attempt.questions):
        return None
    return [found[pk] for pk in attempt.questions]


def _draw(enrolment: Enrolment, person) -> TestAttempt:
    bank = list(Question.objects.filter(course_id=enrolment.course_id, retired=False).values_list("pk", flat=True))
    if not bank:
        raise DomainError({"answers": [NO_QUESTIONS]})
    drawn = secrets.SystemRandom().sample(bank, min(enrolment.course.test_size, len(bank)))
    attempt = TestAttempt.objects.create(enrolment=enrolment, questions=drawn)
    record_event(enrolment, "cpe.test_paper_drawn", by=person, extra={"attempt": attempt.pk, "questions": drawn})
    return attempt


@transaction.atomic
def test_paper(*, person, course: Course) -> TestAttempt:
    """The person's open paper of the course's test (课程测试试卷), drawn from the bank if there is none.

    Only once every lesson is learned (R-CE-8). The same paper comes back until it is submitted, so a
    reload neither changes the questions nor lets anyone pick an easier sample.
    """
    archive = _collected_archive(person, lock=True)  # lock: two tabs must not draw two papers at once
    enrolment = _enrolment(archive, course)
    _check_learnable(enrolment.course)
    if not _lessons_learned(enrolment):
        raise DomainError({"answers": [LESSONS_FIRST]})
    attempt = enrolment.attempts.filter(submitted_at__isnull=True).first()
    if attempt is not None and paper_questions(attempt) is not None:
        return attempt
    if attempt is not None:  # a question of it was deleted since: the paper is void, a new one is drawn
        attempt.delete()
    return _draw(enrolment, person)


@transaction.atomic
def test_submit(*, person, course: Course, answers, attempt: int | None = None) -> TestResult:
    """Submit the open paper of the end-of-course test (课程测试): one chosen option per question of that
    paper, in its order; retries allowed, each on a new paper (R-CE-8).

    ``attempt`` (the paper's id) is checked when given: a paper already submitted or someone else's is
    refused. The first pass sets ``passed_at``; the online credits then register if the year adds up.
    """
    archive = _collected_archive(person, lock=True)  # lock: one person's passes settle one at a time
    enrolment = _enrolment(archive, course, lock=True)
    course = enrolment.course
    _check_learnable(course)
    if not _lessons_learned(enrolment):
        raise DomainError({"answers": [LESSONS_FIRST]})
    paper = enrolment.attempts.select_for_update().filter(submitted_at__isnull=True).first()
    if paper is None or (attempt is not None and str(paper.pk) != str(attempt)):
        raise DomainError({"attempt": ["该试卷已提交或已失效，请重新打开课程测试作答。"]})
    questions = paper_questions(paper)
    if not questions:
        raise DomainError({"attempt": ["试卷中的题目已被培训机构调整，请重新打开课程测试作答。"]})
    chosen = _parse_answers(answers, questions)
    wrong = [question for question, answer in zip(questions, chosen, strict=True) if question.answer != answer]
    correct = len(questions) - len(wrong)
    paper.score = score_of(correct, len(questions))
    paper.passed = paper.score >= course.pass_mark
    paper.answers, paper.wrong, paper.submitted_at = chosen, [q.pk for q in wrong], timezone.now()
    paper.save(update_fields=["score", "passed", "answers", "wrong", "submitted_at"])
    _record_score(enrolment, paper)
    record_event(enrolment, "cpe.test_submitted", by=person, extra={
        "course": course.pk, "attempt": paper.pk, "score": paper.score, "passed": paper.passed,
        "wrong": paper.wrong})
    entries = online_credits_register(archive, course.year) if paper.passed else []
    summary = online_summary(archive, course.year)
    state = (State.REGISTERED if str(course.pk) in summary.registered_ids
             else State.PENDING if enrolment.passed_at else State.LEARNING)
    return TestResult(paper, enrolment, correct, len(questions), state, entries, summary.missing, wrong)


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

def _course_row(enrolment: Enrolment) -> CreditRow:
    course = enrolment.course
    return CreditRow(enrolment.archive_id, course.credits, str(course.pk), course.subject_kind,
                     f"网络课程：{course.title}（{course.institution.name}）")


def _notify(archive: Archive, policy: CEYear, courses: int, credits: Decimal) -> None:
    if archive.person_id:
        notification_send(
            user=archive.person, title=f"{policy.year}年度网络学习学分已登记",
            body=f"您已学完并通过测试的{courses}门网络课程共{credits}学分，已由系统自动登记为{policy.year}年度"
                 f"继续教育学分。",
            link=f"{reverse('cpe_course_list')}?year={policy.year}")


def online_credits_register(archive: Archive, policy: CEYear) -> list[CreditEntry]:
    """Register the year's passed online courses once the year adds up to the required total (R-CE-8).

    Each course is one ledger entry (source ``course:<pk>``); the person gets one notification for the lot.
    """
    pending = pending_enrolments(archive, policy)
    if not pending:
        return []
    waiting = sum((enrolment.course.credits for enrolment in pending), ZERO)
    if year_status(archive, policy).total + waiting < policy.required_total:
        return []
    registration = credits_register(
        [_course_row(enrolment) for enrolment in pending], year=policy.year, form=CreditForm.ONLINE,
        source_type=SourceType.COURSE, strict=True, audit_target=archive, event="cpe.online_credits_registered",
        audit_extra={"courses": [e.course_id for e in pending], "forced": False})
    _notify(archive, policy, len(pending), waiting)
    return registration.entries


def register_pending_before_close(policy: CEYear) -> None:
    """The ledger's BEFORE_CLOSE hook (R-CE-8, R-CE-13): every passed course of the year counts before it
    freezes, whatever the total — in batches over the province; courses registered already come back as
    repeats, people whose collection is not approved as such (the ledger decides both)."""
    passed = (Enrolment.objects.filter(course__year=policy, passed_at__isnull=False)
              .select_related("course__institution").order_by("archive_id", "passed_at", "id"))
    batch: list[CreditRow] = []
    for enrolment in passed.iterator(chunk_size=CLOSE_BATCH):
        batch.append(_course_row(enrolment))
        if len(batch) >= CLOSE_BATCH:
            _register_forced(batch, policy)
            batch = []
    _register_forced(batch, policy)


def _register_forced(rows: list[CreditRow], policy: CEYear) -> None:
    if not rows:
        return
    registration = credits_register(rows, year=policy.year, form=CreditForm.ONLINE, source_type=SourceType.COURSE,
                                    audit_target=policy, event="cpe.online_credits_registered",
                                    audit_extra={"forced": True})
    per_person: dict[int, list[CreditEntry]] = defaultdict(list)
    for entry in registration.entries:
        per_person[entry.archive_id].append(entry)
    for archive in Archive.objects.filter(pk__in=per_person).select_related("person"):
        entries = per_person[archive.pk]
        _notify(archive, policy, len(entries), sum((entry.credits for entry in entries), ZERO))
