"""The credit ledger: obligation, registration, immutability, status and the year's freeze (R-CE-1…5, 12, 13)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from cpe.ledger.selectors import obligation_start_year, year_status
from cpe.ledger.services import ce_year_close, credit_register, credit_reverse, due_years_close
from cpe.models import CEYear, CreditEntry, IntegrityRecord
from kjzx.api import Conflict, DomainError
from records.services import archive_for_person
from tests.factories import fill_archive, make_active_archive

pytestmark = pytest.mark.django_db


def register(archive, credits, *, kind="professional", form="online", source="c1", year=2026):
    return credit_register(archive=archive, year=year, subject_kind=kind, form=form, credits=credits,
                           source_type="course", source_id=source, source_label=f"课程{source}")


def test_policy_years_are_data_from_2018_with_the_seeds_dates():
    """R-CE-5, R-CE-6: 2024 is due 2025-03-31; 2020–2023 could be made up until 2024-12-31; none after."""
    assert CEYear.objects.filter(year=2018).exists() and not CEYear.objects.filter(year=2017).exists()
    y2024 = CEYear.objects.get(pk=2024)
    assert y2024.deadline == dt.date(2025, 3, 31) and y2024.makeup_until is None
    assert y2024.required_total == 90 and y2024.required_professional == 60
    assert CEYear.objects.get(pk=2021).makeup_until == dt.date(2024, 12, 31)
    assert CEYear.objects.get(pk=2021).registration_closes_on == dt.date(2024, 12, 31)


def test_obligation_starts_the_year_after_qualification_or_work(accountant):
    """R-CE-1: whichever came first, the year after."""
    archive = make_active_archive(accountant)  # began work 2012-07-01, intermediate 2019-09-01
    assert obligation_start_year(archive) == 2013
    archive.began_accounting_on = None
    archive.save()
    assert obligation_start_year(archive) == 2020


def test_no_credit_before_collection_is_approved(accountant):
    """R-CE-12: a clear refusal, nothing written."""
    fill_archive(accountant)
    with pytest.raises(DomainError) as caught:
        register(archive_for_person(accountant), 10)
    assert "信息采集" in caught.value.message and not CreditEntry.objects.exists()


def test_same_source_registers_once(accountant):
    archive = make_active_archive(accountant)
    register(archive, 30)
    with pytest.raises(Conflict) as caught:
        register(archive, 30)
    assert "不能重复登记" in caught.value.message and CreditEntry.objects.count() == 1


def test_entries_are_never_edited_or_deleted(accountant):
    """STYLE §3: the ledger is append-only; on PostgreSQL even raw SQL is refused."""
    entry = register(make_active_archive(accountant), 30)
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cpe_creditentry SET credits = 90 WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cpe_creditentry WHERE id = %s", [entry.pk])


def test_status_needs_ninety_with_sixty_professional(accountant):
    """R-CE-3: 90 in all, at least 60 professional; the same figures everywhere."""
    archive = make_active_archive(accountant)
    register(archive, 40, kind="general", source="g")
    register(archive, 50, source="p1")
    status = year_status(archive, 2026)
    assert (status.total, status.professional, status.general) == (90, 50, 40)
    assert not status.completed and status.missing_professional == 10 and status.missing_total == 0
    register(archive, 10, source="p2", form="conference")
    status = year_status(archive, 2026)
    assert status.completed and status.by_form == {"online": Decimal("90"), "conference": Decimal("10")}


def test_credits_count_only_in_their_year(accountant):
    """R-CE-4: nothing carries to a later year."""
    archive = make_active_archive(accountant)
    register(archive, 120, year=2026)
    assert year_status(archive, 2025).total == 0


def test_a_correction_is_a_reversing_entry(accountant, county_reviewer):
    archive = make_active_archive(accountant)
    entry = register(archive, 30)
    with pytest.raises(DomainError):
        credit_reverse(entry=entry, by=county_reviewer, reason="")
    reversal = credit_reverse(entry=entry, by=county_reviewer, reason="重复登记")
    assert reversal.credits == -30 and year_status(archive, 2026).total == 0
    with pytest.raises(Conflict):
        credit_reverse(entry=entry, by=county_reviewer, reason="again")


def test_closing_a_year_freezes_each_obliged_persons_result(accountant, other_accountant):
    """R-CE-13: the result goes into the credit-information file and nothing in that year changes after."""
    done, idle = make_active_archive(accountant), make_active_archive(other_accountant, "140521")
    register(done, 90, year=2026)
    register(done, 10, kind="general", year=2026, source="g")
    assert ce_year_close(year=2026) == 2
    assert ce_year_close(year=2026) == 0
    record = IntegrityRecord.objects.get(archive=done, year=2026)
    assert record.completed and record.total == 100 and record.by_form == {"online": "100.0"}
    assert not IntegrityRecord.objects.get(archive=idle, year=2026).completed
    with pytest.raises(Conflict) as caught:
        register(done, 5, year=2026, source="late")
    assert "已结束" in caught.value.message
    frozen = year_status(done, 2026)
    assert frozen.frozen and frozen.total == 100 and frozen.completed


def test_the_beat_closes_every_year_past_its_date():
    """R-DL-3: years whose registration closed are frozen by the daily sweep, even late."""
    closed = due_years_close(today=dt.date(2026, 11, 29))
    assert closed == list(range(2018, 2026)) and due_years_close(today=dt.date(2026, 11, 29)) == []
    assert not CEYear.objects.get(pk=2026).is_frozen


def test_each_form_counts_toward_the_same_year(accountant):
    """R-CE-7: online, face-to-face and other forms, as the person chooses, all count, shown by form."""
    archive = make_active_archive(accountant)
    register(archive, 30, source="o", form="online")
    register(archive, 30, source="f", form="face_to_face")
    register(archive, 30, source="x", form="exam")
    status = year_status(archive, 2026)
    assert status.completed and set(status.by_form) == {"online", "face_to_face", "exam"}
