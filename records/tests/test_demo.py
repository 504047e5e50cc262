"""load_demo (API.md §3): a believable demo province for the records workflows, safe to load twice.

``demo`` (tests/conftest_dates.py) is the demo loaded twice for the session; every test here is
``date_sensitive``: the demo counts back from today, and must look right on any day of the year.
"""

import pytest
from django.utils import timezone

from accounts.demo import ACCOUNTANTS, demo_id_number
from kjzx.models import AuditEvent
from kjzx.workdays import working_day_set
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication
from tests.conftest_dates import model_counts

pytestmark = pytest.mark.django_db


def states_by_region(model) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for status, region in model.objects.values_list("status", "archive__jurisdiction_id"):
        found.setdefault(status, set()).add(region)
    return found


def test_every_collection_state_in_at_least_three_jurisdictions(demo):
    """Draft, submitted, first_reviewed, approved and returned collections, each in 3+ bureaus (R-COL-4)."""
    found = states_by_region(CollectionApplication)
    for status in CollectionApplication.Status.values:
        assert len(found.get(status, ())) >= 3, (status, found.get(status))


def test_every_change_state_in_at_least_three_jurisdictions(demo):
    """Draft, submitted, approved, returned and withdrawn changes, each in 3+ bureaus (R-CHG-1…4)."""
    found = states_by_region(ChangeRequest)
    for status in ChangeRequest.Status.values:
        assert len(found.get(status, ())) >= 3, (status, found.get(status))


def test_loading_twice_adds_nothing(demo):
    """The second load_demo finds everything in place and writes no second copy, in any app (API.md §3)."""
    assert model_counts() == demo["counts"]
    assert "演示数据已就绪" in demo["second"]


def test_queue_has_overdue_and_due_soon_work_with_reasons_and_history(demo):
    """Backdated submissions: some steps overdue and escalated, some due soon (R-DL-2); returns carry reasons.

    On any day: on a Saturday the step "due next working day" is due on Monday and still reminded.
    """
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


def test_one_demo_login_has_no_archive_and_the_printout_says_who_is_where(demo):
    """A demo user can walk the collection from scratch; the printout names each login's state."""
    address, born, sequence, name, _mobile = ACCOUNTANTS[0]
    number = demo_id_number(address, born, sequence)
    assert not Archive.objects.filter(person__id_number=number).exists()
    assert f"{number}  {name}：尚未建档" in demo["first"]
    for *_rest, name, _mobile in ACCOUNTANTS:
        assert f"  {name}：" in demo["first"]


def test_archives_are_complete_with_real_scans(demo):
    """Submitted archives hold the scans a bureau checks: photo, ID, diploma (PNG and PDF) (R-COL-2)."""
    archive = Archive.objects.filter(status=Archive.Status.ACTIVE).first()
    kinds = set(archive.attachments.values_list("kind", flat=True))
    assert {"photo", "id_card", "diploma"} <= kinds
    types = set(Attachment.objects.values_list("content_type", flat=True))
    assert types == {"image/png", "application/pdf"}


def test_every_step_was_taken_on_a_working_day_and_none_in_the_future(demo):
    """Submissions and decisions of the demo fall on working days, in the past, whatever today is (R-DL-1)."""
    now = timezone.now()
    moments = [*CollectionApplication.objects.exclude(submitted_at=None).values_list("submitted_at", flat=True),
               *CollectionApplication.objects.exclude(decided_at=None).values_list("decided_at", flat=True),
               *ChangeRequest.objects.exclude(submitted_at=None).values_list("submitted_at", flat=True),
               *ChangeRequest.objects.exclude(decided_at=None).values_list("decided_at", flat=True)]
    days = {timezone.localdate(moment) for moment in moments}
    assert moments and max(moments) < now
    assert days <= working_day_set(min(days), max(days)), sorted(days - working_day_set(min(days), max(days)))


def test_loads_in_reasonable_time(demo):
    """The demo loads twice in well under half a minute of CPU (about 5 s; CI loads it at every fixed date).
    CPU time, not the wall clock: on a machine busy with other work the wall clock says nothing."""
    assert demo["cpu"] < 30, (demo["cpu"], demo["elapsed"])
