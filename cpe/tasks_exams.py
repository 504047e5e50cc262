"""Celery entry points of exam pass lists (考试合格名单), R-CE-10: each one calls a service (STYLE §1, §4).

Celery's autodiscovery imports ``cpe.tasks`` only, which imports this module.
"""

from celery import shared_task

from cpe.exams import exam_import_check, exam_import_register
from kjzx.tasks import RETRY


@shared_task(name="cpe.tasks.check_exam_import", **RETRY)
def check_exam_import(import_id: int) -> dict:
    """Check every row of an uploaded exam list into the preview (valid / invalid / pending / duplicate).

    Safe to run twice: a list already checked is left alone; a run interrupted while checking starts
    the rows again. Returns ``{state: rows}``.
    """
    return exam_import_check(import_id)


@shared_task(name="cpe.tasks.register_exam_import", **RETRY)
def register_exam_import(import_id: int, by_id: int | None = None) -> dict:
    """Register the valid rows of a checked exam list: 90 credits per passed subject in the exam year.

    Safe to run twice and to resume: registered rows and people already registered from this exam
    and year are never registered again. ``by_id`` is who pressed 登记学分 (default: the uploader).
    Returns ``{state: rows}``.
    """
    from accounts.models import User

    by = User.objects.filter(pk=by_id).first() if by_id else None
    return exam_import_register(import_id, by=by)
