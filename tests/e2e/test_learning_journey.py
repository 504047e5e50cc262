"""Online learning to credits and the 学分证明, in Debian's Chromium.

A collected accountant with 60 professional credits this year takes a 30-credit course on her
phone: enrols, reads the lesson — the page reports while it is visible and the server counts the time,
so 学完本节 is refused until the lesson's minimum reading time has passed — fails the
end-of-course test (a warning naming the wrong answer, not the green banner), retakes it on a new paper
and passes; the year reaches 90 and the system registers the online credits by itself (R-CE-8). She
downloads the certificate (R-CE-15) and a stranger, not logged in, checks it by its code.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cpe.learning.tests.test_learning import make_course
from cpe.ledger.services import credit_register
from cpe.models import Certificate, CreditEntry, LearningPolicy, LessonProgress, TestAttempt
from tests.e2e.test_collection_journey import log_in
from tests.factories import make_accountant, make_active_archive

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_course_to_credits_and_certificate(page, browser, live_server):
    year = timezone.localdate().year
    person = make_accountant(name="刘敏", sequence=102)
    archive = make_active_archive(person, "140502")
    credit_register(archive=archive, year=year, subject_kind="professional", form="face_to_face", credits=60,
                    source_type="province", source_id="e2e-1", source_label="面授培训（演示）")
    LearningPolicy.objects.filter(pk=1).update(heartbeat_seconds=5)  # beats every 5 s: a short test
    make_course("会计职业道德与诚信建设", year=year, credits=30, kind="general", lessons=1, questions=2,
                lesson_seconds=8)

    log_in(page, live_server, person)
    page.goto(f"{live_server.url}/cpe/courses/")
    page.get_by_role("link", name="会计职业道德与诚信建设").first.click()
    page.get_by_role("button", name="报名学习").click()
    page.get_by_role("link", name="开始学习").click()
    page.get_by_role("button", name="学完本节").click()  # at once: refused, with the time still needed
    page.get_by_text("还需学习").first.wait_for()
    assert not LessonProgress.objects.filter(completed_at__isnull=False).exists()
    page.get_by_text("本节已学满规定时长").wait_for(timeout=30_000)  # the page reported while visible
    progress = LessonProgress.objects.get()
    first_sitting = progress.sessions.order_by("started_at").first()  # 学完本节 reloaded the page: a second one
    assert progress.completed_at - first_sitting.started_at >= dt.timedelta(seconds=8)
    page.get_by_role("button", name="学完本节").click()
    page.get_by_role("heading", name="课程测试：会计职业道德与诚信建设").wait_for()
    paper = TestAttempt.objects.get(submitted_at__isnull=True)
    first, second = (f"q{pk}" for pk in paper.questions)
    page.locator(f"input[name={first}][value='0']").check()  # one wrong, one right: 50, no pass
    page.locator(f"input[name={second}][value='1']").check()
    page.get_by_role("button", name="提交答卷").click()
    page.locator(".message-warning").get_by_text("未达到合格分数").wait_for()
    assert page.locator(".message-success").count() == 0 and "答错1题" in page.content()
    paper = TestAttempt.objects.get(submitted_at__isnull=True)  # retries are allowed, on a new paper
    for pk in paper.questions:
        page.locator(f"input[name=q{pk}][value='1']").check()
    page.get_by_role("button", name="提交答卷").click()
    page.get_by_text("分，合格").first.wait_for()
    assert CreditEntry.objects.filter(archive=archive, form="online", credits=30).exists()

    page.goto(f"{live_server.url}/me/cpe/{year}/")
    page.get_by_text("90.0").first.wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载学分证明").click()
    pdf = open(download.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF")

    code = Certificate.objects.get(archive=archive).code
    stranger = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    stranger.goto(f"{live_server.url}/verify/{code}")
    stranger.get_by_text("刘敏").first.wait_for()
    assert person.id_number not in stranger.content() and "有效" in stranger.content()  # genuine, ID masked
    stranger.context.close()
