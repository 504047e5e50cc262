"""Celery entry points of continuing education: each one calls a service (STYLE §1, §4).

The names are part of the beat schedule and of queued messages, so they never change:
``cpe.tasks.close_due_cpe_years``, ``cpe.tasks.check_exam_import``, ``cpe.tasks.register_exam_import``,
``cpe.tasks.check_attendance_list``.

The name-list tasks read files people upload: each has a soft time limit (the task stops, the list
fails with the reason in words) and a hard one a little later (the worker process is replaced), on top
of the reader's own bounds (``cpe.lists.spreadsheets.Limits``); ``settings.CELERY_TASK_*_TIME_LIMIT``
bound every other task.
"""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from cpe.ledger.policy import ce_year_ensure
from cpe.ledger.services import due_years_close
from cpe.lists.services.exams import exam_import_check, exam_import_fail, exam_import_register
from cpe.lists.services.face_to_face import attendance_check, attendance_fail
from kjzx.tasks import RETRY

# (soft, hard) seconds
CHECK_EXAM_LIMITS = (300, 330)
REGISTER_EXAM_LIMITS = (600, 660)
CHECK_ATTENDANCE_LIMITS = (60, 90)


def _timed_out(limits: tuple[int, int]) -> str:
    return f"名单处理超时（上限{limits[0]}秒），未保存任何结果。请检查文件或拆分后重新上传。"


@shared_task(name="cpe.tasks.close_due_cpe_years", **RETRY)
def close_due_cpe_years() -> dict:
    """Daily: freeze every CE year whose registration has closed into the credit-information file
    (年度学分登记结束，纳入信用信息档案), and make sure this year's policy exists (R-CE-5, R-CE-13, R-DL-3).

    On 1 January the new year appears with the previous year's numbers, due 31 March of the next
    year and with no make-up window, for provincial staff to adjust. Safe to run twice (a frozen year
    is left alone); after days without a run the next one closes everything that came due meanwhile.
    Returns ``{"closed": [years], "current": year}``.
    """
    current = ce_year_ensure(timezone.localdate().year)
    return {"closed": due_years_close(), "current": current.year}


@shared_task(name="cpe.tasks.check_exam_import", soft_time_limit=CHECK_EXAM_LIMITS[0],
             time_limit=CHECK_EXAM_LIMITS[1], **RETRY)
def check_exam_import(import_id: int) -> dict:
    """Check every row of an uploaded exam list into the preview (valid / invalid / pending / duplicate), R-CE-10.

    Safe to run twice: a list already checked is left alone; a run interrupted while checking starts
    the rows again. Returns ``{state: rows}`` (``{}`` when the list failed: its ``error`` says why).
    """
    try:
        return exam_import_check(import_id)
    except SoftTimeLimitExceeded:
        exam_import_fail(import_id, _timed_out(CHECK_EXAM_LIMITS))
        return {}


@shared_task(name="cpe.tasks.check_attendance_list", soft_time_limit=CHECK_ATTENDANCE_LIMITS[0],
             time_limit=CHECK_ATTENDANCE_LIMITS[1], **RETRY)
def check_attendance_list(list_id: int) -> dict:
    """Check every row of an institution's face-to-face list (valid / invalid / duplicate), R-CE-9.

    Safe to run twice. Returns ``{state: rows}`` (``{}`` when the list failed: its ``error`` says why).
    """
    try:
        return attendance_check(list_id)
    except SoftTimeLimitExceeded:
        attendance_fail(list_id, _timed_out(CHECK_ATTENDANCE_LIMITS))
        return {}


@shared_task(name="cpe.tasks.register_exam_import", soft_time_limit=REGISTER_EXAM_LIMITS[0],
             time_limit=REGISTER_EXAM_LIMITS[1], **RETRY)
def register_exam_import(import_id: int, by_id: int | None = None) -> dict:
    """Register the valid rows of a checked exam list: the exam standard's credits per passed subject, R-CE-10.

    Safe to run twice and to resume: registered rows and people already registered from this exam
    and year are never registered again. ``by_id`` is who pressed 登记学分 (default: the uploader).
    Returns ``{state: rows}``.
    """
    from accounts.models import User

    by = User.objects.filter(pk=by_id).first() if by_id else None
    try:
        return exam_import_register(import_id, by=by)
    except SoftTimeLimitExceeded:  # the batch in flight rolled back; registered batches stay, a rerun resumes
        exam_import_fail(import_id, f"登记超时（上限{REGISTER_EXAM_LIMITS[0]}秒），已登记的部分保留，"
                                    "可重新点击登记继续。")
        return {}
