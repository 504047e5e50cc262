"""The set-based list path: one statement checks a list, one INSERT … SELECT registers it, the same
answers as row by row (R-CE-9, R-CE-10, R-CE-12, R-CE-13), and ID numbers masked on
the list pages.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cpe.ledger.services import CreditRow, credits_register
from cpe.ledger.staged import StagedCredits
from cpe.lists.rows import MIDDLE_DOTS, WHITESPACE, normalise_name, normalised_name_sql
from cpe.lists.services import exams
from cpe.lists.tests.test_exams import checked, wrong_check_digit, xlsx
from cpe.lists.tests.test_face_to_face import messy_rows, uploaded
from cpe.models import CEYear, CreditEntry, ExamRow, RowState
from kjzx.models import AuditEvent
from records.models import Archive
from tests.factories import login_staff, make_id_number

pytestmark = pytest.mark.django_db

YEAR = 2025


@pytest.fixture
def staff(client, province_staff):
    login_staff(client, province_staff)
    return client


def archives(count: int, *, first: int = 0, collected: bool = True) -> list[Archive]:
    born = dt.date(1980, 1, 1)
    return Archive.objects.bulk_create([
        Archive(name=f"人{i}", id_type="resident_id", id_number=make_id_number("140105", born + dt.timedelta(days=i),
                                                                              100 + i % 800),
                sex="M", birth_date=born, status=Archive.Status.ACTIVE if collected else Archive.Status.COLLECTING,
                collected_at=timezone.now() if collected else None)
        for i in range(first, first + count)])


# --- one rule, two forms: the name in Python and in SQL ----------------------------------------------

def test_the_whitespace_removed_from_names_is_what_python_calls_whitespace():
    """One name normalisation: the table behind normalise_name is every character ``\\s`` matches."""
    matched = {chr(c) for c in range(0x110000) if re.fullmatch(r"\s", chr(c))}
    assert set(WHITESPACE) == matched


@pytest.mark.parametrize("name", ["阿卜杜 · 热合曼", "阿卜杜\u3000•热合曼", "阿卜杜\xa0‧热合曼\t", " 张\n三 ",
                                  "阿卜杜・热合曼", "买买提．艾力", "A.B", "x" * 80, "阿卜杜\u2028∙热合曼"])
def test_the_sql_normalisation_of_a_name_is_normalise_name(name):
    """the archive's name is compared in SQL with the same normalisation the row's name had."""
    sql, params = normalised_name_sql("%s")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", [name, *params])
        assert cursor.fetchone()[0] == normalise_name(name)
    assert all(normalise_name(dot) == "·" for dot in MIDDLE_DOTS)


# --- the ledger: the staged batch answers as the row batch does ----------------------------------------

def test_a_staged_batch_registers_and_refuses_exactly_as_a_list_of_rows(province_staff):
    """One way in: R-CE-12, the one-per-source rule and the same person twice
    give the same entries, the same refused rows and the same audit figures, staged or not."""
    ready, waiting = archives(4), archives(2, first=10, collected=False)
    order = [*ready, *waiting, ready[1]]  # ready[1] twice
    results = {}
    for source, staged in (("rows", False), ("staged", True)):
        credits_register([CreditRow(ready[0].pk, Decimal("90"))], year=YEAR, form="exam", source_type="exam_file",
                         source_id=source, subject_kind="professional", source_label="已登记")
        if staged:
            values = " UNION ALL ".join(f"SELECT {n} AS n, {a.pk} AS archive_id, 180 AS credits"
                                        for n, a in enumerate(order))
            batch = StagedCredits(f"SELECT * FROM ({values}) v")  # noqa: S608  (integers of the test's own)
        else:
            batch = [CreditRow(a.pk, Decimal("180")) for a in order]
        registration = credits_register(batch, year=YEAR, form="exam", source_type="exam_file", source_id=source,
                                        subject_kind="professional", source_label="2025年考试合格", by=province_staff,
                                        audit_target=province_staff, event="cpe.exam_import_registered")
        event = AuditEvent.objects.filter(event_type="cpe.exam_import_registered").latest("id")
        results[source] = (
            [(e.archive_id, Decimal(e.credits)) for e in registration.entries],
            [(r.archive_id, r.credits, r.subject_kind, r.source_label) for r in registration.duplicate],
            [(r.archive_id, r.credits) for r in registration.not_collected],
            registration.credits, {k: v for k, v in event.extra.items() if k != "source"})
    assert results["rows"] == results["staged"]
    assert [pk for pk, _c in results["staged"][0]] == [ready[1].pk, ready[2].pk, ready[3].pk]
    entry = CreditEntry.objects.get(source_id="staged", archive=ready[2])
    assert (entry.registered_by, entry.source_label, entry.form, entry.year_id) == (
        province_staff, "2025年考试合格", "exam", YEAR)


def test_a_staged_batch_in_a_frozen_year_is_refused_whole():
    """R-CE-13: the staged path takes the same lock and gives the same refusal."""
    people = archives(2)
    CEYear.objects.filter(pk=YEAR).update(frozen_at=timezone.now())
    staged = StagedCredits("SELECT 1 AS n, %s AS archive_id, 90 AS credits", (people[0].pk,))
    with pytest.raises(Exception, match="学分登记已结束"):
        credits_register(staged, year=YEAR, form="exam", source_type="exam_file", source_id="cpa",
                         subject_kind="professional", source_label="x", audit_target=people[0])
    assert not CreditEntry.objects.exists()


# --- an exam list: a fixed number of statements, one audit row ------------------------------------------

def test_checking_and_registering_cost_the_same_statements_for_ten_rows_as_for_two_thousand(staff, province_staff):
    """the check is COPY + one INSERT … SELECT, the registering one ledger batch: the
    number of queries does not grow with the list."""
    people = archives(2_010)
    costs = []
    for size, exam in ((10, "cpa"), (2_000, "tax_adviser")):
        rows = [(a.name, a.id_number, 1) for a in people[:size]]
        response = staff.post(reverse("workbench_exam_import_new"), {
            "year": YEAR, "exam": exam, "file": SimpleUploadedFile("名单.xlsx", xlsx(rows))})
        assert response.status_code == 302
        exam_import = exams.ExamImport.objects.latest("pk")
        with CaptureQueriesContext(connection) as check:
            exams.exam_import_check(exam_import.pk)
        with CaptureQueriesContext(connection) as register:
            exams.exam_import_register(exam_import.pk, by=province_staff)
        costs.append((len(check), len(register)))
        assert CreditEntry.objects.filter(source_id=exam).count() == size
        events = AuditEvent.objects.filter(target_id=str(exam_import.pk), event_type="cpe.exam_import_registered")
        assert events.count() == 1 and events.get().extra["rows"] == size  # one audit row for the list
    assert costs[0] == costs[1], costs


def test_a_checked_list_leaves_the_planner_knowing_its_rows(staff):
    """After the check the row table is analysed: the planner counts a list's waiting rows as they are, and
    matches them again with a hash join, not the nested loop over every archive that one guessed row gives
    (5,000 waiting rows of a 100,000-row list: 11.4 s, bench/README.md)."""
    people = archives(300, collected=False)  # every row waits for its collection
    exam_import = checked(staff, xlsx([(a.name, a.id_number, 1) for a in people]), year=YEAR)
    assert ExamRow.objects.filter(import_file=exam_import, state=RowState.PENDING).count() == 300
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'cpe_examrow'::regclass")
        assert cursor.fetchone()[0] >= 300
        cursor.execute("EXPLAIN SELECT r.id FROM cpe_examrow r WHERE r.import_file_id = %s AND r.state = %s",
                       [exam_import.pk, RowState.PENDING])
        estimate = int(re.search(r"rows=(\d+)", cursor.fetchone()[0]).group(1))
    assert estimate >= 100, estimate  # with no statistics: 1


def test_a_person_waiting_registers_when_the_list_is_registered_and_a_frozen_year_stays_refused(staff,
                                                                                                province_staff):
    """R-CE-12, R-CE-13: pending rows are matched again set-based at registering; a frozen year refuses."""
    waiting = archives(1, collected=False)[0]
    ready = archives(1, first=5)[0]
    exam_import = checked(staff, xlsx([(waiting.name, waiting.id_number, 2), (ready.name, ready.id_number, 1)]),
                          year=YEAR)
    assert dict(ExamRow.objects.values_list("archive_id", "state")) == {waiting.pk: RowState.PENDING,
                                                                        ready.pk: RowState.VALID}
    Archive.objects.filter(pk=waiting.pk).update(status=Archive.Status.ACTIVE, collected_at=timezone.now())
    exams.exam_import_register(exam_import.pk, by=province_staff)
    assert dict(CreditEntry.objects.values_list("archive_id", "credits")) == {waiting.pk: Decimal("180"),
                                                                              ready.pk: Decimal("90")}
    again = checked(staff, xlsx([(ready.name, ready.id_number, 1)]), year=YEAR, exam="cpa")
    CEYear.objects.filter(pk=YEAR).update(frozen_at=timezone.now())
    with pytest.raises(Exception, match="学分登记已结束"):
        exams.exam_import_register(again.pk, by=province_staff)
    assert CreditEntry.objects.count() == 2


def test_a_first_row_with_a_wrong_count_is_told_of_its_later_duplicate(staff):
    """R-CE-10: the duplicate rule keeps its words — a later line "与第N行重复", the first one "…且通过科目数不同"
    when the counts differ (a count that is not a number differs from any)."""
    person = archives(1)[0]
    exam_import = checked(staff, xlsx([(person.name, person.id_number, "两"), (person.name, person.id_number, 2),
                                       (person.name, person.id_number.lower(), 2)]), year=YEAR)
    rows = {row.row_no: row.problem for row in ExamRow.objects.filter(import_file=exam_import)}
    assert rows[3] == "通过科目数应填数字1至3，不能填文字（“两”）；与第4行重复且通过科目数不同，请核实"
    assert rows[4] == rows[5] == "与第3行重复"


# --- masked ID numbers on the list pages ----------------------------------------------------

def full_numbers(*numbers: str) -> set[str]:
    """Each number, and the 17 digits before its check character (a mistyped number is almost the person's)."""
    return {n for number in numbers for n in (number, number[:17])}


def test_the_face_to_face_pages_show_no_full_id_number(client, institution_user, training, people, county_reviewer):
    """the bureau's list page (and the institution's) mask every ID number, as the API does."""
    attendance = uploaded(training, messy_rows(people), institution_user)
    numbers = full_numbers(*(p.id_number for p in people.values()))
    numbers |= full_numbers(*attendance.rows.exclude(id_number="").values_list("id_number", flat=True))
    login_staff(client, county_reviewer)
    bureau = client.get(reverse("workbench_attendance", args=[attendance.pk])).content.decode()
    login_staff(client, institution_user)
    institution = client.get(reverse("institution_attendance", args=[attendance.pk])).content.decode()
    for page in (bureau, institution):
        assert "姓名与档案不一致" in page and "身份证号码校验位不正确" in page
        assert not [number for number in numbers if number in page]
        assert people["A"].masked_id_number in page


def test_the_exam_list_problem_rows_show_no_full_id_number(staff):
    """rows with problems (a wrong check digit, a name that differs) are masked like the others."""
    person = archives(1)[0]
    stranger = make_id_number("140105", dt.date(1985, 5, 5), 777)
    exam_import = checked(staff, xlsx([("别人", person.id_number, 1), ("王五", wrong_check_digit(person.id_number), 1),
                                       ("赵六", stranger, 1)]), year=YEAR)
    page = staff.get(reverse("workbench_exam_import", args=[exam_import.pk])).content.decode()
    assert "姓名与档案不一致" in page and "校验位不正确" in page and "待信息采集完成后登记（1人）" in page
    assert not [number for number in full_numbers(person.id_number, stranger) if number in page]
