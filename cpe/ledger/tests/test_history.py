"""The CE history of a person, as the outbound person record carries it (API.md §2 ``cpe``)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cpe.ledger.selectors import cpe_history
from cpe.ledger.services import ce_year_close, credit_register
from cpe.models import IntegrityRecord
from tests.factories import make_active_archive, make_transfer

pytestmark = pytest.mark.django_db

# The years the portal keeps run to "this year": pinned, so the expected years hold on any day.
IN_2026 = time_machine.travel(dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)


def register(archive, year: int, credits: int, kind: str = "professional", source: str = "p1"):
    credit_register(archive=archive, year=year, subject_kind=kind, form="online", credits=credits,
                    source_type="province", source_id=source, source_label="省厅登记")


@IN_2026
def test_an_outbound_record_carries_every_obliged_year_with_the_frozen_ones_from_the_file(accountant):
    """API.md §2, R-CE-13: frozen years from the credit-information file, open ones from the ledger, as strings."""
    archive = make_active_archive(accountant)  # began accounting work 2012-07-01: obliged from 2013 (R-CE-1)
    register(archive, 2024, 60)
    register(archive, 2024, 36, kind="general", source="p2")
    register(archive, 2025, 45)
    register(archive, 2026, 30)
    ce_year_close(year=2024)
    ce_year_close(year=2025)
    IntegrityRecord.objects.filter(archive=archive, year=2025).update(total=50)  # what the file says is what goes

    transfer = make_transfer(accountant, "accepted", type="outbound")
    history = transfer.person_record["cpe"]
    assert [row["year"] for row in history] == list(range(2018, 2027))  # the years the portal keeps (2018 on)
    by_year = {row["year"]: row for row in history}
    assert by_year[2024] == {"year": 2024, "total": "96.0", "professional": "60.0", "completed": True}
    assert by_year[2025] == {"year": 2025, "total": "50.0", "professional": "45.0", "completed": False}
    assert by_year[2026] == {"year": 2026, "total": "30.0", "professional": "30.0", "completed": False}
    assert by_year[2020] == {"year": 2020, "total": "0.0", "professional": "0.0", "completed": False}
    assert history == cpe_history(archive)


def test_a_person_not_yet_obliged_has_no_history(accountant):
    """R-CE-1: before the year after the qualification or the start of work, nothing is owed."""
    archive = make_active_archive(accountant)
    archive.began_accounting_on = None
    archive.save()
    archive.qualifications.all().delete()
    assert cpe_history(archive) == []
