"""REST endpoints of online learning (网络学习), ``/api/v1/cpe/``: R-CE-2, R-CE-6, R-CE-8, R-CE-12.

- ``GET /cpe/courses/?year=&subject_kind=``: the catalogue of a year open for learning (default: the
  newest), each course with the caller's own state; the years open today, make-up ones marked (R-CE-6).
- ``GET /cpe/courses/{id}/``: one course, its lessons (with the caller's ticks) and its test questions
  (never the answers).
- ``POST /cpe/courses/{id}/enrol/``: enrol (idempotent); 400 before collection approval (R-CE-12) or
  outside the year's learning window (R-CE-6).
- ``POST /cpe/lessons/{id}/complete/``: 学完本节 (idempotent).
- ``POST /cpe/courses/{id}/test/`` ``{"answers": [0, 2, 1]}``: score, pass and whether the credits are
  registered or wait for the year's 90 (R-CE-8).

Only accountants; a course that is not published by a filed institution is a 404. All rules are in
:mod:`cpe.learning`.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAccountant
from cpe import learning
from cpe.models import SubjectKind
from kjzx.parsers import JSONParser
from kjzx.workflow_api import choices_help, errors, request_object

STATES = "、".join(f"{value or '空'}（{label}）" for value, label in learning.State.LABELS.items())


class YearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    makeup = serializers.BooleanField(help_text="是否为补学年度（继续教育补学入口）")
    deadline = serializers.DateField(help_text="完成期限")
    makeup_until = serializers.DateField(allow_null=True, help_text="补学截止日期")


def _year(policy) -> dict:
    return {"year": policy.year, "makeup": learning.is_makeup(policy), "deadline": policy.deadline,
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
    minutes = serializers.IntegerField()
    body = serializers.CharField()
    video_url = serializers.CharField(source="safe_video_url", help_text="培训机构提供的 https 视频地址，没有则为空")
    done = serializers.BooleanField(help_text="本人是否已学完")


class QuestionSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    text = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(), help_text="选项；作答时提交选项序号（从0开始）")


class CourseDetailSerializer(CourseSerializer):
    description = serializers.CharField()
    video_url = serializers.CharField(source="safe_video_url")
    lesson_list = LessonSerializer(many=True, help_text="章节，按序号")
    questions = serializers.SerializerMethodField(help_text="测试题，按序号（不含答案）")

    @extend_schema_field(QuestionSerializer(many=True))
    def get_questions(self, course) -> list[dict]:
        return QuestionSerializer(course.questions.order_by("order"), many=True).data


class EnrolmentSerializer(serializers.Serializer):
    course = serializers.IntegerField(source="course_id")
    enrolled_at = serializers.DateTimeField()
    passed_at = serializers.DateTimeField(allow_null=True)
    best_score = serializers.IntegerField(allow_null=True)


class ProgressSerializer(serializers.Serializer):
    lesson = serializers.IntegerField()
    course = serializers.IntegerField()
    lessons = serializers.IntegerField(help_text="章节数")
    lessons_done = serializers.IntegerField(help_text="已学完的章节数")
    all_done = serializers.BooleanField(help_text="是否已学完全部章节（可参加测试）")


class TestInput(serializers.Serializer):
    answers = serializers.ListField(child=serializers.JSONField(),
                                    help_text="按题目顺序，每题所选选项的序号（从0开始）")


class TestResultSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text="成绩，0–100")
    passed = serializers.BooleanField()
    pass_mark = serializers.IntegerField()
    correct = serializers.IntegerField(help_text="答对题数")
    questions = serializers.IntegerField(help_text="题目数")
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
        years = learning.learning_years()
        policy = years.find(request.query_params.get("year")) or next(iter(years.regular or years.makeup), None)
        kind = request.query_params.get("subject_kind", "")
        archive = learning.learner_archive(request.user)
        courses = learning.catalogue(archive, policy, kind) if policy else []
        return Response({"year": _year(policy) if policy else None, "years": [_year(y) for y in years.all],
                         "results": CourseSerializer(courses, many=True).data})


class CourseDetailView(AccountantView):
    @extend_schema(summary="网络课程详情", description="课程简介、章节（含本人学习进度）与测试题（不含答案）。",
                   responses={200: CourseDetailSerializer, **errors(401, 403, 404)})
    def get(self, request, pk: int):
        course = learning.course_for_learner(learning.learner_archive(request.user), learning.course_get(pk))
        return Response(CourseDetailSerializer(course).data)


class CourseEnrolView(AccountantView):
    parser_classes = [JSONParser]

    @extend_schema(summary="报名网络课程", request=None,
                   description="重复报名返回同一报名记录。信息采集未审核通过（R-CE-12）、课程年度不在学习期或补学期内"
                               "（R-CE-6）→ 400。",
                   responses={200: EnrolmentSerializer, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        enrolment = learning.course_enrol(person=request.user, course=learning.course_get(pk))
        return Response(EnrolmentSerializer(enrolment).data)


class LessonCompleteView(AccountantView):
    parser_classes = [JSONParser]

    @extend_schema(summary="学完本节", request=None,
                   description="记录本人学完该章节（重复提交无影响）；未报名该课程 → 400。",
                   responses={200: ProgressSerializer, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        lesson = learning.lesson_get(pk)
        learning.lesson_complete(person=request.user, lesson=lesson)
        course = learning.course_for_learner(learning.learner_archive(request.user), lesson.course)
        return Response({"lesson": lesson.pk, "course": course.pk, "lessons": course.lesson_count,
                         "lessons_done": course.done, "all_done": course.all_done})


class CourseTestView(AccountantView):
    parser_classes = [JSONParser]

    @extend_schema(summary="提交课程测试", request=TestInput,
                   description="学完全部章节后提交，可多次测试，成绩达到合格分数（默认60分）为合格。合格课程的学分"
                               "在本年度学分（已登记 + 已学待登记）达到应修总学分（90）时由系统自动登记（R-CE-8），"
                               "此后每门合格即登记。",
                   responses={200: TestResultSerializer, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        course = learning.course_get(pk)
        result = learning.test_submit(person=request.user, course=course,
                                      answers=request_object(request).get("answers"))
        return Response(TestResultSerializer({
            "score": result.attempt.score, "passed": result.attempt.passed, "pass_mark": course.pass_mark,
            "correct": result.correct, "questions": result.questions, "best_score": result.enrolment.best_score,
            "registered": result.registered, "state": result.state, "missing": result.missing}).data)
