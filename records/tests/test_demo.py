"""load_demo (API.md §3): a believable demo province for the records workflows, safe to load twice."""

import io
import time

import pytest
from django.core.management import call_command

from accounts.demo import ACCOUNTANTS, demo_id_number
from kjzx.models import AuditEvent, Notification
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication

pytestmark = pytest.mark.django_db


def states_by_region(model) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for status, region in model.objects.values_list("status", "archive__jurisdiction_id"):
        found.setdefault(status, set()).add(region)
    return found


@pytest.fixture(scope="module")
def output(django_db_setup, django_db_blocker):
    """Load the demo twice, once for the module (it is the slowest thing here); the second run must not fail."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            started = time.monotonic()
            first, second = io.StringIO(), io.StringIO()
            call_command("load_demo", stdout=first)
            counts = (CollectionApplication.objects.count(), ChangeRequest.objects.count(), Attachment.objects.count(),
                      AuditEvent.objects.count(), Notification.objects.count())
            call_command("load_demo", stdout=second)
            elapsed = time.monotonic() - started
            yield {"first": first.getvalue(), "second": second.getvalue(), "counts": counts, "elapsed": elapsed}
            transaction.set_rollback(True)


def test_every_collection_state_in_at_least_three_jurisdictions(output):
    """Draft, submitted, first_reviewed, approved and returned collections, each in 3+ bureaus (R-COL-4)."""
    found = states_by_region(CollectionApplication)
    for status in CollectionApplication.Status.values:
        assert len(found.get(status, ())) >= 3, (status, found.get(status))


def test_every_change_state_in_at_least_three_jurisdictions(output):
    """Draft, submitted, approved, returned and withdrawn changes, each in 3+ bureaus (R-CHG-1…4)."""
    found = states_by_region(ChangeRequest)
    for status in ChangeRequest.Status.values:
        assert len(found.get(status, ())) >= 3, (status, found.get(status))


def test_loading_twice_adds_nothing(output):
    """The second load_demo finds everything in place and writes no second copy."""
    counts = (CollectionApplication.objects.count(), ChangeRequest.objects.count(), Attachment.objects.count(),
              AuditEvent.objects.count(), Notification.objects.count())
    assert counts == output["counts"]
    assert "演示数据已就绪" in output["second"]


def test_queue_has_overdue_and_due_soon_work_with_reasons_and_history(output):
    """Backdated submissions: some steps overdue and escalated, some due soon (R-DL-2); returns carry reasons."""
    from django.utils import timezone

    today = timezone.localdate()
    open_collections = CollectionApplication.objects.filter(status__in=CollectionApplication.REVIEW_STATES)
    assert open_collections.filter(due_date__lt=today).exists()
    assert open_collections.filter(due_date__gte=today, reminded_for__isnull=False).exists()
    assert ChangeRequest.objects.filter(status="submitted", due_date__lt=today, escalated_for__isnull=False).exists()
    assert not CollectionApplication.objects.filter(status="returned", reason="").exists()
    assert not ChangeRequest.objects.filter(status="returned", reason="").exists()
    collection = open_collections.filter(due_date__lt=today).first()
    assert collection.submitted_at.date() < today
    assert AuditEvent.objects.filter(event_type="collection.submit", target_id=str(collection.pk),
                                     at__date__lt=today).exists()


def test_one_demo_login_has_no_archive_and_the_printout_says_who_is_where(output):
    """A demo user can walk the collection from scratch; the printout names each login's state."""
    address, born, sequence, name, _mobile = ACCOUNTANTS[0]
    number = demo_id_number(address, born, sequence)
    assert not Archive.objects.filter(person__username=number).exists()
    assert f"{number}  {name}：尚未建档" in output["first"]
    for *_rest, name, _mobile in ACCOUNTANTS:
        assert f"  {name}：" in output["first"]


def test_archives_are_complete_with_real_scans(output):
    """Submitted archives hold the scans a bureau checks: photo, ID, diploma (PNG and PDF) (R-COL-2)."""
    archive = Archive.objects.filter(status=Archive.Status.ACTIVE).first()
    kinds = set(archive.attachments.values_list("kind", flat=True))
    assert {"photo", "id_card", "diploma"} <= kinds
    types = set(Attachment.objects.values_list("content_type", flat=True))
    assert types == {"image/png", "application/pdf"}


def test_loads_in_reasonable_time(output):
    assert output["elapsed"] < 30
