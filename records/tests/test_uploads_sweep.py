"""Files without a row are swept (security 37).

Before the sweep nothing removed the file of an upload whose transaction rolled back: it stayed in
storage, holding personal data, with no row pointing to it.
"""

from __future__ import annotations

import os
import time

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import transaction

from kjzx.models import AuditEvent
from records.models import Attachment
from records.tasks import sweep_orphaned_uploads
from records.uploads import attachment_create
from records.uploads.sweep import SWEEP_EVENT, orphaned_uploads_sweep
from tests.factories import PDF_BYTES, png_bytes, upload

pytestmark = pytest.mark.django_db
DAY = 24 * 3600


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    """A storage of this test's own: the session's other uploads are not ours to sweep."""
    settings.MEDIA_ROOT = tmp_path


def age(name: str, seconds: float) -> None:
    moment = time.time() - seconds
    os.utime(default_storage.path(name), (moment, moment))


def rolled_back_upload(owner) -> str:
    """An upload stored inside a transaction that then fails: its file stays, its row does not."""
    with pytest.raises(RuntimeError), transaction.atomic():
        name = attachment_create(owner=owner, kind="evidence", upload=upload("证明.pdf", PDF_BYTES,
                                                                             "application/pdf")).file.name
        raise RuntimeError("the rest of the form was refused")
    assert default_storage.exists(name) and not Attachment.objects.filter(file=name).exists()
    return name


def test_the_sweep_removes_a_rolled_back_uploads_file_and_keeps_the_rest(accountant):
    """Orphan older than a day: deleted; a referenced file and a fresh orphan (an upload in flight): kept; audited."""
    orphan = rolled_back_upload(accountant)
    fresh = rolled_back_upload(accountant)
    kept = attachment_create(owner=accountant, kind="photo", upload=upload("照片.png", png_bytes())).file.name
    age(orphan, DAY + 60)
    age(fresh, 60)  # by the test's clock, which may be pinned to another day than the files' real one
    age(kept, 30 * DAY)
    result = orphaned_uploads_sweep()
    assert result.deleted == [orphan] and result.listed == 3 and result.referenced == 1 and result.recent == 1
    assert not default_storage.exists(orphan)
    assert default_storage.exists(fresh) and default_storage.exists(kept)
    event = AuditEvent.objects.get(event_type=SWEEP_EVENT)
    assert event.actor is None and event.extra["deleted"] == 1 and event.extra["names"] == [orphan]
    assert orphaned_uploads_sweep().deleted == []  # safe to run twice


def test_the_sweep_asks_the_database_once_per_thousand_files_whatever_their_number(accountant,
                                                                                   django_assert_num_queries):
    """Set-based: one query for the referenced names of a batch, one last look before deleting (no per-file query)."""
    names = [rolled_back_upload(accountant) for _ in range(12)]
    for name in names:
        age(name, 2 * DAY)
    # referenced names, the last look, and the audit row in its savepoint (the chain's head, the INSERT)
    with django_assert_num_queries(6):
        assert len(orphaned_uploads_sweep().deleted) == 12


def test_the_command_lists_first_and_refuses_a_grace_under_an_hour(accountant, capsys):
    """manage.py sweep_orphaned_uploads: --dry-run deletes nothing; under an hour of grace could hit an upload
    in flight."""
    orphan = rolled_back_upload(accountant)
    age(orphan, 2 * DAY)
    call_command("sweep_orphaned_uploads", "--dry-run")
    assert f"将删除 {orphan}" in capsys.readouterr().out and default_storage.exists(orphan)
    assert not AuditEvent.objects.filter(event_type=SWEEP_EVENT).exists()
    with pytest.raises(CommandError, match="至少 1 小时"):
        call_command("sweep_orphaned_uploads", "--grace-hours", "0.5")
    call_command("sweep_orphaned_uploads")
    assert "已删除 1 个无记录的文件" in capsys.readouterr().out and not default_storage.exists(orphan)


def test_the_daily_task_is_scheduled_and_runs_the_sweep(accountant):
    """Beat runs records.tasks.sweep_orphaned_uploads daily; the task returns the number deleted."""
    entry = next(e for e in django_settings.CELERY_BEAT_SCHEDULE.values()
                 if e["task"] == "records.tasks.sweep_orphaned_uploads")
    assert entry["schedule"].hour == {3} and sweep_orphaned_uploads.name == entry["task"]
    age(rolled_back_upload(accountant), 2 * DAY)
    assert sweep_orphaned_uploads.apply().get() == 1
