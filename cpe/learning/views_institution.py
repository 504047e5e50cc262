"""A training institution's online courses (课程内容管理), R-CE-8, R-CE-14: thin pages over
:mod:`cpe.learning.services.content`.

The institution account (role 培训机构) manages its own institutions' online courses from its workbench:

- ``/institution/courses/``: every course with its year, credits, lessons, questions, enrolments and
  whether it is published; 新建课程.
- ``/institution/courses/new/`` and ``/institution/courses/<pk>/``: the course (credits, hours, year,
  subject kind, pass mark, questions per paper, 发布), its lessons and its question bank (新增试题, 停用).
- ``/institution/courses/<pk>/lessons/new/`` and ``/institution/lessons/<pk>/``: a lesson — a video or a
  PDF uploaded here (checked by its content; a video's real duration measured by ffprobe) or a text —
  and its duration, which may not exceed the video.

Another account's course, lesson or question is a 404 (R-ACL-1).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from cpe.institutions.selectors import ONLINE_KINDS, owned_institutions
from cpe.learning import selectors, services
from cpe.models import CEYear, LessonKind, SubjectKind
from kjzx.api import DomainError

institution_required = role_required(Role.INSTITUTION)


class CourseForm(forms.Form):
    institution = forms.TypedChoiceField(label=gettext_lazy("培训机构"), coerce=int)
    title = forms.CharField(label=gettext_lazy("课程名称"), max_length=200)
    subject_kind = forms.ChoiceField(label=gettext_lazy("科目类别"), choices=SubjectKind.choices,
                                     widget=forms.RadioSelect)
    year = forms.TypedChoiceField(label=gettext_lazy("适用年度"), coerce=int,
                                  help_text=gettext_lazy("学分计入的继续教育年度。"))
    credits = forms.DecimalField(label=gettext_lazy("学分"), max_digits=4, decimal_places=1, min_value=0.1)
    hours = forms.DecimalField(label=gettext_lazy("学时"), max_digits=4, decimal_places=1, min_value=0.1)
    description = forms.CharField(label=gettext_lazy("课程简介"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    pass_mark = forms.IntegerField(label=gettext_lazy("测试合格分数"), min_value=1, max_value=100, initial=60)
    test_size = forms.IntegerField(label=gettext_lazy("每次测试抽题数"), min_value=1, max_value=100, initial=10,
                                   help_text=gettext_lazy("每次测试从题库中随机抽取的题数；题库不足时全部抽取。"))
    published = forms.BooleanField(label=gettext_lazy("发布（学员可在网络学习中看到并报名）"), required=False,
                                   help_text=gettext_lazy("机构已备案并公布、至少有一个章节和一道测试题时方可发布。"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = [
            (i.pk, i.name) for i in owned_institutions(user).filter(kind__in=ONLINE_KINDS).order_by("name")]
        self.fields["year"].choices = [(y, f"{y}年度") for y in CEYear.objects.filter(
            frozen_at__isnull=True).order_by("-year").values_list("year", flat=True)]


class LessonForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("章节名称"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("章节类型"), choices=LessonKind.choices, widget=forms.RadioSelect,
                             initial=LessonKind.VIDEO)
    minutes = forms.IntegerField(label=gettext_lazy("时长：分"), min_value=0, max_value=360, initial=0)
    seconds = forms.IntegerField(label=gettext_lazy("时长：秒"), min_value=0, max_value=59, initial=0,
                                 help_text=gettext_lazy("视频章节不得超过视频实际时长；图文、PDF章节为学员最少阅读时间。"))
    media = forms.FileField(label=gettext_lazy("视频或PDF文件"), required=False,
                            widget=forms.FileInput(attrs={"accept": "video/mp4,video/webm,application/pdf"}),
                            help_text=gettext_lazy("视频：MP4（H.264）或 WebM；讲义：PDF。按文件内容识别。"))
    body = forms.CharField(label=gettext_lazy("正文或内容提要"), required=False, max_length=100000,
                           widget=forms.Textarea(attrs={"rows": 8}))


class QuestionForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("题目"), max_length=500)
    choices = forms.CharField(label=gettext_lazy("选项（每行一个）"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 4}))
    answer = forms.IntegerField(label=gettext_lazy("正确选项是第几个"), min_value=1, max_value=8,
                                help_text=gettext_lazy("按上面选项的行序，从1开始。"))


def _apply_errors(form: forms.Form, exc: DomainError) -> None:
    aliases = {"duration_seconds": "minutes"}
    for key, found in exc.errors.items():
        key = aliases.get(key, key)
        for message in found:
            form.add_error(key if key in form.fields else None, message)


@institution_required
@require_GET
def course_list(request):
    """The institution's online courses."""
    return render(request, "cpe/learning/institution/courses.html", {
        "courses": list(selectors.owned_courses(request.user)),
        "can_create": owned_institutions(request.user).filter(kind__in=ONLINE_KINDS).exists()})


def _course_initial(course) -> dict:
    return {"institution": course.institution_id, "title": course.title, "subject_kind": course.subject_kind,
            "year": course.year_id, "credits": course.credits, "hours": course.hours,
            "description": course.description, "pass_mark": course.pass_mark, "test_size": course.test_size,
            "published": course.published}


@institution_required
@require_http_methods(["GET", "POST"])
def course_edit(request, pk: int | None = None):
    """新建课程 or one course: its fields, lessons and question bank."""
    course = selectors.owned_course_get(request.user, pk) if pk else None
    form = CourseForm(request.POST or None, user=request.user, initial=_course_initial(course) if course else None)
    if request.method == "POST" and form.is_valid():
        institution = owned_institutions(request.user).get(pk=form.cleaned_data["institution"])
        try:
            saved = services.course_save(user=request.user, institution=institution, data=form.cleaned_data,
                                         course=course)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("课程已保存。") if course else _("课程已创建，请添加章节和测试题，然后发布。"))
            return redirect("institution_course", pk=saved.pk)
    context = {"form": form, "course": course, "question_form": QuestionForm()}
    if course is not None:
        in_use = selectors.lessons_in_use(course)
        context["lessons"] = [(lesson, lesson.pk in in_use) for lesson in course.lessons.order_by("order")]
        context["questions"] = list(course.questions.order_by("retired", "order"))
    return render(request, "cpe/learning/institution/course.html", context)


@institution_required
@require_http_methods(["GET", "POST"])
def lesson_edit(request, course_pk: int | None = None, pk: int | None = None):
    """添加章节 or one lesson: its file (video or PDF) or text, and its duration."""
    lesson = selectors.owned_lesson_get(request.user, pk) if pk else None
    course = lesson.course if lesson else selectors.owned_course_get(request.user, course_pk)
    initial = None
    if lesson is not None:
        initial = {"title": lesson.title, "kind": lesson.kind, "body": lesson.body,
                   "minutes": lesson.duration_seconds // 60, "seconds": lesson.duration_seconds % 60}
    form = LessonForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data,
                "duration_seconds": form.cleaned_data["minutes"] * 60 + form.cleaned_data["seconds"]}
        try:
            services.lesson_save(user=request.user, course=course, data=data, upload=form.cleaned_data["media"],
                                 lesson=lesson)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("章节已保存。"))
            return redirect("institution_course", pk=course.pk)
    in_use = lesson is not None and lesson.pk in selectors.lessons_in_use(course)
    return render(request, "cpe/learning/institution/lesson.html", {
        "form": form, "course": course, "lesson": lesson, "in_use": in_use,
        "duration": selectors.clock(lesson.duration_seconds) if lesson else "",
        "media_duration": selectors.clock(lesson.media_seconds) if lesson and lesson.media_seconds else ""})


@institution_required
@require_POST
def question_add(request, pk: int):
    """新增试题 to the course's bank."""
    course = selectors.owned_course_get(request.user, pk)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_add(user=request.user, course=course, data=form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("试题已加入题库。"))
            return redirect("institution_course", pk=course.pk)
    for field, found in form.errors.items():
        for message in found:
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{message}" if label else message)
    return redirect("institution_course", pk=course.pk)


@institution_required
@require_POST
def question_retire(request, pk: int):
    """停用 or 启用 a question."""
    question = selectors.owned_question_get(request.user, pk)
    try:
        services.question_retire(user=request.user, question=question, retired=request.POST.get("retired") == "1")
    except DomainError as exc:
        for found in exc.errors.values():
            for message in found:
                messages.error(request, message)
    return redirect("institution_course", pk=question.course_id)
