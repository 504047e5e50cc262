"""The one way credits enter the ledger: credits_register, set-based, and credit_register its one-row case.

One way credits enter the ledger: the year lock, R-CE-12, R-CE-13, the one-per-source
constraint, the messages and the audit live in credits_register alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cpe.ledger.rules import NOT_COLLECTED, frozen_refusal
from cpe.ledger.services import CreditRow, credit_register, credits_register
from cpe.models import CEYear, CreditEntry
from kjzx.api import Conflict, DomainError
from kjzx.models import AuditEvent
from records.models import Archive
from tests.factories import make_active_archive

pytestmark = pytest.mark.django_db

YEAR = 2025


def archives(count: int, *, collected: bool = True) -> list[Archive]:
    """``count`` archives made in bulk: collected (R-CE-12) or still collecting."""
    born, first = dt.date(1980, 1, 1), Archive.objects.count()
    return Archive.objects.bulk_create([
        Archive(name=f"人{i}", id_type="passport", id_number=f"E{first + i:08d}", sex="M", birth_date=born,
                status=Archive.Status.ACTIVE if collected else Archive.Status.COLLECTING,
                collected_at=timezone.now() if collected else None)
        for i in range(count)])


def exam_batch(rows, **kwargs):
    return credits_register(rows, year=YEAR, form="exam", source_type="exam_file", source_id="cpa",
                            subject_kind="professional", source_label="2025年注册会计师考试合格", **kwargs)


def test_a_batch_costs_the_same_queries_for_ten_people_as_for_five_hundred():
    """set-based — one lock, one query per check over the batch, one insert, one audit row, and
    the dashboards' summaries kept in step by a fixed set of statements (cpe/ledger/summaries.py)."""
    counts = []
    for size in (10, 500):
        people = archives(size)
        with CaptureQueriesContext(connection) as queries:
            registration = exam_batch([CreditRow(a.pk, Decimal("90")) for a in people])
        assert len(registration.entries) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 20


def test_a_batch_reports_people_not_collected_and_sources_registered_already():
    """R-CE-12 and the one-per-source rule: refused rows come back, the rest register, one audit row."""
    ready, waiting = archives(3), archives(2, collected=False)
    exam_batch([CreditRow(ready[0].pk, Decimal("90"))])
    registration = exam_batch([CreditRow(a.pk, Decimal("180")) for a in [*ready, *waiting]]
                              + [CreditRow(ready[1].pk, Decimal("90"))])  # the same person twice in a batch
    assert sorted(e.archive_id for e in registration.entries) == sorted([ready[1].pk, ready[2].pk])
    assert [row.archive_id for row in registration.duplicate] == [ready[0].pk, ready[1].pk]
    assert sorted(row.archive_id for row in registration.not_collected) == sorted(a.pk for a in waiting)
    event = AuditEvent.objects.filter(event_type="cpe.credit_registered").latest("id")
    assert event.extra == {"year": YEAR, "rows": 2, "credits": "360", "source": "exam_file:cpa"}
    assert CreditEntry.objects.count() == 3


def test_a_frozen_year_refuses_the_whole_batch():
    """R-CE-13: nothing registers in a frozen year, with the one message."""
    people = archives(3)
    CEYear.objects.filter(pk=YEAR).update(frozen_at=timezone.now())
    with pytest.raises(Conflict) as caught:
        exam_batch([CreditRow(a.pk, Decimal("90")) for a in people])
    assert caught.value.message == frozen_refusal(YEAR) and not CreditEntry.objects.exists()


def test_credit_register_is_the_one_row_case_and_raises_what_a_batch_reports(accountant):
    """the one-by-one path is credits_register of one row; refusals are raised (400, 409)."""
    archive = make_active_archive(accountant)
    entry = credit_register(archive=archive, year=YEAR, subject_kind="general", form="online", credits=30,
                            source_type="province", source_id="p1", source_label="省厅登记")
    assert (entry.pk, entry.credits, entry.registered_at is not None) == (entry.pk, Decimal("30"), True)
    event = AuditEvent.objects.get(event_type="cpe.credit_registered")
    assert (event.target_id, event.extra["archive"]) == (str(entry.pk), archive.pk)
    with pytest.raises(Conflict, match="不能重复登记"):
        credit_register(archive=archive, year=YEAR, subject_kind="general", form="online", credits=30,
                        source_type="province", source_id="p1", source_label="省厅登记")
    Archive.objects.filter(pk=archive.pk).update(collected_at=None)
    with pytest.raises(DomainError) as caught:
        credit_register(archive=archive, year=YEAR, subject_kind="general", form="online", credits=30,
                        source_type="province", source_id="p2", source_label="省厅登记")
    assert caught.value.status_code == 400 and caught.value.message == NOT_COLLECTED
    with pytest.raises(DomainError, match="学分应大于0"):
        credit_register(archive=archive, year=YEAR, subject_kind="general", form="online", credits=0,
                        source_type="province", source_id="p3", source_label="省厅登记")
    assert CreditEntry.objects.count() == 1
