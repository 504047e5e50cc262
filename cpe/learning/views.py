"""The accountant's online-learning pages (网络学习), R-CE-2, R-CE-6, R-CE-7, R-CE-8, R-CE-12.

Thin views: :mod:`cpe.learning.selectors` read the catalogue and the caller's own progress (no
other person's enrolment is ever read, R-ACL-2), its services write; a DomainError becomes a
message and a redirect (or, for the test, the form again with the message).

- ``/cpe/courses/``: the catalogue of a year open for learning, filtered by subject kind, with the
  person's state per course; the year's registered and pending (已学待登记) credits; the make-up
  years under "继续教育补学入口" while their window is open (R-CE-6).
- ``/cpe/courses/<pk>/``: description, lessons with ticks, progress, 报名学习, the test link.
- ``/cpe/lessons/<pk>/``: one lesson — its video, PDF or text — with the time learned and required;
  ``static/js/learning.js`` sends the heartbeats (the API's ``/api/v1/cpe/lessons/<pk>/…``); 学完本节 is
  refused with the time still needed until the server has credited it (R-CE-8).
- ``/cpe/lessons/<pk>/media/``: the lesson's video or PDF, for its enrolled people only, in byte ranges.
- ``/cpe/courses/<pk>/test/``: the end-of-course test: a paper drawn from the bank, the last result with
  the questions answered wrongly (a failed attempt is a warning, not a success), retries (R-CE-8).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import accountant_required
from cpe.learning import selectors, services
from cpe.learning.media import range_response
from cpe.ledger.rules import NOT_COLLECTED, collection_approved
from cpe.models import LessonKind, SubjectKind
from kjzx.api import DomainError
from kjzx.http import client_ip

MENU = "learning"
LETTERS = selectors.LETTERS


def _refused(request, exc: DomainError) -> None:
    for found in exc.errors.values():
        for message in found:
            messages.error(request, message)


def _blockers(archive, course) -> list[str]:
    """Why this person cannot learn this course now (R-CE-12, R-CE-6), for a disabled button."""
    found = [] if collection_approved(archive) else [NOT_COLLECTED]
    refusal = selectors.learning_refusal(course.year)
    return [*found, refusal] if refusal else found


@accountant_required
@require_GET
def course_list(request):
    """网络学习: one year's catalogue and the person's state per course; 补学入口 while open (R-CE-6, R-CE-8)."""
    years = selectors.learning_years()
    chosen = years.find(request.GET.get("year"))
    policy = chosen or next(iter(years.regular or years.makeup), None)
    kind = request.GET.get("kind", "")
    kind = kind if kind in SubjectKind.values else ""
    archive = selectors.learner_archive(request.user)
    collected = collection_approved(archive)
    return render(request, "cpe/learning/course_list.html", {
        "years": years, "policy": policy, "kind": kind, "kinds": SubjectKind.choices,
        "makeup": bool(policy) and selectors.is_makeup(policy),
        "courses": selectors.catalogue(archive, policy, kind) if policy else [],
        "summary": selectors.online_summary(archive, policy) if policy and collected else None,
        "collected": collected, "not_collected": NOT_COLLECTED, "menu": MENU})


@accountant_required
@require_GET
def course_detail(request, pk: int):
    """One course: what it covers, its lessons with this person's ticks, progress, 报名 and the test link."""
    archive = selectors.learner_archive(request.user)
    course = selectors.course_for_learner(archive, selectors.course_get(pk))
    return render(request, "cpe/learning/course_detail.html", {
        "course": course, "blockers": _blockers(archive, course), "makeup": selectors.is_makeup(course.year),
        "menu": MENU})


@accountant_required
@require_POST
def course_enrol(request, pk: int):
    """报名学习 (R-CE-12, R-CE-6); enrolling twice is harmless."""
    course = selectors.course_get(pk)
    try:
        services.course_enrol(person=request.user, course=course)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已报名《%(title)s》，请逐节学习，学完全部章节后参加课程测试。") % {
            "title": course.title})
    return redirect("cpe_course_detail", pk=course.pk)


@accountant_required
@require_GET
def lesson_detail(request, pk: int):
    """One lesson: its video, PDF or text, the time learned and required, and 学完本节 (R-CE-8)."""
    lesson = selectors.lesson_get(pk)
    archive = selectors.learner_archive(request.user)
    course = selectors.course_for_learner(archive, lesson.course)
    lessons = course.lesson_list
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    return render(request, "cpe/learning/lesson_detail.html", {
        "lesson": lessons[index], "course": course, "blockers": _blockers(archive, course),
        "timing": selectors.learning_policy(), "media": selectors.has_media(lessons[index]),
        "is_video": lessons[index].kind == LessonKind.VIDEO, "is_pdf": lessons[index].kind == LessonKind.PDF,
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None, "menu": MENU})


@accountant_required
@require_GET
@xframe_options_sameorigin  # a PDF lesson is shown in a frame of its lesson page
def lesson_media(request, pk: int):
    """The lesson's video or PDF from the project's storage, to its enrolled people only, in byte ranges."""
    lesson = selectors.lesson_media_get(request.user, pk)
    return range_response(lesson.media, lesson.media_type or "application/octet-stream",
                          request.headers.get("Range", ""))


@accountant_required
@require_POST
def lesson_complete(request, pk: int):
    """学完本节: only once the server has credited the lesson's time; then on to the next unfinished lesson,
    or to the test when all are done."""
    lesson = selectors.lesson_get(pk)
    try:
        services.lesson_complete(person=request.user, lesson=lesson, ip=client_ip(request))
    except DomainError as exc:
        _refused(request, exc)
        return redirect("cpe_lesson_detail", pk=lesson.pk)
    course = selectors.course_for_learner(selectors.learner_archive(request.user), lesson.course)
    following = next((item for item in course.lesson_list if not item.done), None)
    if following is None:
        messages.success(request, _("全部章节已学完，请参加课程测试。"))
        return redirect("cpe_course_test", pk=course.pk)
    messages.success(request, _("已记录：学完“%(title)s”。") % {"title": lesson.title})
    return redirect("cpe_lesson_detail", pk=following.pk)


@accountant_required
@require_http_methods(["GET", "POST"])
def course_test(request, pk: int):
    """The end-of-course test (课程测试): the last result with what was wrong, and a paper drawn from the bank
    to (re)take it (R-CE-8). A failed attempt is a warning."""
    archive = selectors.learner_archive(request.user)
    course = selectors.course_for_learner(archive, selectors.course_get(pk))
    if not course.all_done:
        messages.warning(request, _("请先报名并学完全部章节（每节学满规定时长），再参加课程测试。"))
        return redirect("cpe_course_detail", pk=course.pk)
    chosen, errors = {}, []
    if request.method == "POST":
        result, errors, chosen = _submit(request, course)
        if result is not None:
            (messages.success if result.attempt.passed else messages.warning)(request, _result_message(result))
            return redirect("cpe_course_test", pk=course.pk)
    blockers = _blockers(archive, course)
    paper, questions = None, []
    if not blockers:
        try:
            paper = services.test_paper(person=request.user, course=course)
        except DomainError as exc:
            errors = [*errors, *(message for found in exc.errors.values() for message in found)]
        else:
            questions = services.paper_questions(paper) or []
    for question in questions:
        question.options = [(str(i), LETTERS[i % len(LETTERS)], text) for i, text in enumerate(question.choices)]
        question.chosen = str(chosen.get(question.pk, ""))
    summary = selectors.online_summary(archive, course.year) if course.state == selectors.State.PENDING else None
    return render(request, "cpe/learning/course_test.html", {
        "course": course, "paper": paper, "questions": questions, "errors": errors, "summary": summary,
        "wrong": selectors.attempt_review(course.last_attempt), "blockers": blockers, "menu": MENU})


def _submit(request, course):
    """(result or None, error messages, what was chosen) of a POSTed paper."""
    paper = request.POST.get("attempt", "")
    open_paper = course.enrolment.attempts.filter(submitted_at__isnull=True).first() if course.enrolment else None
    same = open_paper is not None and (not paper or str(open_paper.pk) == paper)
    questions = services.paper_questions(open_paper) if same else None
    chosen = {q.pk: request.POST.get(f"q{q.pk}", "") for q in questions or []}
    try:
        result = services.test_submit(person=request.user, course=course, answers=list(chosen.values()),
                                      attempt=paper or None)
    except DomainError as exc:
        return None, [message for found in exc.errors.values() for message in found], chosen
    return result, [], chosen


def _number(value) -> str:
    """24.0 → "24", 7.5 → "7.5"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _result_message(result: services.TestResult) -> str:
    if not result.attempt.passed:
        return _("本次测试%(score)s分，未达到合格分数%(mark)s分（答错%(wrong)s题），请复习后重新测试。") % {
            "score": result.attempt.score, "mark": result.enrolment.course.pass_mark, "wrong": len(result.wrong)}
    if result.registered:
        return _("测试合格（%(score)s分），本课程%(credits)s学分已登记。") % {
            "score": result.attempt.score, "credits": _number(result.enrolment.course.credits)}
    return _("测试合格（%(score)s分）。本课程学分已学待登记：本年度学满%(total)s学分后由系统自动登记，"
             "还差%(missing)s学分。") % {"score": result.attempt.score, "missing": _number(result.missing),
                                  "total": _number(result.enrolment.course.year.required_total)}
