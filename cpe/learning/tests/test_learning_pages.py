"""Online-learning pages and API: catalogue, course, lesson, test (R-CE-2, R-CE-6, R-CE-8, R-CE-12, R-ACL-2)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from cpe.learning import services
from cpe.learning.tests.test_learning import finish_lessons, learn, make_course, make_institution, on, pass_course
from cpe.ledger.rules import NOT_COLLECTED
from cpe.models import CreditEntry, Enrolment, LearningRefusal, TestAttempt
from tests.factories import fill_archive, login_staff, make_active_archive

# "This year" is 2026 here, the last CE year of the test database (tests/conftest_dates.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_ce_calendar")]
API = "/api/v1"


@pytest.fixture
def learner(client, accountant):
    make_active_archive(accountant)
    client.force_login(accountant)
    return accountant


def page(client, name, *args, **params):
    response = client.get(reverse(name, args=args), params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the catalogue --------------------------------------------------------------------------------

def test_the_catalogue_lists_offered_courses_with_credits_hours_and_institution(client, learner):
    """R-CE-2, R-CE-14: published courses of filed institutions only, with what each is worth."""
    make_course("收入准则应用解析", credits=24)
    make_course("职业道德与诚信建设", credits=12, kind="general")
    make_course("尚未发布的课程", published=False)
    make_course("未备案机构的课程", institution=make_institution("某未备案机构", "91140100MA0K7H3L2", filed=False))
    html = page(client, "cpe_course_list")
    assert "收入准则应用解析" in html and "职业道德与诚信建设" in html
    assert "尚未发布的课程" not in html and "未备案机构的课程" not in html
    assert "24学分" in html and "8学时" in html and "山西会计继续教育网络学院" in html
    assert "专业科目" in html and "公需科目" in html and "未报名" in html


def test_the_catalogue_filters_by_subject_kind_and_year(client, learner):
    make_course("收入准则应用解析")
    make_course("职业道德与诚信建设", kind="general")
    make_course("2025年度的课程", year=2025)
    html = page(client, "cpe_course_list", kind="general")
    assert "职业道德与诚信建设" in html and "收入准则应用解析" not in html
    with on(2026, 2, 1):  # 2025 is still open until 2026-03-31 (R-CE-5)
        client.force_login(learner)
        html = page(client, "cpe_course_list", year=2025)
        assert "2025年度的课程" in html and "收入准则应用解析" not in html
    client.force_login(learner)
    html = page(client, "cpe_course_list", year=2025)  # closed now: the newest open year instead
    assert "2025年度的课程" not in html and "收入准则应用解析" in html


def test_make_up_years_appear_under_the_make_up_entry_only_while_open(client, learner):
    """R-CE-6: "继续教育补学入口" lists 2020–2023 until 2024-12-31, then nothing."""
    make_course("2022年度补学课程", year=2022)
    with on(2024, 6, 1):
        client.force_login(learner)
        html = page(client, "cpe_course_list")
        assert "继续教育补学入口" in html and "2022年度补学" in html and "补学截止 2024-12-31" in html
        html = page(client, "cpe_course_list", year=2022)
        assert "2022年度补学课程" in html and "今后不再组织补学" in html
    with on(2025, 1, 2):
        client.force_login(learner)
        html = page(client, "cpe_course_list", year=2022)
        assert "继续教育补学入口" not in html and "2022年度补学课程" not in html


def test_the_catalogue_shows_the_persons_own_state_and_pending_credits(client, learner, other_accountant):
    """R-CE-8: a passed course below 90 is 已学待登记; another person's enrolment never shows (R-ACL-2)."""
    passed, started, theirs = make_course("课程甲"), make_course("课程乙"), make_course("课程丙")
    pass_course(learner, passed)
    services.course_enrol(person=learner, course=started)
    make_active_archive(other_accountant, "140521")
    pass_course(other_accountant, theirs)
    html = page(client, "cpe_course_list")
    assert html.count("已学待登记") >= 2 and "学习中" in html and "已学0/2节" in html
    assert "还差66学分" in html
    assert html.count("未报名") == 1  # 课程丙: the other person's pass is theirs alone


def test_the_catalogue_says_collection_comes_first(client, accountant):
    """R-CE-12: before the collection is approved the person is told so."""
    fill_archive(accountant)
    client.force_login(accountant)
    make_course()
    assert NOT_COLLECTED in page(client, "cpe_course_list")


def catalogue_queries(client) -> int:
    page(client, "cpe_course_list")  # warm the session and the content types
    with CaptureQueriesContext(connection) as queries:
        page(client, "cpe_course_list")
    return len(queries)


def test_the_catalogue_is_a_fixed_number_of_queries(client, learner):
    """No per-row queries: the same count for 3 courses as for 20, the person's enrolments included."""
    courses = [make_course(f"课程{n:02d}", lessons=2) for n in range(3)]
    for course in courses:
        services.course_enrol(person=learner, course=course)
    pass_course(learner, courses[0])
    few = catalogue_queries(client)
    more = [make_course(f"课程{n:02d}", lessons=3) for n in range(3, 20)]
    for course in more[:5]:
        services.course_enrol(person=learner, course=course)
    pass_course(learner, more[0])
    assert catalogue_queries(client) == few
    assert few <= 16  # session, user, messages, years, archive, courses, enrolments, registered, summary, …


# --- course, lesson, test -------------------------------------------------------------------------

def test_a_course_is_learned_lesson_by_lesson_through_the_pages(client, learner):
    """Enrol; 学完本节 early is refused with the time still needed; learned for its time, on to the
    next lesson, then to the test; progress, learning time and ticks on the course page (R-CE-8)."""
    course = make_course(lessons=2)
    first, second = course.lessons.order_by("order")
    html = page(client, "cpe_course_detail", course.pk)
    assert "报名学习" in html and "课程简介" in html and "第1讲" in html and "已学完" not in html
    response = client.post(reverse("cpe_course_enrol", args=[course.pk]))
    assert response.status_code == 302 and Enrolment.objects.filter(course=course).exists()
    html = page(client, "cpe_lesson_detail", first.pk)
    assert "学完本节" in html and "第1讲正文" in html and "需学满 0:57" in html
    html = client.post(reverse("cpe_lesson_complete", args=[first.pk]), follow=True).content.decode()
    assert "本节需学满57秒，您已学习0秒，还需学习57秒，暂不能完成。" in html
    assert LearningRefusal.objects.get().kind == "too_early"
    learn(learner, first)
    response = client.post(reverse("cpe_lesson_complete", args=[first.pk]))
    assert response["Location"] == reverse("cpe_lesson_detail", args=[second.pk])
    html = page(client, "cpe_course_detail", course.pk)
    assert '<progress id="course-progress" max="2" value="1">' in html and "已学1/2节（50%）" in html
    assert html.count('class="tick"') == 1 and "继续学习" in html and "已学习 1:00 / 需学满 0:57" in html
    learn(learner, second)
    response = client.post(reverse("cpe_lesson_complete", args=[second.pk]))
    assert response["Location"] == reverse("cpe_course_test", args=[course.pk])
    assert "参加课程测试" in page(client, "cpe_course_detail", course.pk)


def test_the_test_page_waits_for_every_lesson(client, learner):
    course = make_course()
    services.course_enrol(person=learner, course=course)
    response = client.get(reverse("cpe_course_test", args=[course.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("cpe_course_detail", args=[course.pk])


def open_paper(course) -> TestAttempt:
    return TestAttempt.objects.get(enrolment__course=course, submitted_at__isnull=True)


def test_the_test_page_scores_retries_and_says_where_the_credits_stand(client, learner):
    """R-CE-8, a fail is a warning (not the green banner) naming the wrong answers, with a retry on a
    new paper; a pass below 90 is pending; the pass that makes 90 registers."""
    pass_course(learner, make_course("已合格课程", credits=66))
    course = make_course(credits=24)
    services.course_enrol(person=learner, course=course)
    finish_lessons(learner, course)
    url = reverse("cpe_course_test", args=[course.pk])
    html = page(client, "cpe_course_test", course.pk)
    assert html.count('type="radio"') == 9 and "60分合格" in html and "<legend>1. 第" in html
    paper = open_paper(course)
    assert f'name="attempt" value="{paper.pk}"' in html and sorted(paper.questions) == sorted(
        course.questions.values_list("pk", flat=True))
    questions = list(course.questions.order_by("order"))
    wrong = {"attempt": paper.pk, **{f"q{q.pk}": "0" for q in questions}}
    html = client.post(url, wrong, follow=True).content.decode()
    assert "最近一次测试：0分，未合格" in html and "重新测试" in html and "请复习后重新测试" in html
    assert 'class="message message-warning"' in html and "message-success" not in html
    assert "答错3题" in html and "您的答案：A. 甲（错误）" in html
    again = client.post(url, wrong)  # the same paper twice: already submitted
    assert again.status_code == 200 and "该试卷已提交或已失效" in again.content.decode()
    paper = open_paper(course)
    response = client.post(url, {"attempt": paper.pk, f"q{questions[0].pk}": "1"})  # two unanswered: kept
    html = response.content.decode()
    assert response.status_code == 200 and "尚未作答" in html and 'value="1" checked' in html
    right = {"attempt": paper.pk, **{f"q{q.pk}": "1" for q in questions}}
    html = client.post(url, right, follow=True).content.decode()
    assert "最近一次测试：100分，合格" in html and "本课程24学分已由系统登记为2026年度继续教育学分" in html
    assert 'class="message message-success"' in html and "全部答对" in html
    assert CreditEntry.objects.filter(source_type="course").count() == 2


def test_a_pass_below_90_is_shown_as_pending(client, learner):
    course = make_course(credits=24)
    services.course_enrol(person=learner, course=course)
    finish_lessons(learner, course)
    page(client, "cpe_course_test", course.pk)
    html = client.post(reverse("cpe_course_test", args=[course.pk]),
                       {"attempt": open_paper(course).pk, **{f"q{q.pk}": "1" for q in course.questions.all()}},
                       follow=True).content.decode()
    assert "已学待登记" in html and "还差66学分" in html and not CreditEntry.objects.exists()


def test_a_refused_enrolment_is_a_message_not_an_error(client, accountant):
    """R-CE-12 on the page: the button is disabled with the reason; a forced POST is refused with it."""
    fill_archive(accountant)
    client.force_login(accountant)
    course = make_course()
    html = page(client, "cpe_course_detail", course.pk)
    assert "disabled" in html and NOT_COLLECTED in html
    html = client.post(reverse("cpe_course_enrol", args=[course.pk]), follow=True).content.decode()
    assert NOT_COLLECTED in html and not Enrolment.objects.exists()


def test_no_outside_video_is_ever_embedded(client, learner):
    """videos are the portal's own stored media (test_media.py), shown to enrolled people only;
    no page embeds an outside address, and before enrolment a lesson shows no player at all."""
    course = make_course("有视频的课程", lessons=1)
    lesson = course.lessons.get()
    for html in (page(client, "cpe_course_detail", course.pk), page(client, "cpe_lesson_detail", lesson.pk)):
        assert "<video" not in html and "<iframe" not in html and "https://video" not in html
    assert 'id="learning"' not in page(client, "cpe_lesson_detail", lesson.pk)


def test_another_persons_progress_is_never_shown(client, learner, other_accountant):
    """R-ACL-2: the pages read the caller's own enrolment only."""
    make_active_archive(other_accountant, "140521")
    course = make_course()
    pass_course(other_accountant, course)
    html = page(client, "cpe_course_detail", course.pk)
    assert "已学完" not in html and "报名学习" in html and "<progress" not in html
    assert "未报名" in page(client, "cpe_course_list")
    response = client.get(reverse("cpe_course_test", args=[course.pk]))
    assert response.status_code == 302


def test_an_unoffered_course_or_its_lesson_is_a_404(client, learner):
    hidden = make_course(published=False)
    assert client.get(reverse("cpe_course_detail", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("cpe_lesson_detail", args=[hidden.lessons.first().pk])).status_code == 404
    assert client.post(reverse("cpe_course_enrol", args=[hidden.pk])).status_code == 404


def test_the_pages_are_for_accountants(client, county_reviewer):
    """Staff get 403; anonymous visitors are sent to log in."""
    course = make_course()
    lesson = course.lessons.first()
    urls = [reverse("cpe_course_list"), reverse("cpe_course_detail", args=[course.pk]),
            reverse("cpe_lesson_detail", args=[lesson.pk]), reverse("cpe_course_test", args=[course.pk])]
    for url in urls:
        assert "/accounts/login/" in client.get(url)["Location"], url
    login_staff(client, county_reviewer)
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("cpe_course_enrol", args=[course.pk])).status_code == 403


# --- the API --------------------------------------------------------------------------------------

def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_walks_a_course_from_catalogue_to_registration(accountant):
    """GET catalogue → enrol → complete lessons → test: score, pass, registered or pending (R-CE-8)."""
    make_active_archive(accountant)
    api = api_for(accountant)
    course = make_course(credits=24)
    body = api.get(f"{API}/cpe/courses/").json()
    assert body["year"]["year"] == 2026 and body["results"][0]["title"] == "收入准则应用解析"
    assert body["results"][0]["credits"] == "24.0" and body["results"][0]["state"] == ""
    detail = api.get(f"{API}/cpe/courses/{course.pk}/").json()
    assert "questions" not in detail and detail["test_size"] == 10  # the bank is never listed
    assert [(lesson["kind"], lesson["required_seconds"]) for lesson in detail["lesson_list"]] == [("text", 57)] * 2
    assert api.post(f"{API}/cpe/courses/{course.pk}/test/", {"answers": [1, 1, 1]}, format="json").status_code == 400
    response = api.post(f"{API}/cpe/courses/{course.pk}/enrol/")
    assert response.status_code == 200 and response.json()["course"] == course.pk
    for lesson in course.lessons.all():
        assert api.post(f"{API}/cpe/lessons/{lesson.pk}/complete/").status_code == 409  # not learned yet
        learn(accountant, lesson)
        progress = api.post(f"{API}/cpe/lessons/{lesson.pk}/complete/").json()
    assert progress == {"lesson": lesson.pk, "course": course.pk, "lessons": 2, "lessons_done": 2, "all_done": True}
    paper = api.get(f"{API}/cpe/courses/{course.pk}/test/").json()
    assert len(paper["questions"]) == 3 and "answer" not in paper["questions"][0]
    assert api.get(f"{API}/cpe/courses/{course.pk}/test/").json() == paper  # the same paper until submitted
    first = paper["questions"][0]["id"]
    response = api.post(f"{API}/cpe/courses/{course.pk}/test/", {"attempt": paper["attempt"], "answers": [0, 1, 1]},
                        format="json")
    assert response.status_code == 200
    assert response.json() == {"score": 67, "passed": True, "pass_mark": 60, "correct": 2, "questions": 3,
                               "wrong": [first], "best_score": 67, "registered": False, "state": "pending",
                               "missing": "66.0"}
    stale = api.post(f"{API}/cpe/courses/{course.pk}/test/", {"attempt": paper["attempt"], "answers": [1, 1, 1]},
                     format="json")
    assert stale.status_code == 400 and "已提交" in stale.json()["attempt"][0]  # a paper is submitted once
    api.get(f"{API}/cpe/courses/{course.pk}/test/")
    bad = api.post(f"{API}/cpe/courses/{course.pk}/test/", {"answers": "all"}, format="json")
    assert bad.status_code == 400 and "answers" in bad.json()
    assert api.post(f"{API}/cpe/courses/{course.pk}/test/", [1], format="json").status_code == 400


def test_the_api_refuses_before_collection_and_hides_unoffered_courses(accountant, county_reviewer):
    """R-CE-12 → 400; an unpublished course → 404; a reviewer → 403."""
    fill_archive(accountant)
    course, hidden = make_course(), make_course("未发布", published=False)
    api = api_for(accountant)
    response = api.post(f"{API}/cpe/courses/{course.pk}/enrol/")
    assert response.status_code == 400 and "信息采集" in response.json()["archive"][0]
    assert api.post(f"{API}/cpe/courses/{hidden.pk}/enrol/").status_code == 404
    assert api.get(f"{API}/cpe/courses/{hidden.pk}/").status_code == 404
    assert api_for(county_reviewer).get(f"{API}/cpe/courses/").status_code == 403
    assert APIClient().get(f"{API}/cpe/courses/").status_code == 401


def test_the_schema_documents_the_learning_api(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for path in ("/api/v1/cpe/courses/", "/api/v1/cpe/courses/{id}/", "/api/v1/cpe/courses/{id}/enrol/",
                 "/api/v1/cpe/lessons/{id}/complete/", "/api/v1/cpe/courses/{id}/test/"):
        assert path in paths, path
    test = paths["/api/v1/cpe/courses/{id}/test/"]["post"]
    assert set(test["responses"]) >= {"200", "400", "404"} and "requestBody" in test
