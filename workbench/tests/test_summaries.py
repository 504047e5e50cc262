"""The dashboards' kept figures stay equal to the ledger and the applications.

Every way credits are registered (one by one, online, a face-to-face list, an exam list, a claim),
reversed and frozen, every move of an archive (collection approved, transfer within Shanxi and out of it)
and every change of a year's requirement keeps the CE sums equal to a recomputation from the ledger;
decisions keep the tallies equal to the applications; ``stats_verify`` finds a corrupted row and fixes it.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.models import Role
from cpe.ledger.policy import ce_year_save
from cpe.ledger.services import ce_year_close, credit_register, credit_reverse
from cpe.ledger.summaries import credit_summaries_differences
from cpe.models import CEYear, CreditEntry, CreditSummary, IntegrityRecord, RegionCreditSummary, RegionObligation
from kjzx.workflow import workflow_transition
from records.models import Archive
from tests.factories import (
    login_staff,
    make_accountant,
    make_active_archive,
    make_collection,
    make_staff,
    make_transfer,
)
from workbench.models import DecisionTally
from workbench.selectors import QUEUE_MODELS
from workbench.tallies import decision_tallies_actual, decision_tallies_expected

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))


def in_step():
    """The CE sums equal a recomputation from the ledger, and the tallies one from the applications."""
    assert credit_summaries_differences() == []
    assert decision_tallies_actual() == decision_tallies_expected(QUEUE_MODELS.values())


def region(code, year=2026) -> RegionCreditSummary:
    return RegionCreditSummary.objects.filter(region_id=code, year_id=year).first() or RegionCreditSummary()


def obliged(code, year=2026) -> int:
    return sum(RegionObligation.objects.filter(region_id=code, start_year__lte=year)
               .values_list("people", flat=True))


def person(n, address="140502"):
    return make_accountant(address=address, sequence=600 + n, name=f"汇总{n}")


def give(archive, credits, *, kind="professional", form="online", source="s1", year=2026):
    return credit_register(archive=archive, year=year, subject_kind=kind, form=form, credits=credits,
                           source_type="province", source_id=source, source_label=f"登记{source}")


def test_one_by_one_and_reversal_keep_person_and_region_rows_equal_to_the_ledger():
    """the province's one-by-one registration and a reversal (更正) move the sums in the same transaction."""
    archive = make_active_archive(person(1))
    assert obliged("140502") == 1 and region("140502").people == 0
    give(archive, 60)
    wrong = give(archive, 40, kind="general", form="face_to_face", source="s2")
    row = CreditSummary.objects.get(archive=archive, year=2026)
    assert (row.total, row.professional, row.general, row.online, row.face_to_face) == (100, 60, 40, 60, 40)
    assert row.completed and row.obliged and region("140502").completed == 1
    in_step()
    credit_reverse(entry=wrong, by=None, reason="重复登记")
    row.refresh_from_db()
    assert (row.total, row.general, row.completed, row.completed_month) == (60, 0, False, None)
    assert (region("140502").completed, region("140502").total) == (0, 60)
    in_step()


def test_online_learning_registers_through_the_same_path(accountant):
    """credits of passed online courses (R-CE-8) reach the sums."""
    from cpe.learning.tests.test_learning import make_course, pass_course

    make_active_archive(accountant)
    courses = [make_course(f"课程{n}", credits=credits) for n, credits in enumerate((60, 30))]
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, tzinfo=BEIJING), tick=False):
        for course in courses:  # registered together once the year's 90 are reached (R-CE-8)
            pass_course(accountant, course)
    row = CreditSummary.objects.get(archive__person=accountant, year=2026)
    assert CreditEntry.objects.filter(source_type="course").count() == 2
    assert (row.online, row.completed, row.completed_month) == (90, True, 202606)
    in_step()


def test_a_face_to_face_list_registers_through_the_same_path(county_reviewer):
    """an institution's face-to-face list (R-CE-9) reaches the sums, each person in their region."""
    from cpe.lists.services import face_to_face
    from cpe.lists.tests.test_face_to_face import make_training, scan, xlsx_file

    people = [make_active_archive(person(n)) for n in range(3)]
    institution = make_staff("jigou_sum", Role.INSTITUTION, "140502")
    training = make_training(institution)
    rows = [["证件号码", "姓名", "学时"], *([p.id_number, p.name, 8] for p in people)]
    attendance = face_to_face.attendance_upload(training=training, evidence=[scan()], by=institution,
                                                file=xlsx_file(rows))
    face_to_face.attendance_check(attendance.pk)  # what cpe.tasks.check_attendance_list runs
    attendance.refresh_from_db()
    assert face_to_face.attendance_register(attendance=attendance, by=county_reviewer).registered == 3
    year = training.year_id
    assert region("140502", year).people == 3 and region("140502", year).face_to_face == sum(
        CreditEntry.objects.filter(form="face_to_face").values_list("credits", flat=True))
    in_step()


def test_an_exam_list_registers_through_the_same_path(client, province_staff):
    """the province's exam pass list (R-CE-10), registered by the Celery task, reaches the sums."""
    from cpe.lists.tests.test_exams import checked, xlsx
    from cpe.tasks import register_exam_import

    zhang = make_active_archive(person(1))
    li = make_active_archive(person(2, "140521"), jurisdiction="140521")
    login_staff(client, province_staff)
    exam_import = checked(client, xlsx([(zhang.name, zhang.id_number, 1), (li.name, li.id_number, 2)]), exam="cpa")
    client.post(reverse("workbench_exam_import_register", args=[exam_import.pk]))
    register_exam_import.apply(args=[exam_import.pk, province_staff.pk]).get()
    assert (region("140502", 2024).exam, region("140521", 2024).exam) == (90, 180)
    in_step()


def test_a_claim_registers_through_the_same_path(accountant, county_reviewer):
    """an approved claim for another form (R-CE-11) reaches the sums."""
    from cpe.claims.services import claim_transition
    from cpe.claims.tests.test_claims import submitted_claim

    claim = submitted_claim(accountant)
    claim_transition(claim, "approve", by=county_reviewer)
    entry = CreditEntry.objects.get(source_type="claim")
    assert CreditSummary.objects.get(archive=entry.archive, year=entry.year).total == entry.credits
    in_step()


def test_the_year_close_freezes_the_sums_to_the_credit_information_file():
    """R-CE-13: after the close the year's figures are the IntegrityRecords', obliged people without credits too."""
    done, idle = make_active_archive(person(1)), make_active_archive(person(2))
    give(done, 60, year=2025)
    give(done, 30, kind="general", source="s2", year=2025)
    ce_year_close(year=2025)
    assert IntegrityRecord.objects.filter(year=2025).count() == 2
    row = region("140502", 2025)
    assert (row.obliged, row.completed, row.total, row.people) == (2, 1, 90, 2)
    assert CreditSummary.objects.get(archive=idle, year=2025).obliged
    in_step()


def test_online_courses_registered_at_the_close_reach_the_frozen_sums(accountant):
    """R-CE-8, R-CE-13: a course passed but short of the year's 90 is registered by the close itself (its
    BEFORE_CLOSE hook, a batch through the same ledger path), then frozen with the rest: still in step."""
    from cpe.learning.tests.test_learning import make_course, pass_course

    archive = make_active_archive(accountant)
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, tzinfo=BEIJING), tick=False):
        pass_course(accountant, make_course("单门课程", credits=30))
    assert not CreditEntry.objects.filter(archive=archive).exists()  # 30 of 90: not yet registered (R-CE-8)
    in_step()
    ce_year_close(year=2026)
    assert CreditEntry.objects.filter(archive=archive, source_type="course").count() == 1
    row = CreditSummary.objects.get(archive=archive, year=2026)
    assert (row.online, row.obliged, row.completed) == (30, True, False)
    assert IntegrityRecord.objects.filter(archive=archive, year=2026).exists()
    assert (region("140502").online, region("140502").obliged) == (30, 1)
    in_step()


def test_a_transfer_moves_the_persons_totals_and_obligation_to_the_new_county():
    """a person moving county moves their credits, completion and obligation (R-TRF-1)."""
    mover = make_accountant(sequence=611, name="调转人")
    archive = make_active_archive(mover)
    give(archive, 95)
    give(archive, 20, year=2025, source="old")
    ce_year_close(year=2025)
    assert (region("140502").completed, obliged("140502"), region("140502", 2025).obliged) == (1, 1, 1)
    make_transfer(mover, "completed", to_region="140521")
    assert Archive.objects.get(pk=archive.pk).jurisdiction_id == "140521"
    assert (region("140502").completed, region("140502").total, obliged("140502")) == (0, 0, 0)
    assert (region("140521").completed, region("140521").total, obliged("140521")) == (1, 95, 1)
    assert (region("140502", 2025).obliged, region("140521", 2025).obliged) == (0, 1)  # frozen: moves, unchanged
    in_step()


def test_an_archive_leaving_shanxi_is_no_longer_obliged():
    """R-CE-1: an archive transferred out of the province no longer owes a year; its credits stay counted."""
    leaver = make_accountant(sequence=613, name="调出人")
    archive = make_active_archive(leaver)
    give(archive, 95)
    make_transfer(leaver, "completed", type="outbound")
    assert Archive.objects.get(pk=archive.pk).status == Archive.Status.TRANSFERRED_OUT
    assert (obliged("140502"), region("140502").completed, region("140502").total) == (0, 0, 95)
    in_step()


def test_a_changed_requirement_recounts_who_has_completed():
    """R-CE-3: raising the year's required credits takes people below it out of the completed count."""
    archive = make_active_archive(person(1))
    give(archive, 95)
    assert region("140502").completed == 1
    policy = CEYear.objects.get(pk=2026)
    policy.required_total = Decimal("100")
    ce_year_save(policy=policy, by=None)
    assert region("140502").completed == 0
    in_step()


def test_decisions_are_tallied_as_they_happen_and_a_withdrawal_is_not():
    """R-DL-1: each decision counts once, by month and working days; a withdrawn change does not."""
    with time_machine.travel(dt.datetime(2026, 11, 2, 10, tzinfo=BEIJING), tick=False):  # a Monday
        first = make_collection(person(1), "submitted")
    with time_machine.travel(dt.datetime(2026, 11, 5, 10, tzinfo=BEIJING), tick=False):
        workflow_transition(first, "approve_first", by=make_staff("sum_a", "county_reviewer", "140502"))
        make_collection(person(2), "approved")
    tallies = {(t.region_id, t.kind, t.month, t.days): t.count for t in DecisionTally.objects.all()}
    assert tallies == {("140502", "collection", 202611, 0): 1}
    with time_machine.travel(dt.datetime(2026, 11, 9, 10, tzinfo=BEIJING), tick=False):
        from tests.factories import make_change

        make_change(make_accountant(sequence=650, name="撤回人"), "withdrawn")
        first.refresh_from_db()
        workflow_transition(first, "approve_second", by=make_staff("sum_b", "county_reviewer", "140502"))
    tallies = {(t.region_id, t.kind, t.month, t.days): t.count for t in DecisionTally.objects.all()}
    assert tallies[("140502", "collection", 202611, 5)] == 1  # Mon 2 Nov → Mon 9 Nov: 5 working days
    assert sum(tallies.values()) == 3 and not any(kind == "change" for _r, kind, _m, _d in tallies)
    in_step()


def test_stats_verify_finds_a_corrupted_row_and_fixes_it():
    """the recompute command reports a corrupted summary and tally row (exit 1); --fix repairs them."""
    archive = make_active_archive(person(1))
    give(archive, 95)
    call_command("stats_verify", stdout=io.StringIO())  # clean: no exit
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cpe_regioncreditsummary SET completed = completed + 7 WHERE region_id = '140502'")
    DecisionTally.objects.filter(kind="collection").update(count=5)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("stats_verify", stdout=out, stderr=err)
    assert exited.value.code == 1
    assert "cpe_regioncreditsummary" in out.getvalue() and "workbench_decisiontally" in out.getvalue()
    assert "处差异" in err.getvalue() and "stats_verify --fix" in err.getvalue()
    assert region("140502").completed == 8  # only looked
    out = io.StringIO()
    call_command("stats_verify", "--fix", stdout=out)
    assert "已按重算结果更正" in out.getvalue()
    assert region("140502").completed == 1 and DecisionTally.objects.get(kind="collection").count == 1
    in_step()


def test_a_corrupted_person_row_is_found_too():
    """a person row that no longer sums its ledger entries is a difference."""
    archive = make_active_archive(person(1))
    give(archive, 30)
    CreditSummary.objects.filter(archive=archive).update(total=Decimal("31"))
    found = credit_summaries_differences()
    assert any(line.startswith("cpe_creditsummary") for line in found)
    assert CreditSummary.objects.get(archive=archive).total == 31  # nothing changed by looking
