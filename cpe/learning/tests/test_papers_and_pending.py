"""The end-of-course test drawn from the bank, and 已学待登记 wherever the year is shown (R-CE-8, R-CE-3)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cpe.learning import services
from cpe.learning.tests.test_learning import finish_lessons, make_course, pass_course, submit
from cpe.ledger.selectors import year_status
from cpe.ledger.services import credit_register
from cpe.models import Question, TestAttempt
from kjzx.api import DomainError
from records.models import Archive
from tests.factories import make_active_archive

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_ce_calendar")]  # courses of 2026
YEAR = 2026


@pytest.fixture
def learner(accountant):
    make_active_archive(accountant)
    return accountant


def ready(person, course):
    services.course_enrol(person=person, course=course)
    finish_lessons(person, course)


# --- the paper ---------------------------------------------------------------------------------------

def test_each_paper_is_a_random_sample_of_the_bank_kept_on_the_server(learner):
    """test_size questions of the bank, never a retired one; the same paper until it is submitted."""
    course = make_course(questions=12, test_size=5)
    Question.objects.filter(course=course, order__in=[1, 2]).update(retired=True)
    retired = set(Question.objects.filter(retired=True).values_list("pk", flat=True))
    ready(learner, course)
    papers = set()
    for _ in range(20):
        paper = services.test_paper(person=learner, course=course)
        assert services.test_paper(person=learner, course=course) == paper  # a reload draws nothing new
        assert len(paper.questions) == len(set(paper.questions)) == 5 and not retired & set(paper.questions)
        papers.add(tuple(sorted(paper.questions)))
        services.test_submit(person=learner, course=course, answers=[1] * 5, attempt=paper.pk)
    assert len(papers) > 1  # 792 possible papers: twenty equal draws would not be random


def test_answers_are_scored_against_the_paper_that_was_drawn(learner):
    """a paper is answered once, by its own id; another id, or a submitted one, is refused."""
    course = make_course(questions=3)
    ready(learner, course)
    paper = services.test_paper(person=learner, course=course)
    for attempt in (paper.pk + 1000, "abc"):
        with pytest.raises(DomainError) as caught:
            services.test_submit(person=learner, course=course, answers=[1, 1, 1], attempt=attempt)
        assert "已提交或已失效" in caught.value.message
    result = services.test_submit(person=learner, course=course, answers=[0, 1, 1], attempt=paper.pk)
    assert result.wrong == [Question.objects.get(pk=paper.questions[0])] and result.attempt.score == 67
    assert TestAttempt.objects.get(pk=paper.pk).wrong == [paper.questions[0]]
    with pytest.raises(DomainError):
        services.test_submit(person=learner, course=course, answers=[1, 1, 1], attempt=paper.pk)


def test_a_failed_attempt_names_the_wrong_answers_but_never_the_right_ones(client, learner):
    """after each attempt the page lists which answers were wrong, and the option chosen."""
    course = make_course(questions=3)
    ready(learner, course)
    submit(learner, course, [0, 1, 2])
    client.force_login(learner)
    html = client.get(reverse("cpe_course_test", args=[course.pk])).content.decode()
    assert "答错2题" in html and "您的答案：A. 甲（错误）" in html and "您的答案：C. 丙（错误）" in html
    assert "正确答案" not in html and "B. 乙（错误）" not in html


# --- 已学待登记 wherever the year is shown -----------------------------------------------------------------

def test_pending_online_credits_appear_in_the_year_api_and_on_the_overview(client, learner):
    """R-CE-8: 0/90 registered while six credits wait: the API, the overview and the year page say so."""
    pass_course(learner, make_course("职业道德", credits=6, kind="general"))
    data = APIClient()
    data.force_authenticate(learner)
    body = data.get(f"/api/v1/me/cpe/{YEAR}/").json()
    assert (body["total"], body["pending_online"], body["pending_online_professional"]) == ("0.0", "6.0", "0.0")
    client.force_login(learner)
    for url in (reverse("person_cpe"), reverse("person_cpe_year", args=[YEAR])):
        html = client.get(url).content.decode()
        assert "已学待登记 6.0 学分" in html, url


def test_ninety_with_forty_professional_never_draws_a_full_bar(client, learner):
    """R-CE-3: 90 total but 40 professional counts 70 towards completing the year; both
    requirements are shown."""
    archive = Archive.objects.get(person=learner)
    credit_register(archive=archive, year=YEAR, subject_kind="professional", form="exam", credits=40,
                    source_type="province", source_id="p", source_label="专业")
    credit_register(archive=archive, year=YEAR, subject_kind="general", form="exam", credits=50,
                    source_type="province", source_id="g", source_label="公需")
    status = year_status(archive, YEAR)
    assert (status.total, status.counted, status.progress_percent, status.completed) == (90, 70, 77, False)
    client.force_login(learner)
    html = client.get(reverse("person_cpe")).content.decode()
    assert f'<progress id="progress-{YEAR}" class="cpe-progress" max="100" value="77">' in html
    assert "总学分 90.0 / 90" in html and "专业科目 40.0 / 60" in html and "计入完成的学分 70.0 / 90" in html
    credit_register(archive=archive, year=YEAR, subject_kind="professional", form="exam", credits=20,
                    source_type="province", source_id="p2", source_label="专业")
    assert year_status(archive, YEAR).progress_percent == 100 and year_status(archive, YEAR).completed
