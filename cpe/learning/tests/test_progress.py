"""Learning time the server believes (R-CE-8): the heartbeat API and every refusal.

Each refusal has its own test through ``/api/v1/cpe/lessons/{id}/…``: a 409 with the reason in Chinese
and its code, and one row in the refusal log. The server's clock is moved with time_machine; the
browser's word (position, rate) is what the test sends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from cpe.learning import selectors, services
from cpe.learning.tests.test_learning import make_course
from cpe.models import LearningPolicy, LearningRefusal, LearningSession, Lesson, LessonProgress
from kjzx.models import AuditEvent
from tests.factories import make_active_archive

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_ce_calendar")]  # courses of 2026
API = "/api/v1/cpe"
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def make_video_lesson(course, seconds=120, order=None) -> Lesson:
    """A video lesson whose media ffprobe measured at ``seconds`` (the file itself is not needed here)."""
    order = order or course.lessons.count() + 1
    return Lesson.objects.create(course=course, order=order, title=f"视频第{order}讲", kind="video",
                                 duration_seconds=seconds, media_seconds=Decimal(seconds))


@pytest.fixture
def learner(accountant):
    make_active_archive(accountant)
    return accountant


@pytest.fixture
def api(learner):
    client = APIClient()
    client.force_authenticate(learner)
    return client


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def video(learner):
    course = make_course("视频课程", lessons=0)
    services.course_enrol(person=learner, course=course)
    return make_video_lesson(course, 120)


def start(api, lesson, playing=True) -> dict:
    response = api.post(f"{API}/lessons/{lesson.pk}/session/", {"playing": playing}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def beat(api, lesson, last: dict, **fields):
    body = {"session": last["session"], "seq": last["seq"], "nonce": last["nonce"], "position": 0, "rate": 1,
            "playing": True, **fields}
    return api.post(f"{API}/lessons/{lesson.pk}/heartbeat/", body, format="json")


def refused(response, code: str) -> dict:
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == code and body["detail"][0]
    assert LearningRefusal.objects.filter(kind=code).exists()
    return body


# --- accepted time --------------------------------------------------------------------------------

def test_a_video_earns_what_played_within_the_elapsed_time(api, video, clock):
    """R-CE-8: 20 s of server time at 1× credits 20 s; the answer carries the next seq and a fresh nonce."""
    first = start(api, video)
    assert (first["seq"], first["credited_seconds"], first["required_seconds"]) == (1, 0, 114)
    assert first["timing"] == {"heartbeat_seconds": 15, "max_playback_rate": "1.25", "seek_tolerance_seconds": 5}
    clock.shift(20)
    second = beat(api, video, first, position=20).json()
    assert second["credited_seconds"] == 20 and second["furthest"] == "20.00" and second["seq"] == 2
    assert second["nonce"] != first["nonce"] and not second["completed"]


def test_credited_seconds_never_exceed_elapsed_times_the_capped_rate(api, video, clock):
    """R-CE-8: 10 s at 1.25× may cover 12.5 s; a position 4 s further (within the tolerance) is not credited."""
    first = start(api, video)
    clock.shift(10)
    body = beat(api, video, first, position=16.5, rate=1.25).json()
    assert body["credited_seconds"] == 12 and body["furthest"] == "12.50"


def test_a_paused_interval_earns_nothing(api, video, clock):
    """R-CE-8: time counts only after a beat that said the video was playing."""
    first = start(api, video)
    clock.shift(10)
    paused = beat(api, video, first, position=10, playing=False).json()
    clock.shift(300)
    resumed = beat(api, video, paused, position=10, playing=True).json()
    assert resumed["credited_seconds"] == 10
    clock.shift(15)
    assert beat(api, video, resumed, position=25).json()["credited_seconds"] == 25


def test_going_back_is_free_and_earns_only_new_ground(api, video, clock):
    """R-CE-8: rewatching earns nothing; watching past the furthest point again earns."""
    last = start(api, video)
    clock.shift(30)
    last = beat(api, video, last, position=30).json()
    clock.shift(20)
    last = beat(api, video, last, position=20).json()  # went back to 0, watched 20 s
    assert last["credited_seconds"] == 30 and last["position"] == "20.00"
    clock.shift(15)
    last = beat(api, video, last, position=35).json()
    assert last["credited_seconds"] == 35


def test_the_lesson_completes_at_its_duration_times_the_policy_ratio(api, video, clock, learner):
    """R-CE-8: 120 s at 95 % is 114 s; the beat that reaches it completes the lesson (audited); the ratio
    is policy data."""
    last = start(api, video)
    for position in (60, 110):
        clock.shift(60 if position == 60 else 50)
        last = beat(api, video, last, position=position).json()
    assert last["credited_seconds"] == 110 and not last["completed"]
    clock.shift(10)
    last = beat(api, video, last, position=120, playing=False).json()
    assert last["completed"] and last["remaining_seconds"] == 0
    assert AuditEvent.objects.filter(event_type="cpe.lesson_completed").count() == 1
    LearningPolicy.objects.filter(pk=1).update(completion_ratio=Decimal("0.50"))
    assert selectors.required_seconds(video) == 60


def test_progress_survives_a_closed_tab_and_resumes_on_another_device(api, video, clock, learner):
    """R-CE-8: the position is the server's; a new session (another device) answers it."""
    last = start(api, video)
    clock.shift(40)
    beat(api, video, last, position=40, playing=False)
    other = APIClient()
    other.force_authenticate(learner)
    clock.shift(3600)
    resumed = start(other, video)
    assert resumed["position"] == "40.00" and resumed["credited_seconds"] == 40 and resumed["seq"] == 1
    page = other.get(f"{API}/courses/{video.course_id}/").json()
    assert page["lesson_list"][0]["learned_seconds"] == 40 and page["learned_seconds"] == 40


def test_a_text_lesson_earns_visible_time_two_intervals_at_most(api, learner, clock):
    """R-CE-8: a text earns while the page is visible, at most 2 × the heartbeat interval per beat."""
    course = make_course("图文课程", lessons=1, lesson_seconds=300)
    services.course_enrol(person=learner, course=course)
    text = course.lessons.get()
    last = start(api, text)
    clock.shift(15)
    last = beat(api, text, last).json()
    clock.shift(3600)  # a laptop asleep with the page open
    last = beat(api, text, last, playing=False).json()
    assert last["credited_seconds"] == 45
    clock.shift(600)  # hidden: nothing
    assert beat(api, text, last, playing=True).json()["credited_seconds"] == 45


# --- every refusal, with its reason, logged ------------------------------------------------------------

def test_a_forged_heartbeat_is_refused_and_logged(api, video, clock):
    """R-CE-8: a wrong nonce, or a session that is not the caller's, is refused as forged."""
    first = start(api, video)
    clock.shift(10)
    body = refused(beat(api, video, {**first, "nonce": "x" * 32}, position=10), "forged")
    assert "校验" in body["detail"][0] and body["progress"]["credited_seconds"] == 0
    refused(beat(api, video, {**first, "nonce": "伪造的校验码"}, position=10), "forged")  # not a 500
    body = refused(beat(api, video, {**first, "session": "不存在的会话"}, position=10), "forged")
    assert body["progress"] is None
    assert beat(api, video, first, position=10).json()["credited_seconds"] == 10  # the real chain goes on


def test_a_replayed_heartbeat_is_refused_and_logged(api, video, clock):
    """R-CE-8: sending an accepted beat again (same seq and nonce) earns nothing twice."""
    first = start(api, video)
    clock.shift(10)
    accepted = beat(api, video, first, position=10)
    assert accepted.status_code == 200
    clock.shift(10)
    body = refused(beat(api, video, first, position=20), "replayed")
    assert "已经提交过" in body["detail"][0] and body["progress"]["credited_seconds"] == 10
    assert LessonProgress.objects.get().credited_seconds == 10


def test_an_out_of_order_heartbeat_is_refused_and_logged(api, video, clock):
    """R-CE-8: a beat that skips the sequence is refused; the expected number is named."""
    first = start(api, video)
    clock.shift(10)
    body = refused(beat(api, video, {**first, "seq": first["seq"] + 1}, position=10), "out_of_order")
    assert "应为第1条，收到第2条" in body["detail"][0]
    assert LearningRefusal.objects.get().detail["expected_seq"] == 1


def test_a_playback_rate_over_the_cap_is_refused_and_logged(api, video, clock):
    """R-CE-8: 2× when the policy caps at 1.25× is too fast; nothing of that interval counts."""
    first = start(api, video)
    clock.shift(10)
    body = refused(beat(api, video, first, position=20, rate=2), "too_fast")
    assert "超过上限1.25倍" in body["detail"][0] and body["progress"]["credited_seconds"] == 0


def test_seeking_past_what_was_watched_is_refused_and_logged(api, video, clock):
    """R-CE-8: 10 s after the start the position cannot be at 100 s (10 × 1.25 + 5 tolerance at most)."""
    first = start(api, video)
    clock.shift(10)
    body = refused(beat(api, video, first, position=100), "seek_ahead")
    assert "不能跳过未观看的内容" in body["detail"][0] and body["progress"]["furthest"] == "0.00"
    assert LearningRefusal.objects.get().detail["elapsed"] == 10.0


def test_a_second_lesson_takes_over_and_the_first_stops_earning(api, learner, video, clock):
    """R-CE-8: one lesson at a time: another lesson (or tab, or device) ends the first session; its beats
    are refused as two lessons at once, and the takeover is audited."""
    first = start(api, video)
    other = make_video_lesson(video.course, 60)
    second = start(api, other)
    clock.shift(10)
    body = refused(beat(api, video, first, position=10), "two_lessons")
    assert "同一时间只能学习一节课程" in body["detail"][0]
    assert beat(api, other, second, position=10).json()["credited_seconds"] == 10
    assert LearningSession.objects.get(key=first["session"]).end_reason == "superseded"
    started = AuditEvent.objects.filter(event_type="cpe.learning_session_started").order_by("id").last()
    assert started.extra["superseded"] == [LearningSession.objects.get(key=first["session"]).pk]


def test_finished_in_two_seconds_is_refused_with_the_time_still_needed(api, video, clock):
    """R-CE-8: 学完本节 two seconds after starting is refused, saying how long is left, and
    jumping to the end in those two seconds is refused too."""
    first = start(api, video)
    clock.shift(2)
    refused(beat(api, video, first, position=120, playing=False), "seek_ahead")
    body = refused(api.post(f"{API}/lessons/{video.pk}/complete/"), "too_early")
    assert body["detail"][0] == "本节需学满1分54秒，您已学习0秒，还需学习1分54秒，暂不能完成。"
    assert not LessonProgress.objects.filter(completed_at__isnull=False).exists()


def test_malformed_heartbeats_are_a_400_and_another_persons_session_is_forged(api, video, clock, other_accountant):
    """Bad input is a clear 400, never a 500; someone else's session key is not theirs to use."""
    first = start(api, video)
    for body in ({"session": first["session"]}, {**first, "position": "abc", "playing": True},
                 {**first, "position": -1, "playing": True}, {**first, "rate": 100, "playing": True}):
        response = api.post(f"{API}/lessons/{video.pk}/heartbeat/", body, format="json")
        assert response.status_code == 400, body
    assert api.post(f"{API}/lessons/{video.pk}/heartbeat/", [1], format="json").status_code == 400
    make_active_archive(other_accountant, "140521")
    services.course_enrol(person=other_accountant, course=video.course)
    thief = APIClient()
    thief.force_authenticate(other_accountant)
    clock.shift(10)
    refused(beat(thief, video, first, position=10), "forged")
    assert LessonProgress.objects.get().credited_seconds == 0


def test_a_session_needs_enrolment(api, learner):
    """R-CE-8, R-CE-12: no session for a course the person has not enrolled in."""
    course = make_course("未报名课程", lessons=1)
    response = api.post(f"{API}/lessons/{course.lessons.get().pk}/session/", {"playing": True}, format="json")
    assert response.status_code == 400 and "请先报名" in response.json()["course"][0]


# --- the time scale: shorter for a demo or a test, never weaker --------------------------------------

def test_the_time_scale_shortens_the_required_time_but_not_the_checks(api, video, clock, settings):
    """KJZX_LEARNING_TIME_SCALE=0.1 asks 12 s of a 120 s video; seeking ahead is still refused."""
    settings.KJZX_LEARNING_TIME_SCALE = "0.1"
    first = start(api, video)
    assert first["required_seconds"] == 12
    clock.shift(2)
    refused(beat(api, video, first, position=60), "seek_ahead")
    clock.shift(10)
    assert beat(api, video, first, position=12).json()["completed"]


def test_the_time_scale_is_ignored_in_production(video, settings):
    """without DEBUG and outside the test settings the factor is never honoured."""
    settings.KJZX_LEARNING_TIME_SCALE = "0.01"
    settings.DEBUG = False
    settings.SETTINGS_MODULE = "kjzx.settings"
    assert selectors.time_scale() == 1 and selectors.required_seconds(video) == 114
    settings.DEBUG = True
    assert selectors.required_seconds(video) == 2


def test_the_schema_documents_the_heartbeat_api_and_its_refusals(client):
    """the learning endpoints are in the OpenAPI schema, the 409 with its codes."""
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/v1/cpe/lessons/{id}/session/", "/api/v1/cpe/lessons/{id}/heartbeat/",
                 "/api/v1/cpe/lessons/{id}/complete/", "/api/v1/cpe/courses/{id}/test/"):
        assert path in paths, path
    heartbeat = paths["/api/v1/cpe/lessons/{id}/heartbeat/"]["post"]
    assert {"200", "400", "409"} <= set(heartbeat["responses"]) and "requestBody" in heartbeat
    assert "two_lessons" in str(heartbeat["responses"]["409"]) or "two_lessons" in heartbeat["description"]
    assert "get" in paths["/api/v1/cpe/courses/{id}/test/"]


def test_the_system_administrator_edits_the_timing_policy_audited(client, video):
    """the completion ratio, rate cap, tolerance and interval are policy data, edited in the admin
    (/manage/), checked by range and audited with each old and new value; nobody adds or deletes the row."""
    from tests.factories import login_staff, make_admin

    login_staff(client, make_admin("system_admin"))
    url = "/manage/cpe/learningpolicy/1/change/"
    assert client.get(url).status_code == 200
    form = {"completion_ratio": "0.80", "max_playback_rate": "1.50", "seek_tolerance_seconds": 5,
            "heartbeat_seconds": 15}
    bad = client.post(url, {**form, "max_playback_rate": "3.00"})
    assert bad.status_code == 200 and LearningPolicy.objects.get().max_playback_rate == Decimal("1.25")
    assert client.post(url, form).status_code == 302
    policy = LearningPolicy.objects.get()
    assert (policy.completion_ratio, policy.max_playback_rate) == (Decimal("0.80"), Decimal("1.50"))
    event = AuditEvent.objects.get(event_type="cpe.learning_policy_updated")
    assert event.extra["changed"]["completion_ratio"] == ["0.95", "0.80"]
    assert selectors.required_seconds(video) == 96
    assert client.get("/manage/cpe/learningpolicy/add/").status_code == 403
    assert client.post("/manage/cpe/learningpolicy/1/delete/").status_code == 403
    assert client.get("/manage/cpe/learningrefusal/").status_code == 200
