"""REST endpoints of online learning (网络学习), ``/api/v1/cpe/``: R-CE-2, R-CE-6, R-CE-8, R-CE-12.

- ``GET /cpe/courses/?year=&subject_kind=``: the catalogue of a year open for learning (default: the
  newest), each course with the caller's own state and learning time; the years open today, make-up
  ones marked (R-CE-6).
- ``GET /cpe/courses/{id}/``: one course and its lessons, each with the caller's learned and required
  seconds (the question bank is never listed: a paper is drawn per attempt).
- ``POST /cpe/courses/{id}/enrol/``: enrol (idempotent); 400 before collection approval (R-CE-12) or
  outside the year's learning window (R-CE-6).
- ``POST /cpe/lessons/{id}/session/`` ``{"playing": true}``: begin learning this lesson here; the answer
  carries the session, the next ``seq`` and ``nonce``, and the resume position. Another session of the
  person ends (one lesson at a time).
- ``POST /cpe/lessons/{id}/heartbeat/`` ``{"session", "seq", "nonce", "position", "rate", "playing"}``:
  progress while the media plays and the page is visible; the server credits plausible time only and
  answers the next ``seq``/``nonce`` — or 409 ``{"detail": [reason], "code": …, "progress": …}``.
- ``POST /cpe/lessons/{id}/complete/``: 学完本节; 409 ``too_early`` with the time still needed.
- ``GET /cpe/courses/{id}/test/``: the caller's open paper (questions drawn from the bank, no answers);
  ``POST`` ``{"attempt": id, "answers": [0, 2, 1]}``: score, pass, which questions were wrong, and
  whether the credits are registered or wait for the year's 90 (R-CE-8).

Only accountants; a course that is not published by a filed institution is a 404. All rules are in
:mod:`cpe.learning.services` and :mod:`cpe.learning.selectors`.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAccountant
from cpe.learning import selectors, services
from cpe.models import LessonKind, RefusalKind, SubjectKind
from kjzx.http import client_ip
from kjzx.parsers import JSONParser
from kjzx.workflow_api import choices_help, errors, request_object

STATES = "、".join(f"{value or '空'}（{label}）" for value, label in selectors.State.LABELS.items())


class YearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    makeup = serializers.BooleanField(help_text="是否为补学年度（继续教育补学入口）")
    deadline = serializers.DateField(help_text="完成期限")
    makeup_until = serializers.DateField(allow_null=True, help_text="补学截止日期")


def _year(policy) -> dict:
    return {"year": policy.year, "makeup": selectors.is_makeup(policy), "deadline": policy.deadline,
            "makeup_until": policy.makeup_until}


class CourseSerializer(serializers.Serializer):
    """A course of the catalogue, with the caller's own standing."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    year = serializers.IntegerField(source="year_id", help_text="学分计入的年度")
    subject_kind = serializers.CharField(help_text=choices_help("科目类别", SubjectKind))
    subject_kind_display = serializers.CharField(source="get_subject_kind_display")
    credits = serializers.DecimalField(max_digits=5, decimal_places=1)
    hours = serializers.DecimalField(max_digits=5, decimal_places=1, help_text="学时")
    institution = serializers.CharField(source="institution.name", help_text="培训机构")
    lessons = serializers.IntegerField(source="lesson_count", help_text="章节数")
    lessons_done = serializers.IntegerField(source="done", help_text="本人已学完的章节数")
    learned_seconds = serializers.IntegerField(help_text="本人在本课程已计入的学习时长（秒）")
    pass_mark = serializers.IntegerField(help_text="测试合格分数")
    state = serializers.CharField(help_text=f"本人学习状态：{STATES}")
    state_display = serializers.CharField(source="state_label")
    best_score = serializers.IntegerField(source="enrolment.best_score", allow_null=True, default=None)


class CatalogueSerializer(serializers.Serializer):
    year = YearSerializer(allow_null=True, help_text="所列课程的年度；今日无开放学习的年度时为空")
    years = YearSerializer(many=True, help_text="今日开放学习的年度（补学年度仅在补学期内列出）")
    results = CourseSerializer(many=True)


class LessonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField(help_text=choices_help("章节类型", LessonKind))
    duration_seconds = serializers.IntegerField(help_text="章节时长（秒）：视频为其时长，图文、PDF为最少阅读时间")
    minutes = serializers.IntegerField(help_text="章节时长（分钟，向上取整）")
    required_seconds = serializers.IntegerField(help_text="完成本节须计入的学习时长（秒）：时长 × 完成比例")
    learned_seconds = serializers.IntegerField(help_text="本人已计入的学习时长（秒）")
    body = serializers.CharField()
    media_url = serializers.SerializerMethodField(help_text="视频或PDF文件地址（仅报名学员可取，支持 Range 请求），"
                                                            "没有则为空")
    done = serializers.BooleanField(help_text="本人是否已学完")

    def get_media_url(self, lesson) -> str:
        from django.urls import reverse

        return reverse("cpe_lesson_media", args=[lesson.pk]) if selectors.has_media(lesson) else ""


class CourseDetailSerializer(CourseSerializer):
    description = serializers.CharField()
    required_seconds = serializers.IntegerField(help_text="完成全部章节须计入的学习时长（秒）")
    test_size = serializers.IntegerField(help_text="每次测试从题库随机抽取的题数")
    lesson_list = LessonSerializer(many=True, help_text="章节，按序号")


class EnrolmentSerializer(serializers.Serializer):
    course = serializers.IntegerField(source="course_id")
    enrolled_at = serializers.DateTimeField()
    passed_at = serializers.DateTimeField(allow_null=True)
    best_score = serializers.IntegerField(allow_null=True)


class TimingSerializer(serializers.Serializer):
    heartbeat_seconds = serializers.IntegerField(help_text="播放且页面可见时上报进度的间隔（秒）")
    max_playback_rate = serializers.DecimalField(max_digits=3, decimal_places=2, help_text="最高计时倍速")
    seek_tolerance_seconds = serializers.IntegerField(help_text="播放位置的容许误差（秒）")


class StandingSerializer(serializers.Serializer):
    """Where the caller stands in the lesson, and what the next heartbeat must carry."""

    lesson = serializers.IntegerField(source="progress.lesson_id")
    kind = serializers.CharField(source="progress.lesson.kind", help_text=choices_help("章节类型", LessonKind))
    session = serializers.CharField(source="session.key", allow_null=True, default=None,
                                    help_text="学习会话标识；每次心跳须携带")
    seq = serializers.SerializerMethodField(help_text="下一次心跳的序号")
    nonce = serializers.CharField(source="session.nonce", allow_null=True, default=None,
                                  help_text="下一次心跳须携带的校验码（每次心跳后更换）")
    credited_seconds = serializers.IntegerField(source="credited", help_text="已计入的学习时长（秒）")
    required_seconds = serializers.IntegerField(source="required", help_text="完成本节须计入的学习时长（秒）")
    remaining_seconds = serializers.IntegerField(source="remaining", help_text="还需学习的时长（秒）")
    furthest = serializers.DecimalField(source="progress.furthest", max_digits=9, decimal_places=2,
                                        help_text="视频已观看到的最远位置（秒）；不能跳过此处之后的内容")
    position = serializers.DecimalField(source="progress.position", max_digits=9, decimal_places=2,
                                        help_text="上次观看位置（秒），换设备或重新打开时从此处继续")
    completed = serializers.BooleanField(help_text="本节是否已学完")

    def get_seq(self, standing) -> int | None:
        return standing.session.seq + 1 if standing.session else None


def _standing(standing) -> dict:
    data = StandingSerializer(standing).data
    policy = selectors.learning_policy()
    data["timing"] = TimingSerializer(policy).data
    return data


class StandingOutput(StandingSerializer):
    timing = TimingSerializer(help_text="计时规则（网络学习计时规则，省财政厅维护）")


class RefusalOutput(serializers.Serializer):
    detail = serializers.ListField(child=serializers.CharField(), help_text="拒收原因")
    code = serializers.ChoiceField(choices=RefusalKind.choices, help_text=choices_help("拒收类型", RefusalKind))
    progress = StandingOutput(allow_null=True, help_text="服务器记录的本节进度（会话无效时为空）")


REFUSED = OpenApiResponse(RefusalOutput,
                          description="拒收：原因见 detail，类型见 code；每次拒收均记入学习记录拒收日志。")


def _refused(exc: services.LearningRefused) -> Response:
    return Response({"detail": exc.errors["detail"], "code": exc.kind,
                     "progress": _standing(exc.standing) if exc.standing else None},
                    status=status.HTTP_409_CONFLICT)


class SessionInput(serializers.Serializer):
    playing = serializers.BooleanField(default=False, help_text="是否从现在起计时（视频正在播放 / 图文页面可见）")


class HeartbeatInput(serializers.Serializer):
    session = serializers.CharField(max_length=64, help_text="学习会话标识")
    seq = serializers.IntegerField(min_value=1, max_value=10**9, help_text="本次心跳的序号（上次答复给出）")
    nonce = serializers.CharField(max_length=64, help_text="上次答复给出的校验码")
    position = serializers.FloatField(min_value=0, max_value=10**6, default=0.0,
                                      help_text="当前播放位置（秒）；图文、PDF章节为0")
    rate = serializers.FloatField(min_value=0.0625, max_value=16, default=1.0, help_text="当前播放倍速")
    playing = serializers.BooleanField(help_text="此后是否仍在计时（视频播放中且页面可见；图文页面可见）")


class ProgressSerializer(serializers.Serializer):
    lesson = serializers.IntegerField()
    course = serializers.IntegerField()
    lessons = serializers.IntegerField(help_text="章节数")
    lessons_done = serializers.IntegerField(help_text="已学完的章节数")
    all_done = serializers.BooleanField(help_text="是否已学完全部章节（可参加测试）")


class PaperQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(), help_text="选项；作答时提交选项序号（从0开始）")


class PaperSerializer(serializers.Serializer):
    attempt = serializers.IntegerField(help_text="试卷编号，提交时携带")
    pass_mark = serializers.IntegerField()
    questions = PaperQuestionSerializer(many=True, help_text="本次抽取的题目，按作答顺序（不含答案）")


class TestInput(serializers.Serializer):
    attempt = serializers.IntegerField(required=False, help_text="试卷编号（GET 本地址取得）；省略时为本人未提交的试卷")
    answers = serializers.ListField(child=serializers.JSONField(),
                                    help_text="按试卷题目顺序，每题所选选项的序号（从0开始）")


class TestResultSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text="成绩，0–100")
    passed = serializers.BooleanField()
    pass_mark = serializers.IntegerField()
    correct = serializers.IntegerField(help_text="答对题数")
    questions = serializers.IntegerField(help_text="题目数")
    wrong = serializers.ListField(child=serializers.IntegerField(), help_text="答错的题目编号（不公布正确答案）")
    best_score = serializers.IntegerField()
    registered = serializers.BooleanField(help_text="本课程学分是否已登记")
    state = serializers.CharField(help_text=f"本人学习状态：{STATES}")
    missing = serializers.DecimalField(max_digits=6, decimal_places=1,
                                       help_text="已学待登记的学分距自动登记（本年度应修总学分）还差的学分")


class AccountantView(APIView):
    permission_classes = [IsAccountant]


class CourseListView(AccountantView):
    @extend_schema(
        summary="网络学习课程目录", operation_id="v1_cpe_courses_list",
        parameters=[OpenApiParameter("year", int, description="年度（默认今日开放学习的最新年度）"),
                    OpenApiParameter("subject_kind", str, enum=SubjectKind.values, description="科目类别")],
        description="已备案、公布的培训机构发布的课程，含本人学习状态。补学年度（R-CE-6）仅在补学期内可选。",
        responses={200: CatalogueSerializer, **errors(401, 403)})
    def get(self, request):
        years = selectors.learning_years()
        policy = years.find(request.query_params.get("year")) or next(iter(years.regular or years.makeup), None)
        kind = request.query_params.get("subject_kind", "")
        archive = selectors.learner_archive(request.user)
        courses = selectors.catalogue(archive, policy, kind) if policy else []
        return Response({"year": _year(policy) if policy else None, "years": [_year(y) for y in years.all],
                         "results": CourseSerializer(courses, many=True).data})


class CourseDetailView(AccountantView):
    @extend_schema(summary="网络课程详情",
                   description="课程简介与章节：每节的类型、时长、完成须计入的学习时长和本人已计入的时长。",
                   responses={200: CourseDetailSerializer, **errors(401, 403, 404)})
    def get(self, request, pk: int):
        course = selectors.course_for_learner(selectors.learner_archive(request.user), selectors.course_get(pk))
        return Response(CourseDetailSerializer(course).data)


class CourseEnrolView(AccountantView):
    parser_classes = [JSONParser]

    @extend_schema(summary="报名网络课程", request=None,
                   description="重复报名返回同一报名记录。信息采集未审核通过（R-CE-12）、课程年度不在学习期或补学期内"
                               "（R-CE-6）→ 400。",
                   responses={200: EnrolmentSerializer, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        enrolment = services.course_enrol(person=request.user, course=selectors.course_get(pk))
        return Response(EnrolmentSerializer(enrolment).data)


class LessonSessionView(AccountantView):
    parser_classes = [JSONParser]

    @extend_schema(summary="开始学习本节（学习会话）", request=SessionInput,
                   description="在本页面（设备）开始学习本节，成为本人唯一的学习会话：本人在其他页面或设备上的会话随即"
                               "结束，其后的心跳被拒收（同一时间只能学习一节）。答复给出会话标识、下一次心跳的序号和"
                               "校验码，以及服务器保存的观看位置（换设备后从此处继续）。未报名 → 400。",
                   responses={200: StandingOutput, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        data = SessionInput(data=request_object(request) if request.data else {})
        data.is_valid(raise_exception=True)
        standing = services.session_start(
            person=request.user, lesson=selectors.lesson_get(pk), playing=data.validated_data["playing"],
            ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""))
        return Response(_standing(standing))


class LessonHeartbeatView(AccountantView):
    parser_classes = [JSONParser]

    @extend_schema(summary="学习进度心跳", request=HeartbeatInput,
                   description="视频播放且页面可见时每隔规定秒数上报一次，暂停、播完、页面隐藏时也上报一次。服务器按"
                               "自己的时钟计时：只计入上次心跳以来、上次声明为播放中的时间，不超过经过的秒数 × 最高"
                               "计时倍速；视频只计入新观看的内容。拒收（409，记入日志）：伪造或校验码不符（forged）、"
                               "重复提交（replayed）、顺序错乱（out_of_order）、倍速超限（too_fast）、跳过未观看的"
                               "内容（seek_ahead）、已在其他页面或设备学习（two_lessons）。计入的时长达到要求时本节"
                               "即学完（completed）。",
                   responses={200: StandingOutput, 409: REFUSED, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        data = HeartbeatInput(data=request_object(request))
        data.is_valid(raise_exception=True)
        beat = data.validated_data
        try:
            standing = services.heartbeat(person=request.user, lesson=selectors.lesson_get(pk), ip=client_ip(request),
                                          beat=services.Beat(
                                              key=beat["session"], seq=beat["seq"], nonce=beat["nonce"],
                                              position=Decimal(str(round(beat["position"], 2))),
                                              rate=Decimal(str(round(beat["rate"], 4))), playing=beat["playing"]))
        except services.LearningRefused as exc:
            return _refused(exc)
        return Response(_standing(standing))


class LessonCompleteView(AccountantView):
    parser_classes = [JSONParser]

    @extend_schema(summary="学完本节", request=None,
                   description="本节计入的学习时长达到要求（时长 × 完成比例）后记为学完（重复提交无影响）；"
                               "未达到 → 409 too_early，并说明还需学习的时长。未报名 → 400。",
                   responses={200: ProgressSerializer, 409: REFUSED, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        lesson = selectors.lesson_get(pk)
        try:
            services.lesson_complete(person=request.user, lesson=lesson, ip=client_ip(request))
        except services.LearningRefused as exc:
            return _refused(exc)
        course = selectors.course_for_learner(selectors.learner_archive(request.user), lesson.course)
        return Response({"lesson": lesson.pk, "course": course.pk, "lessons": course.lesson_count,
                         "lessons_done": course.done, "all_done": course.all_done})


class CourseTestView(AccountantView):
    parser_classes = [JSONParser]

    @extend_schema(summary="取得课程测试试卷",
                   description="学完全部章节后，从课程题库随机抽取本次试卷（保存在服务器，提交前再次取得为同一份）。"
                               "未学完 → 400。",
                   responses={200: PaperSerializer, **errors(400, 401, 403, 404)})
    def get(self, request, pk: int):
        course = selectors.course_get(pk)
        attempt = services.test_paper(person=request.user, course=course)
        return Response({"attempt": attempt.pk, "pass_mark": course.pass_mark,
                         "questions": PaperQuestionSerializer(services.paper_questions(attempt), many=True).data})

    @extend_schema(summary="提交课程测试", request=TestInput,
                   description="按试卷题目顺序提交答案；可多次测试，每次为新抽取的试卷，成绩达到合格分数（默认60分）"
                               "为合格，答复列出答错的题目。合格课程的学分在本年度学分（已登记 + 已学待登记）达到应修"
                               "总学分（90）时由系统自动登记（R-CE-8），此后每门合格即登记。",
                   responses={200: TestResultSerializer, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        course = selectors.course_get(pk)
        body = request_object(request)
        result = services.test_submit(person=request.user, course=course, answers=body.get("answers"),
                                      attempt=body.get("attempt"))
        return Response(TestResultSerializer({
            "score": result.attempt.score, "passed": result.attempt.passed, "pass_mark": course.pass_mark,
            "correct": result.correct, "questions": result.questions, "wrong": [q.pk for q in result.wrong],
            "best_score": result.enrolment.best_score, "registered": result.registered, "state": result.state,
            "missing": result.missing}).data)
