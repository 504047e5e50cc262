"""Files without a row (孤立的上传文件), swept daily (security 37, 99).

:func:`attachment_create` writes the file before the row, inside the caller's transaction, so a row
never points at a missing file. If that transaction rolls back (a face-to-face list refused after its
scans were stored, a crash between the two), the file stays in storage with no row: nobody can reach
it (downloads go through the row), but it holds personal data. Storing only after commit would turn
that into rows without files, which is worse; so the file is written first and swept afterwards.

:func:`orphaned_uploads_sweep` lists storage under :data:`PREFIX`, looks up which listed names a row
references (one query per :data:`BATCH` names), and deletes those no row references whose file is
older than the grace period (24 hours by default), so that an upload in flight is never touched.
Before deleting it looks once more (one query per batch) in case a row arrived meanwhile. One audit
event per run says what was removed. Safe to run twice; works on the file system and on
S3-compatible storage alike (only the unreferenced files are asked their age).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from kjzx.audit import record_event, register_event_labels
from records.models import Attachment

PREFIX = "attachments"  # records.models.attachment_path
GRACE = dt.timedelta(hours=24)
BATCH = 1000
SWEEP_EVENT = "attachment.orphans_swept"
register_event_labels({SWEEP_EVENT: "清理无记录的上传文件"})
log = logging.getLogger("records.uploads")


@dataclass
class SweepResult:
    listed: int = 0
    referenced: int = 0
    recent: int = 0  # unreferenced but younger than the grace period: an upload may be in flight
    deleted: list[str] = field(default_factory=list)


def orphaned_uploads_sweep(*, now: dt.datetime | None = None, grace: dt.timedelta = GRACE,
                           dry_run: bool = False) -> SweepResult:
    """Delete stored uploads no Attachment row references and older than ``grace``; audited."""
    storage = Attachment._meta.get_field("file").storage
    cutoff = (now or timezone.now()) - grace
    result = SweepResult()
    for batch in _batches(_walk(storage, PREFIX), BATCH):
        result.listed += len(batch)
        referenced = _referenced(batch)
        result.referenced += len(referenced)
        old = []
        for name in batch:
            if name in referenced:
                continue
            if storage.get_modified_time(name) > cutoff:
                result.recent += 1
            else:
                old.append(name)
        for name in sorted(set(old) - _referenced(old)):  # a last look before deleting
            if not dry_run:
                storage.delete(name)
            result.deleted.append(name)
    if not dry_run:
        with transaction.atomic():
            record_event(None, SWEEP_EVENT, extra={
                "deleted": len(result.deleted), "names": result.deleted[:100], "listed": result.listed,
                "recent": result.recent, "grace_hours": grace.total_seconds() / 3600})
    log.info("orphaned uploads: %d listed, %d deleted, %d recent kept", result.listed, len(result.deleted),
             result.recent)
    return result


def _referenced(names: list[str]) -> set[str]:
    if not names:
        return set()
    return set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))


def _walk(storage, path: str) -> Iterator[str]:
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{path}/{name}"
    for directory in sorted(directories):
        yield from _walk(storage, f"{path}/{directory}")


def _batches(names: Iterator[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for name in names:
        batch.append(name)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
