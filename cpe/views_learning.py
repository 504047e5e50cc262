"""The accountant's online-learning pages (网络学习), R-CE-2, R-CE-6, R-CE-7, R-CE-8, R-CE-12.

Thin views: :mod:`cpe.learning` selectors read the catalogue and the caller's own progress (no
other person's enrolment is ever read, R-ACL-2), its services write; a DomainError becomes a
message and a redirect (or, for the test, the form again with the message).

- ``/cpe/courses/``: the catalogue of a year open for learning, filtered by subject kind, with the
  person's state per course; the year's registered and pending (已学待登记) credits; the make-up
  years under "继续教育补学入口" while their window is open (R-CE-6).
- ``/cpe/courses/<pk>/``: description, lessons with ticks, progress, 报名学习, the test link.
- ``/cpe/lessons/<pk>/``: one lesson (text, the institution's https video if any) and 学完本节.
- ``/cpe/courses/<pk>/test/``: the end-of-course test, its last result, retries (R-CE-8).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import accountant_required
from cpe import learning
from cpe.models import SubjectKind
from kjzx.api import DomainError

MENU = "learning"
LETTERS = "ABCDEFGHIJ"


def _refused(request, exc: DomainError) -> None:
    for found in exc.errors.values():
        for message in found:
            messages.error(request, message)


def _blockers(archive, course) -> list[str]:
    """Why this person cannot learn this course now (R-CE-12, R-CE-6), for a disabled button."""
    found = [] if learning.is_collected(archive) else [learning.NOT_COLLECTED]
    refusal = learning.learning_refusal(course.year)
    return [*found, refusal] if refusal else found


@accountant_required
@require_GET
def course_list(request):
    """网络学习: one year's catalogue and the person's state per course; 补学入口 while open (R-CE-6, R-CE-8)."""
    years = learning.learning_years()
    chosen = years.find(request.GET.get("year"))
    policy = chosen or next(iter(years.regular or years.makeup), None)
    kind = request.GET.get("kind", "")
    kind = kind if kind in SubjectKind.values else ""
    archive = learning.learner_archive(request.user)
    collected = learning.is_collected(archive)
    return render(request, "cpe/learning/course_list.html", {
        "years": years, "policy": policy, "kind": kind, "kinds": SubjectKind.choices,
        "makeup": bool(policy) and learning.is_makeup(policy),
        "courses": learning.catalogue(archive, policy, kind) if policy else [],
        "summary": learning.online_summary(archive, policy) if policy and collected else None,
        "collected": collected, "not_collected": learning.NOT_COLLECTED, "menu": MENU})


@accountant_required
@require_GET
def course_detail(request, pk: int):
    """One course: what it covers, its lessons with this person's ticks, progress, 报名 and the test link."""
    archive = learning.learner_archive(request.user)
    course = learning.course_for_learner(archive, learning.course_get(pk))
    return render(request, "cpe/learning/course_detail.html", {
        "course": course, "blockers": _blockers(archive, course), "makeup": learning.is_makeup(course.year),
        "menu": MENU})


@accountant_required
@require_POST
def course_enrol(request, pk: int):
    """报名学习 (R-CE-12, R-CE-6); enrolling twice is harmless."""
    course = learning.course_get(pk)
    try:
        learning.course_enrol(person=request.user, course=course)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已报名《%(title)s》，请逐节学习，学完全部章节后参加课程测试。") % {
            "title": course.title})
    return redirect("cpe_course_detail", pk=course.pk)


@accountant_required
@require_GET
def lesson_detail(request, pk: int):
    """One lesson: its text, the institution's video (https only), and 学完本节."""
    lesson = learning.lesson_get(pk)
    archive = learning.learner_archive(request.user)
    course = learning.course_for_learner(archive, lesson.course)
    lessons = course.lesson_list
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    return render(request, "cpe/learning/lesson_detail.html", {
        "lesson": lessons[index], "course": course, "blockers": _blockers(archive, course),
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None, "menu": MENU})


@accountant_required
@require_POST
def lesson_complete(request, pk: int):
    """学完本节: on to the next unfinished lesson, or back to the course when all are done."""
    lesson = learning.lesson_get(pk)
    try:
        learning.lesson_complete(person=request.user, lesson=lesson)
    except DomainError as exc:
        _refused(request, exc)
        return redirect("cpe_lesson_detail", pk=lesson.pk)
    course = learning.course_for_learner(learning.learner_archive(request.user), lesson.course)
    following = next((item for item in course.lesson_list if not item.done), None)
    if following is None:
        messages.success(request, _("全部章节已学完，请参加课程测试。"))
        return redirect("cpe_course_test", pk=course.pk)
    messages.success(request, _("已记录：学完“%(title)s”。") % {"title": lesson.title})
    return redirect("cpe_lesson_detail", pk=following.pk)


@accountant_required
@require_http_methods(["GET", "POST"])
def course_test(request, pk: int):
    """The end-of-course test (课程测试): the last result, and the questions to (re)take it (R-CE-8)."""
    archive = learning.learner_archive(request.user)
    course = learning.course_for_learner(archive, learning.course_get(pk))
    if not course.all_done:
        messages.warning(request, _("请先报名并学完全部章节，再参加课程测试。"))
        return redirect("cpe_course_detail", pk=course.pk)
    questions = list(course.questions.order_by("order"))
    chosen, errors = {}, []
    if request.method == "POST":
        chosen = {q.pk: request.POST.get(f"q{q.pk}", "") for q in questions}
        try:
            result = learning.test_submit(person=request.user, course=course, answers=list(chosen.values()))
        except DomainError as exc:
            errors = [message for found in exc.errors.values() for message in found]
        else:
            messages.success(request, _result_message(result))
            return redirect("cpe_course_test", pk=course.pk)
    for question in questions:
        question.options = [(str(i), LETTERS[i % len(LETTERS)], text) for i, text in enumerate(question.choices)]
        question.chosen = str(chosen.get(question.pk, ""))
    summary = learning.online_summary(archive, course.year) if course.state == learning.State.PENDING else None
    return render(request, "cpe/learning/course_test.html", {
        "course": course, "questions": questions, "errors": errors, "summary": summary,
        "blockers": _blockers(archive, course), "menu": MENU})


def _number(value) -> str:
    """24.0 → "24", 7.5 → "7.5"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _result_message(result: learning.TestResult) -> str:
    if not result.attempt.passed:
        return _("本次测试%(score)s分，未达到合格分数%(mark)s分，请复习后重新测试。") % {
            "score": result.attempt.score, "mark": result.enrolment.course.pass_mark}
    if result.registered:
        return _("测试合格（%(score)s分），本课程%(credits)s学分已登记。") % {
            "score": result.attempt.score, "credits": _number(result.enrolment.course.credits)}
    return _("测试合格（%(score)s分）。本课程学分已学待登记：本年度学满%(total)s学分后由系统自动登记，"
             "还差%(missing)s学分。") % {"score": result.attempt.score, "missing": _number(result.missing),
                                  "total": _number(result.enrolment.course.year.required_total)}
