"""Online learning services: enrolling, lessons, the test, automatic registration (R-CE-6, 8, 12; R-TRF-3).

Lessons are learned as the browser learns them: heartbeats through:mod:`cpe.learning.services`,
on a replayed server clock (:func:`learn`), never by a click.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.validators import uscc_check_char
from cpe.learning import selectors, services
from cpe.ledger.rules import NOT_COLLECTED
from cpe.ledger.selectors import year_status
from cpe.ledger.services import ce_year_close, credit_register
from cpe.models import (
    Course,
    CreditEntry,
    Enrolment,
    IntegrityRecord,
    LearningRefusal,
    Lesson,
    LessonProgress,
    Question,
    TrainingInstitution,
)
from kjzx.api import DomainError
from kjzx.models import AuditEvent, Notification
from records.models import Archive
from tests.factories import fill_archive, make_accountant, make_active_archive, make_attachment

# "This year" is 2026 here, the last CE year of the test database (tests/conftest_dates.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_ce_calendar")]

BEIJING = dt.timezone(dt.timedelta(hours=8))
THIS_YEAR = 2026  # the test database's calendar (CEYear rows 2018–2026); time_machine moves it where needed


def on(year, month, day):
    return time_machine.travel(dt.datetime(year, month, day, 10, 0, tzinfo=BEIJING), tick=False)


def make_institution(name="山西会计继续教育网络学院", first17="52140000MJ0K7H3L2", filed=True):
    institution, _ = TrainingInstitution.objects.get_or_create(
        credit_code=first17 + uscc_check_char(first17),
        defaults={"name": name, "region_id": "140000", "filed": filed})
    return institution


def make_course(title="收入准则应用解析", *, year=THIS_YEAR, credits=24, kind="professional", lessons=2, questions=3,
                published=True, institution=None, lesson_seconds=60, test_size=10) -> Course:
    """A course with ``lessons`` text lessons of ``lesson_seconds`` each and a bank of ``questions`` questions
    whose right answer is always option 1."""
    course = Course.objects.create(
        institution=institution or make_institution(), title=title, subject_kind=kind, credits=Decimal(credits),
        hours=Decimal(credits) / 3, year_id=year, published=published, description=f"{title}的课程简介",
        test_size=test_size)
    for order in range(1, lessons + 1):
        Lesson.objects.create(course=course, order=order, title=f"第{order}讲", body=f"{title}第{order}讲正文",
                              duration_seconds=lesson_seconds)
    for order in range(1, questions + 1):
        Question.objects.create(course=course, order=order, text=f"第{order}题（ ）", choices=["甲", "乙", "丙"],
                                answer=1)
    return course


def learn(person, lesson, *, start=None) -> services.Standing:
    """Read a text lesson (or watch a video one to its end) as the page would: a session, then a heartbeat
    every two intervals until the server has credited the lesson's time — on a replayed server clock."""
    now = start or timezone.now()
    standing = services.session_start(person=person, lesson=lesson, playing=True, now=now)
    step = lesson.media_seconds if lesson.kind == "video" else Decimal(30)
    position = Decimal(0)
    while not standing.completed:
        now += dt.timedelta(seconds=float(step))
        position = min(position + step, lesson.media_seconds or Decimal(0))
        standing = services.heartbeat(person=person, lesson=lesson, now=now, beat=services.Beat(
            key=standing.session.key, seq=standing.session.seq + 1, nonce=standing.session.nonce,
            position=position, rate=Decimal(1), playing=True))
    return standing


def finish_lessons(person, course):
    for lesson in course.lessons.order_by("order"):
        learn(person, lesson)
        services.lesson_complete(person=person, lesson=lesson)


def submit(person, course, answers) -> services.TestResult:
    """Open the test (a paper drawn from the bank) and submit ``answers`` in the paper's order."""
    paper = services.test_paper(person=person, course=course)
    return services.test_submit(person=person, course=course, answers=answers, attempt=paper.pk)


def pass_course(person, course, answers=None) -> services.TestResult:
    """Enrol, learn every lesson for its time, answer all right (or ``answers``)."""
    services.course_enrol(person=person, course=course)
    finish_lessons(person, course)
    return submit(person, course, answers or [1] * min(course.questions.count(), course.test_size))


def archive_of(person) -> Archive:
    return Archive.objects.get(person=person)


@pytest.fixture
def learner(accountant):
    make_active_archive(accountant)
    return accountant


# --- enrolling (R-CE-12, R-CE-6) -----------------------------------------------------------------

def test_enrol_is_refused_before_the_collection_is_approved(accountant):
    """R-CE-12: no archive, or one still being collected: a clear refusal, nothing written."""
    course = make_course()
    with pytest.raises(DomainError) as caught:
        services.course_enrol(person=accountant, course=course)
    assert "信息采集" in caught.value.message
    fill_archive(accountant)
    with pytest.raises(DomainError) as caught:
        services.course_enrol(person=accountant, course=course)
    assert caught.value.message == NOT_COLLECTED and not Enrolment.objects.exists()


def test_enrolling_twice_returns_the_same_enrolment(learner):
    course = make_course()
    first = services.course_enrol(person=learner, course=course)
    assert services.course_enrol(person=learner, course=course) == first
    assert Enrolment.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="cpe.course_enrolled").count() == 1


def test_an_unpublished_course_or_an_unfiled_institution_cannot_be_learned(learner):
    """R-CE-14: only filed, published institutions train."""
    hidden = make_course("未发布课程", published=False)
    elsewhere = make_institution("某未备案机构", "91140100MA0K7H3L2", filed=False)
    unfiled = make_course("未备案机构课程", institution=elsewhere)
    for course in (hidden, unfiled):
        with pytest.raises(DomainError) as caught:
            services.course_enrol(person=learner, course=course)
        assert "备案" in caught.value.message
    assert not Enrolment.objects.exists()


def test_make_up_years_are_open_until_their_window_closes(learner):
    """R-CE-6: 2022 can be made up on 2024-06-01, not on 2025-01-02 ("今后不再组织补学")."""
    course = make_course("2022年度补学课程", year=2022)
    with on(2024, 6, 1):
        assert services.course_enrol(person=learner, course=course).course == course
        assert selectors.is_makeup(course.year)
    other = make_course("2022年度另一门课程", year=2022)
    with on(2025, 1, 2), pytest.raises(DomainError) as caught:
        services.course_enrol(person=learner, course=other)
    assert "2022年度补学已于2024-12-31截止，今后不再组织补学" in caught.value.message


def test_a_year_without_make_up_closes_on_its_deadline(learner):
    """R-CE-5, R-CE-6: 2024 is learnable until 2025-03-31 and not on 2025-04-01 (no make-up after 2023)."""
    first, second = make_course("2024年度课程一", year=2024), make_course("2024年度课程二", year=2024)
    with on(2025, 3, 31):
        services.course_enrol(person=learner, course=first)
    with on(2025, 4, 1):
        with pytest.raises(DomainError) as caught:
            services.course_enrol(person=learner, course=second)
        assert "2024年度继续教育已于2025-03-31截止" in caught.value.message
        with pytest.raises(DomainError):  # nor is an enrolled course learned on after the window
            services.lesson_complete(person=learner, lesson=first.lessons.first())


def test_a_frozen_year_cannot_be_learned(learner):
    """R-CE-13: once a year is in the credit-information file, nothing is learned for it."""
    course = make_course()
    ce_year_close(year=THIS_YEAR)
    with pytest.raises(DomainError) as caught:
        services.course_enrol(person=learner, course=course)
    assert "信用信息档案" in caught.value.message


def test_the_years_open_for_learning(learner):
    """R-CE-6: make-up years are listed only while their window is open."""
    with on(2024, 6, 1):
        years = selectors.learning_years()
        assert [y.year for y in years.regular] == [2024] and [y.year for y in years.makeup] == [2023, 2022, 2021,
                                                                                             2020]
    with on(2025, 2, 1):
        years = selectors.learning_years()
        assert [y.year for y in years.regular] == [2025, 2024] and years.makeup == []


# --- lessons and the test (R-CE-8) ---------------------------------------------------------------

def test_a_lesson_needs_enrolment_then_its_time_and_is_recorded_once(learner):
    """R-CE-8: 学完本节 is refused before enrolment, then until the server credited the lesson's
    time (with the time still needed, logged); once learned, doing it again changes nothing."""
    course = make_course()
    lesson = course.lessons.first()
    with pytest.raises(DomainError) as caught:
        services.lesson_complete(person=learner, lesson=lesson)
    assert "请先报名" in caught.value.message
    services.course_enrol(person=learner, course=course)
    with pytest.raises(services.LearningRefused) as caught:
        services.lesson_complete(person=learner, lesson=lesson)
    assert caught.value.kind == "too_early" and "还需学习57秒" in caught.value.message
    assert LearningRefusal.objects.get().kind == "too_early"
    learn(learner, lesson)
    first = services.lesson_complete(person=learner, lesson=lesson)
    assert first.completed_at is not None and first.credited_seconds >= 57
    assert services.lesson_complete(person=learner, lesson=lesson) == first
    assert LessonProgress.objects.count() == 1


def test_the_test_needs_every_lesson(learner):
    """R-CE-8: no paper is drawn and nothing is scored before every lesson is learned for its time."""
    course = make_course(lessons=3)
    services.course_enrol(person=learner, course=course)
    learn(learner, course.lessons.first())
    for attempt in (lambda: services.test_paper(person=learner, course=course),
                    lambda: services.test_submit(person=learner, course=course, answers=[1, 1, 1])):
        with pytest.raises(DomainError) as caught:
            attempt()
        assert "学完全部章节" in caught.value.message
    assert not course.enrolments.get().attempts.exists()


def test_pass_mark_is_60_and_a_failed_test_can_be_retaken(learner):
    """R-CE-8: 1 of 3 right is 33 (not passed); 2 of 3 is 67 (passed); a later 100 is the best score."""
    course = make_course()
    services.course_enrol(person=learner, course=course)
    finish_lessons(learner, course)
    failed = submit(learner, course, [1, 0, 0])
    assert (failed.attempt.score, failed.attempt.passed, failed.state) == (33, False, selectors.State.LEARNING)
    assert failed.enrolment.passed_at is None and len(failed.wrong) == 2
    passed = submit(learner, course, [1, 1, 0])
    assert (passed.attempt.score, passed.attempt.passed) == (67, True)
    first_pass = Enrolment.objects.get().passed_at
    assert first_pass is not None
    again = submit(learner, course, [1, 1, 1])
    enrolment = Enrolment.objects.get()
    assert again.attempt.score == 100 and enrolment.best_score == 100 and enrolment.passed_at == first_pass
    assert enrolment.attempts.count() == 3 and again.wrong == []


def test_bad_answers_are_refused_clearly_and_nothing_is_written(learner):
    course = make_course()
    services.course_enrol(person=learner, course=course)
    finish_lessons(learner, course)
    paper = services.test_paper(person=learner, course=course)
    for answers, expected in (([1, None, 7], "第2、3题"), ("1,1,1", "答案列表"), ([1, 1, 1, 1], "多于题目数"),
                              ([True, 1, 1], "第1题")):
        with pytest.raises(DomainError) as caught:
            services.test_submit(person=learner, course=course, answers=answers, attempt=paper.pk)
        assert expected in caught.value.message
    assert not Enrolment.objects.get().attempts.filter(submitted_at__isnull=False).exists()
    result = services.test_submit(person=learner, course=course, answers=["1", "1", "1"], attempt=paper.pk)
    assert result.attempt.score == 100


# --- automatic registration (R-CE-8) --------------------------------------------------------------

def test_online_credits_wait_below_90_then_all_register_with_a_notification(learner):
    """R-CE-8: 78 passed → 已学待登记, nothing in the ledger; the pass that makes 90 registers all five."""
    courses = [make_course(f"课程{n}", credits=c, kind=k) for n, (c, k) in enumerate(
        [(24, "professional"), (24, "professional"), (18, "professional"), (12, "general")])]
    for course in courses:
        result = pass_course(learner, course)
        assert result.state == selectors.State.PENDING and not result.registered
    archive = archive_of(learner)
    assert not CreditEntry.objects.exists() and year_status(archive, THIS_YEAR).total == 0
    summary = selectors.online_summary(archive, courses[0].year)
    assert summary.pending_credits == 78 and summary.missing == 12
    assert not Notification.objects.filter(user=learner, title__contains="网络学习学分").exists()

    last = pass_course(learner, make_course("课程末", credits=12, kind="general"))
    assert last.registered and len(last.newly_registered) == 5
    status = year_status(archive, THIS_YEAR)
    assert (status.total, status.professional, status.general) == (90, 66, 24) and status.completed
    assert set(CreditEntry.objects.values_list("form", "source_type").distinct()) == {("online", "course")}
    note = Notification.objects.get(user=learner, title=f"{THIS_YEAR}年度网络学习学分已登记")
    assert "5门网络课程共90" in note.body
    assert selectors.online_summary(archive, courses[0].year).pending == []


def test_once_the_year_has_90_each_new_pass_registers_at_once(learner):
    """R-CE-8: credits from another form count towards the 90."""
    archive = archive_of(learner)
    credit_register(archive=archive, year=THIS_YEAR, subject_kind="professional", form="exam", credits=90,
                    source_type="exam_file", source_id="exam-1", source_label="考试合格")
    result = pass_course(learner, make_course(credits=6, kind="general"))
    assert result.registered and year_status(archive, THIS_YEAR).total == 96


def test_a_course_registers_once_even_if_its_test_is_passed_again(learner):
    archive = archive_of(learner)
    credit_register(archive=archive, year=THIS_YEAR, subject_kind="professional", form="exam", credits=90,
                    source_type="exam_file", source_id="exam-1", source_label="考试合格")
    course = make_course(credits=12)
    pass_course(learner, course)
    again = submit(learner, course, [1, 1, 1])
    assert again.registered and again.newly_registered == []
    assert CreditEntry.objects.filter(source_type="course").count() == 1
    assert year_status(archive, THIS_YEAR).total == 102


def test_pending_online_credits_are_registered_before_the_year_freezes(learner, other_accountant):
    """R-CE-8, R-CE-13: what was earned counts in the credit-information file, even below 90."""
    make_active_archive(other_accountant, "140521")
    course = make_course(credits=24)
    pass_course(learner, course)
    services.course_enrol(person=other_accountant, course=course)  # enrolled, never passed: nothing to register
    assert not CreditEntry.objects.exists()
    ce_year_close(year=THIS_YEAR)
    entry = CreditEntry.objects.get()
    assert entry.archive == archive_of(learner) and entry.form == "online" and entry.credits == 24
    record = IntegrityRecord.objects.get(archive=archive_of(learner), year=THIS_YEAR)
    assert record.total == 24 and not record.completed
    assert Notification.objects.filter(user=learner, title__contains="网络学习学分已登记").count() == 1


# --- the outbound check (R-TRF-3) -----------------------------------------------------------------

def outbound(person):
    from transfers.services import transfer_open

    proof = make_attachment(person, "employment_proof")
    return transfer_open(person=person, type="outbound", to_province="11", to_unit="北京某会计师事务所",
                         attachments=[proof.pk])


def test_an_outbound_transfer_waits_for_this_years_registration(learner):
    """R-TRF-3: enrolled in this year's course, credits not registered yet → not now; registered → fine."""
    course = make_course(credits=90)
    services.course_enrol(person=learner, course=course)
    with pytest.raises(DomainError) as caught:
        outbound(learner)
    assert selectors.OUTBOUND_REFUSAL in caught.value.message
    finish_lessons(learner, course)
    submit(learner, course, [1, 1, 1])  # 90: registered at once
    assert outbound(learner).type == "outbound"


def test_passed_but_pending_credits_also_hold_an_outbound_transfer(learner):
    """R-TRF-3: 已学待登记 is not yet confirmed."""
    pass_course(learner, make_course(credits=24))
    with pytest.raises(DomainError) as caught:
        outbound(learner)
    assert "请待本年度学分登记确认后再申请跨省调出" in caught.value.message


def test_no_enrolment_or_an_old_make_up_year_does_not_hold_a_transfer(learner):
    """R-TRF-3 concerns this year's continuing education only."""
    other = make_accountant(address="140521", sequence=305, name="王五", mobile="13700000000")
    make_active_archive(other, "140521")
    assert outbound(other).type == "outbound"
    course = make_course("2022年度补学课程", year=2022)
    with on(2024, 6, 1):
        services.course_enrol(person=learner, course=course)
        assert selectors.outbound_refusal(archive_of(learner)) is None


def test_in_the_first_quarter_last_years_learning_still_counts(learner):
    """R-TRF-3, R-CE-5: in February 2026 the 2025 year is still being learned (due 2026-03-31)."""
    course = make_course("2025年度课程", year=2025)
    with on(2026, 2, 1):
        services.course_enrol(person=learner, course=course)
        assert selectors.outbound_refusal(archive_of(learner)) == selectors.OUTBOUND_REFUSAL
    with on(2026, 4, 1):
        assert selectors.outbound_refusal(archive_of(learner)) is None


def test_the_demo_loads_twice_with_the_numbers_it_promises(learner, settings):
    """The demo institution's courses for this year: ≥ 8, well past 90 credits, ≥ 60 professional, each
    opening with a generated video; 陈杰's way from zero to 90 takes hours of lessons, not seconds, unless
    KJZX_LEARNING_TIME_SCALE shortens it."""
    import io

    from cpe.learning import demo as demo_learning

    class Out(io.StringIO):
        def write(self, text):
            return super().write(text + "\n")

    demo_learning.load(Out())
    lessons = Lesson.objects.count()
    second = Out()
    demo_learning.load(second)
    assert Lesson.objects.count() == lessons
    institution = TrainingInstitution.objects.get(name=demo_learning.INSTITUTION)
    courses = list(Course.objects.filter(institution=institution, year_id=THIS_YEAR, published=True))
    assert len(courses) >= 8 and sum(c.credits for c in courses) >= 110
    assert sum(c.credits for c in courses if c.subject_kind == "professional") >= 60
    assert all(2 <= c.lessons.count() <= 3 and c.questions.count() == 3 for c in courses)
    assert Course.objects.filter(institution=institution, year_id=THIS_YEAR - 1).count() == 2
    assert "至少需学习" in second.getvalue() and "小时" in second.getvalue()
    assert all(c.lessons.order_by("order").first().kind == "video" for c in courses)
    assert Lesson.objects.filter(course__in=courses, kind="pdf").count() == 1
    policy = courses[0].year
    hours, chosen = demo_learning.fastest_year(courses, policy)
    assert hours >= 4 * 3600 and sum(c.credits for c in chosen) >= 90
    settings.KJZX_LEARNING_TIME_SCALE = "0.05"
    assert demo_learning.fastest_year(courses, policy)[0] <= hours * 0.05 + 60
