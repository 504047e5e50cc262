"""Celery entry points of records: each one calls a service (STYLE §1, §4)."""

from celery import shared_task

from kjzx.tasks import RETRY
from records.uploads.sweep import orphaned_uploads_sweep


@shared_task(name="records.tasks.sweep_orphaned_uploads", soft_time_limit=1800, time_limit=2100, **RETRY)
def sweep_orphaned_uploads() -> int:
    """Daily: delete uploaded files no attachment row references, older than a day (清理无记录的上传文件).

    Safe to run twice (a second run finds nothing to delete); a run missed is caught up by the next.
    Returns the number of files deleted.
    """
    return len(orphaned_uploads_sweep().deleted)
