"""load_demo (API.md §3): believable continuing-education data, closed years and this year, safe to load twice."""

import pytest
from django.utils import timezone

from accounts.models import User
from cpe.ledger.demo import COMPLETE_NOW, HISTORIES, LEARNER
from cpe.ledger.selectors import year_status
from cpe.models import CEYear, CreditEntry, IntegrityRecord
from records.models import Archive
from tests.conftest_dates import model_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def output(demo):
    """The demo the suite loads once, twice over (tests/conftest_dates.py): its printouts and row counts."""
    return demo


def archive_of(name: str) -> Archive:
    return Archive.objects.get(person__name=name, person__role="accountant", status="active")


def test_loading_twice_adds_nothing(output):
    """The source ids make each entry once; a frozen year is left alone (R-CE-13)."""
    assert model_counts() == output["counts"]
    assert "本次登记学分 0 条" in output["second"] and "演示数据已就绪" in output["second"]


def test_years_past_their_registration_are_frozen_and_this_year_is_open(output):
    """R-CE-13: every year whose registration closed is in the credit-information file; this year still registers."""
    today = timezone.localdate()
    for policy in CEYear.objects.all():
        assert policy.is_frozen == (policy.registration_closes_on < today), policy.year
    assert not CEYear.objects.get(pk=today.year).is_frozen
    frozen = CEYear.objects.filter(frozen_at__isnull=False)
    assert frozen.exists() and IntegrityRecord.objects.filter(year__in=frozen).exists()


def test_the_credit_information_file_holds_completed_and_missed_years(output):
    """R-CE-3, R-CE-13: the demo people's closed years mix completed and not completed, by their histories."""
    closed = set(CEYear.objects.filter(frozen_at__isnull=False).values_list("year", flat=True))
    assert IntegrityRecord.objects.filter(completed=True).exists()
    assert IntegrityRecord.objects.filter(completed=False, total__gt=0).exists()
    records = dict(IntegrityRecord.objects.filter(archive=archive_of("李强")).values_list("year", "completed"))
    if 2024 in closed:
        assert records[2024] is False and records[2023] is True
    if 2025 in closed:
        exam = IntegrityRecord.objects.get(archive=archive_of("马俊"), year=2024)
        assert exam.completed and exam.by_form == {"exam": "90.0"}
        assert not IntegrityRecord.objects.get(archive=archive_of("韩冰"), year=2022).completed


def test_this_year_has_one_complete_person_several_half_way_and_a_learner_at_zero(output):
    """R-CE-3, R-CE-15: the printed logins stand where the printout says."""
    year = timezone.localdate().year
    statuses = {name: year_status(archive_of(name), year) for name in HISTORIES}
    assert statuses[COMPLETE_NOW].completed
    assert sum(s.total == 45 for s in statuses.values()) >= 3
    short = statuses["韩冰"]
    assert short.total == 90 and not short.completed and short.missing_professional == 20
    assert statuses[LEARNER].total == 0 and statuses[LEARNER].obliged
    for name, marker in ((COMPLETE_NOW, "可下载学分证明"), (LEARNER, "可从零开始体验在线学习")):
        login = User.objects.get(archive=archive_of(name)).login_name
        line = next(line for line in output["first"].splitlines() if login in line and "年度" in line and name in line)
        assert marker in line, line


def test_credits_came_through_the_ledger_from_the_province_and_exam_files(output):
    """R-CE-10, R-CE-12: only collected people have credits; sources are the province or an exam pass list."""
    demo = CreditEntry.objects.filter(source_id__startswith="demo-")
    assert set(demo.values_list("source_type", flat=True)) == {"province", "exam_file"}
    assert not demo.exclude(archive__status="active").exists()
    assert not demo.filter(archive__collected_at__isnull=True).exists()
    assert not Archive.objects.filter(person__name="张伟", person__role="accountant").exists()
