"""Lesson content (R-CE-8, R-CE-14): institutions upload videos and PDFs, ffprobe measures them,
the portal serves them to enrolled people only, in byte ranges."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.validators import uscc_check_char
from cpe.learning import media, services
from cpe.learning.tests.test_learning import learn, make_course
from cpe.models import Course, Lesson, LessonProgress, Question, TrainingInstitution
from kjzx.api import DomainError
from kjzx.models import AuditEvent
from tests.factories import PDF_BYTES, login_staff, make_active_archive, png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_ce_calendar")]  # courses of 2026


def clip(seconds=3, *, audio_only=False, extension="mp4") -> bytes:
    """A real little file made by ffmpeg (a test pattern and a tone), like the demo's."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"clip.{extension}"
        inputs = [] if audio_only else ["-f", "lavfi", "-i", f"testsrc2=duration={seconds}:size=160x90:rate=5"]
        codecs = (["-c:a", "libmp3lame"] if audio_only else
                  ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"])
        subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-y", *inputs, "-f", "lavfi", "-i",  # noqa: S603
                        f"sine=frequency=440:duration={seconds}", *codecs, "-shortest", str(target)], check=True)
        return target.read_bytes()


def upload(content: bytes, name="课程.mp4"):
    return SimpleUploadedFile(name, content)


@pytest.fixture
def institution(institution_user):
    first17 = "52140000MJ0K7H3L2"
    return TrainingInstitution.objects.create(
        name="山西会计继续教育网络学院", credit_code=first17 + uscc_check_char(first17), region_id="140000",
        filed=True, owner=institution_user)


@pytest.fixture
def own_course(institution):
    return make_course("本机构课程", institution=institution, lessons=0, questions=0, published=False)


# --- what a file really is ------------------------------------------------------------------------------

def test_ffprobe_measures_a_real_video_and_refuses_what_is_not_one():
    """the duration comes from the media; audio, a picture named.mp4 or a PDF is no video."""
    probe = media.media_probe(upload(clip(3)), "video")
    assert probe.content_type == "video/mp4" and probe.extension == ".mp4"
    assert Decimal("2.9") <= probe.seconds <= Decimal("3.1")
    for content, name, expected in ((clip(2, audio_only=True, extension="mp3"), "讲座.mp4", media.NOT_MEDIA),
                                    (png_bytes(), "封面.mp4", media.NOT_MEDIA),
                                    (b"\x00\x01garbage" * 200, "损坏.mp4", media.NOT_PLAYABLE),
                                    (PDF_BYTES, "讲义.mp4", media.PDF_FOR_VIDEO)):
        with pytest.raises(DomainError) as caught:
            media.media_probe(upload(content, name), "video")
        assert caught.value.errors["media"] == [expected], name
    with pytest.raises(DomainError) as caught:
        media.media_probe(upload(clip(1)), "pdf")
    assert caught.value.errors["media"] == [media.VIDEO_FOR_PDF]
    assert media.media_probe(upload(PDF_BYTES, "讲义.pdf"), "pdf").content_type == "application/pdf"


def test_without_ffprobe_no_video_is_taken(monkeypatch):
    """a duration is never guessed: without Debian's ffmpeg the upload is refused, saying why."""
    video = upload(clip(1))
    monkeypatch.setattr(media.shutil, "which", lambda name: None)
    with pytest.raises(DomainError) as caught:
        media.media_probe(video, "video")
    assert caught.value.errors["media"] == [media.NO_FFPROBE] and caught.value.status_code == 503


def test_ffprobe_is_installed():
    """scripts/setup.sh installs Debian's ffmpeg (ffprobe measures uploads, the demo makes its clips)."""
    assert shutil.which("ffprobe") and shutil.which("ffmpeg")


# --- the institution's pages ----------------------------------------------------------------------------

def test_an_institution_uploads_a_video_lesson_no_longer_than_its_media(client, institution_user, own_course):
    """R-CE-14: the declared duration may not exceed what ffprobe measured; the file is stored
    through the storage API under a random name, with its probed type and length."""
    login_staff(client, institution_user)
    url = reverse("institution_lesson_new", args=[own_course.pk])
    too_long = client.post(url, {"title": "导学视频", "kind": "video", "minutes": 0, "seconds": 9,
                                 "media": upload(clip(3))})
    assert too_long.status_code == 200 and "超过视频实际时长" in too_long.content.decode()
    assert not Lesson.objects.exists()
    response = client.post(url, {"title": "导学视频", "kind": "video", "minutes": 0, "seconds": 3,
                                 "media": upload(clip(3))})
    assert response.status_code == 302
    lesson = Lesson.objects.get()
    assert (lesson.kind, lesson.duration_seconds, lesson.media_type) == ("video", 3, "video/mp4")
    assert lesson.media.name.startswith(f"learning/course-{own_course.pk}/") and lesson.media.name.endswith(".mp4")
    assert "课程" not in lesson.media.name and lesson.media.storage.exists(lesson.media.name)
    assert AuditEvent.objects.filter(event_type="cpe.lesson_saved").exists()
    not_video = client.post(url, {"title": "伪装的视频", "kind": "video", "minutes": 1, "seconds": 0,
                                  "media": upload(png_bytes())})
    assert media.NOT_MEDIA in not_video.content.decode() and Lesson.objects.count() == 1


def test_a_lesson_someone_learns_keeps_its_file_and_duration(learner_with, own_course, institution_user):
    """progress was measured against them; the title and text may still change."""
    services.lesson_save(user=institution_user, course=own_course, data={
        "title": "第一讲", "kind": "text", "body": "正文", "duration_seconds": 60})
    lesson = own_course.lessons.get()
    Question.objects.create(course=own_course, order=1, text="题", choices=["甲", "乙"], answer=0)
    services.course_save(user=institution_user, institution=own_course.institution, course=own_course, data={
        "title": own_course.title, "subject_kind": "professional", "credits": "24", "hours": "8",
        "year": own_course.year_id, "published": True})
    person = learner_with(own_course)
    learn(person, lesson)
    with pytest.raises(DomainError) as caught:
        services.lesson_save(user=institution_user, course=own_course, lesson=lesson, data={
            "title": "第一讲", "kind": "text", "body": "正文", "duration_seconds": 30})
    assert "已有学员学习本节" in caught.value.message
    services.lesson_save(user=institution_user, course=own_course, lesson=lesson, data={
        "title": "第一讲（修订）", "kind": "text", "body": "新正文", "duration_seconds": 60})
    assert Lesson.objects.get().title == "第一讲（修订）"


def test_a_course_is_published_only_when_filed_with_lessons_and_questions(institution_user, institution, own_course):
    """R-CE-14, an unfiled institution, a course without lessons or questions is not published."""
    data = {"title": own_course.title, "subject_kind": "professional", "credits": "24", "hours": "8",
            "year": own_course.year_id, "published": True}
    with pytest.raises(DomainError) as caught:
        services.course_save(user=institution_user, institution=institution, course=own_course, data=data)
    assert "添加至少一个章节" in caught.value.message and "添加测试题" in caught.value.message
    services.lesson_save(user=institution_user, course=own_course, data={
        "title": "第一讲", "kind": "text", "body": "正文", "duration_seconds": 600})
    services.question_add(user=institution_user, course=own_course, data={
        "text": "题目", "choices": "甲\n乙\n丙", "answer": 2})
    assert Question.objects.get().answer == 1 and Question.objects.get().choices == ["甲", "乙", "丙"]
    TrainingInstitution.objects.filter(pk=institution.pk).update(filed=False)
    institution.refresh_from_db()
    with pytest.raises(DomainError) as caught:
        services.course_save(user=institution_user, institution=institution, course=own_course, data=data)
    assert caught.value.message == "培训机构经财政部门备案并公布后，方可发布课程。"
    TrainingInstitution.objects.filter(pk=institution.pk).update(filed=True)
    institution.refresh_from_db()
    assert services.course_save(user=institution_user, institution=institution, course=own_course,
                                data=data).published


def test_another_institutions_course_is_a_404(client, other_institution_user, own_course):
    """R-ACL-1: an institution sees and changes only its own courses."""
    login_staff(client, other_institution_user)
    assert client.get(reverse("institution_course", args=[own_course.pk])).status_code == 404
    assert client.get(reverse("institution_lesson_new", args=[own_course.pk])).status_code == 404
    assert "本机构课程" not in client.get(reverse("institution_courses")).content.decode()


def test_the_institution_pages_create_a_course_with_questions(client, institution_user, institution):
    """R-CE-14: 新建课程 and 新增试题 through the pages."""
    login_staff(client, institution_user)
    assert "网络课程" in client.get(reverse("institution_courses")).content.decode()
    response = client.post(reverse("institution_course_new"), {
        "institution": institution.pk, "title": "新课程", "subject_kind": "general", "year": 2026, "credits": "6",
        "hours": "2", "pass_mark": 60, "test_size": 5})
    course = Course.objects.get(title="新课程")
    assert response["Location"] == reverse("institution_course", args=[course.pk]) and not course.published
    client.post(reverse("institution_question_add", args=[course.pk]),
                {"text": "下列说法正确的是", "choices": "甲\n乙", "answer": 3})  # option 3 of 2: refused
    assert not course.questions.exists()
    client.post(reverse("institution_question_add", args=[course.pk]),
                {"text": "下列说法正确的是", "choices": "甲\n乙", "answer": 2})
    question = course.questions.get()
    client.post(reverse("institution_question_retire", args=[question.pk]), {"retired": "1"})
    assert Question.objects.get().retired


# --- serving in byte ranges, to enrolled people only ----------------------------------------------------

@pytest.fixture
def learner_with(accountant):
    def enrol(course):
        make_active_archive(accountant)
        services.course_enrol(person=accountant, course=course)
        return accountant
    return enrol


@pytest.fixture
def video_lesson(institution_user, institution):
    course = make_course("视频课程", institution=institution, lessons=0)
    return services.lesson_save(user=institution_user, course=course, data={
        "title": "导学视频", "kind": "video", "duration_seconds": 2}, upload=upload(clip(2)))


def test_the_video_is_served_in_byte_ranges(client, learner_with, video_lesson):
    """Accept-Ranges, 206 with the right Content-Range, the bytes asked for, 416 beyond the end."""
    client.force_login(learner_with(video_lesson.course))
    url = reverse("cpe_lesson_media", args=[video_lesson.pk])
    whole = client.get(url)
    content = b"".join(whole.streaming_content)
    size = len(content)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes" and whole["Content-Type"] == "video/mp4"
    assert int(whole["Content-Length"]) == size == video_lesson.media.size
    for header, first, last in (("bytes=0-99", 0, 99), ("bytes=100-", 100, size - 1), ("bytes=-50", size - 50,
                                                                                          size - 1)):
        part = client.get(url, HTTP_RANGE=header)
        assert part.status_code == 206, header
        assert part["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert b"".join(part.streaming_content) == content[first:last + 1]
        assert int(part["Content-Length"]) == last - first + 1
    beyond = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"
    several = client.get(url, HTTP_RANGE="bytes=0-1,5-6")  # RFC 9110 lets a server send it whole
    assert several.status_code == 200 and b"".join(several.streaming_content) == content


def test_the_video_is_for_enrolled_people_only(client, accountant, other_accountant, video_lesson, county_reviewer):
    """R-ACL-2: not enrolled → 404 (as if there were no file); staff → 403; nobody → login."""
    url = reverse("cpe_lesson_media", args=[video_lesson.pk])
    assert "/accounts/login/" in client.get(url)["Location"]
    make_active_archive(other_accountant, "140521")
    client.force_login(other_accountant)
    assert client.get(url).status_code == 404
    login_staff(client, county_reviewer)
    assert client.get(url).status_code == 403


def test_parse_range_reads_one_range_or_none():
    """The Range header, as RFC 9110 writes it; anything else is the whole file or a 416."""
    assert media.parse_range("", 1000) is None
    assert media.parse_range("bytes=0-", 1000) == (0, 999)
    assert media.parse_range("bytes=990-2000", 1000) == (990, 999)
    assert media.parse_range("bytes=-2000", 1000) == (0, 999)
    assert media.parse_range("bytes=5-1", 1000) is False and media.parse_range("bytes=1000-", 1000) is False
    assert media.parse_range("items=0-1", 1000) is None and media.parse_range("bytes=0-1,3-4", 1000) is None


def test_the_lesson_page_plays_the_portals_own_video_with_the_learning_script(client, learner_with, video_lesson):
    """the video comes from the portal (never an outside address), the script from static, no
    inline script (CSP); learned and required time are shown."""
    client.force_login(learner_with(video_lesson.course))
    html = client.get(reverse("cpe_lesson_detail", args=[video_lesson.pk])).content.decode()
    assert f'src="/cpe/lessons/{video_lesson.pk}/media/"' in html and "/static/js/learning.js" in html
    assert "<script>" not in html and "已学习 <span data-learned>0:00</span> / 需学满 0:02" in html
    assert 'data-beat-url="/api/v1/cpe/lessons/' in html and "学完本节" in html
    assert not LessonProgress.objects.exists()  # looking is not learning


def test_on_object_storage_only_the_range_asked_for_is_fetched():
    """with django-storages' S3 the view asks the bucket for just those bytes (a ranged GET), so a
    seek never downloads the whole video into the web process (botocore's Stubber stands in for the bucket)."""
    import io
    from types import SimpleNamespace

    from botocore.response import StreamingBody
    from botocore.stub import Stubber
    from storages.backends.s3 import S3Storage

    storage = S3Storage(bucket_name="kjzx-media", access_key="test", secret_key="test", region_name="cn-north-1")
    content = bytes(range(256)) * 4
    with Stubber(storage.connection.meta.client) as stub:
        stub.add_response("head_object", {"ContentLength": len(content)},
                          {"Bucket": "kjzx-media", "Key": "learning/course-1/a.mp4"})
        stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(content[100:200]), 100),
                                         "ContentLength": 100},
                          {"Bucket": "kjzx-media", "Key": "learning/course-1/a.mp4", "Range": "bytes=100-199"})
        response = media.range_response(SimpleNamespace(storage=storage, name="learning/course-1/a.mp4"),
                                        "video/mp4", "bytes=100-199")
        assert response.status_code == 206 and response["Content-Range"] == f"bytes 100-199/{len(content)}"
        assert b"".join(response.streaming_content) == content[100:200]
        stub.assert_no_pending_responses()
