"""Exam pass lists registered by the province in bulk: upload, preview, register, pending people (R-CE-10, 12, 13)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from cpe.ledger.policy import credit_standard_save
from cpe.lists.services.exams import exam_import_check, exam_import_register
from cpe.models import CEYear, CreditEntry, CreditStandard, ExamImport, ExamRow, RowState
from cpe.tasks import check_exam_import, register_exam_import
from kjzx.api import Conflict
from kjzx.workflow import workflow_transition
from records.models import Archive
from tests.factories import login_staff, make_accountant, make_active_archive, make_collection, make_id_number

pytestmark = pytest.mark.django_db

HEADER = ("序号", "姓名", "证件号码", "通过科目数")


def xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["2024年度会计专业技术资格考试合格人员名单"])  # a title row above the header
    sheet.append(list(header))
    for i, (name, number, subjects) in enumerate(rows, start=1):
        sheet.append([i, name, number, subjects])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, *, name="合格名单.xlsx", year=2024, exam="accounting_qualification"):
    return client.post(reverse("workbench_exam_import_new"), {
        "year": year, "exam": exam, "file": SimpleUploadedFile(name, content)})


def checked(client, content: bytes, **kwargs) -> ExamImport:
    response = upload(client, content, **kwargs)
    assert response.status_code == 302, response.content.decode()
    exam_import = ExamImport.objects.latest("uploaded_at")
    check_exam_import.apply(args=[exam_import.pk]).get()
    exam_import.refresh_from_db()
    return exam_import


@pytest.fixture
def staff(client, province_staff):
    login_staff(client, province_staff)
    return client


@pytest.fixture
def people(db):
    """Two collected people: 张三 and 李四."""
    zhang = make_active_archive(make_accountant(sequence=101, name="张三"))
    li = make_active_archive(make_accountant(address="140521", sequence=303, name="李四", mobile="13900000000"),
                             jurisdiction="140521")
    return zhang, li


def wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def test_messy_list_reports_each_problem_in_words_and_registers_none(staff, people):
    """R-CE-10: every problem in words in the preview; nothing registered from a wrong row."""
    zhang, li = people
    stranger = make_id_number("140105", dt.date(1985, 5, 5), 777)
    exam_import = checked(staff, xlsx([
        ("王五", wrong_check_digit(make_id_number("140105", dt.date(1980, 1, 1), 555)), 1),
        ("赵六", stranger, 2),                       # unknown in the province → pending
        ("张三", zhang.id_number, 1),                # the same person twice
        ("张三", zhang.id_number, 2),
        ("李四", li.id_number, "两科"),               # text where a number belongs
        ("", make_id_number("140105", dt.date(1981, 1, 1), 556), None),  # empty cells
        ("钱七", make_id_number("140105", dt.date(1982, 1, 1), 557), 5),  # not 1–3 (this exam has three)
    ]))
    rows = {row.row_no: row for row in ExamRow.objects.filter(import_file=exam_import)}
    assert "校验位不正确" in rows[3].problem
    assert rows[4].state == RowState.PENDING and rows[4].problem == "本省尚无该人员档案"
    assert rows[5].state == rows[6].state == RowState.INVALID and "与第5行重复" in rows[6].problem
    assert "与第6行重复且通过科目数不同" in rows[5].problem
    assert "不能填文字（“两科”）" in rows[7].problem
    assert "缺少姓名" in rows[8].problem and "缺少通过科目数" in rows[8].problem
    assert "会计专业技术资格考试通过科目数应为1至3（填的是5）" in rows[9].problem

    page = staff.get(reverse("workbench_exam_import", args=[exam_import.pk]))
    text = page.content.decode()
    assert "校验位不正确" in text and "不能填文字" in text and "登记学分" in text
    assert text.index("第3行") < text.index("待信息采集完成后登记（1人）")  # invalid rows first, pending apart

    register_exam_import.apply(args=[exam_import.pk]).get()
    assert not CreditEntry.objects.exists()  # nothing valid in this list
    exam_import.refresh_from_db()
    assert exam_import.status == ExamImport.Status.REGISTERED


def test_valid_rows_register_90_credits_per_subject_into_the_exam_year(staff, people, province_staff):
    """R-CE-10: 90 professional credits per passed subject, in the exam year, registered by the province."""
    zhang, li = people
    exam_import = checked(staff, xlsx([("张三", zhang.id_number, 1), ("李 四", li.id_number.lower(), 3.0)]),
                          exam="cpa")
    assert exam_import.status == ExamImport.Status.CHECKED
    response = staff.post(reverse("workbench_exam_import_register", args=[exam_import.pk]))
    assert response.status_code == 302
    exam_import.refresh_from_db()
    assert exam_import.status == ExamImport.Status.REGISTERING
    register_exam_import.apply(args=[exam_import.pk, province_staff.pk]).get()

    entries = {e.archive_id: e for e in CreditEntry.objects.all()}
    assert entries[zhang.pk].credits == Decimal("90") and entries[li.pk].credits == Decimal("270")
    entry = entries[li.pk]
    assert (entry.year_id, entry.subject_kind, entry.form, entry.source_type, entry.source_id) == (
        2024, "professional", "exam", "exam_file", "cpa")
    assert entry.source_label == "2024年注册会计师考试合格" and entry.registered_by == province_staff
    exam_import.refresh_from_db()
    assert exam_import.status == ExamImport.Status.REGISTERED and exam_import.registered_at
    assert set(ExamRow.objects.values_list("state", flat=True)) == {RowState.REGISTERED}
    page = staff.get(reverse("workbench_exam_import", args=[exam_import.pk])).content.decode()
    assert "已登记" in page and "登记学分</button>" not in page


def test_the_exam_credit_standard_decides_what_a_list_registers(staff, people, province_staff):
    """Policy numbers from data, R-CE-10: the province adds an exam CreditStandard of 60 a subject
    for 2024 and the list registers 60 per subject — six for the CPA's professional stage — and says so."""
    zhang, li = people
    credit_standard_save(standard=CreditStandard(
        form="exam", variant="per_subject", label="考试通过一科（调整）", credits=Decimal("60"), per="科",
        effective_from=2024), by=province_staff)
    exam_import = checked(staff, xlsx([("张三", zhang.id_number, 6), ("李四", li.id_number, 1)]), exam="cpa")
    page = staff.get(reverse("workbench_exam_import", args=[exam_import.pk])).content.decode()
    assert "每通过一科登记专业科目60学分" in page
    exam_import_register(exam_import.pk)
    assert {e.archive_id: e.credits for e in CreditEntry.objects.all()} == {
        zhang.pk: Decimal("360"), li.pk: Decimal("60")}


@pytest.mark.parametrize(("exam", "subjects", "valid"), [
    ("cpa", 6, True), ("cpa", 7, False), ("tax_adviser", 5, True), ("tax_adviser", 6, False),
    ("asset_appraiser", 4, True), ("asset_appraiser", 5, False), ("accounting_qualification", 3, True),
])
def test_a_row_carries_as_many_subjects_as_its_exam_has(staff, people, exam, subjects, valid):
    """R-CE-10: the subjects a row may carry fit its exam (the CPA's professional stage has six)."""
    zhang, _li = people
    exam_import = checked(staff, xlsx([("张三", zhang.id_number, subjects)]), exam=exam)
    row = ExamRow.objects.get(import_file=exam_import)
    assert (row.state == RowState.VALID) is valid, row.problem


def test_reupload_of_the_same_list_registers_nothing_twice(staff, people):
    """R-CE-10: a repeated upload finds its people registered (此前已登记); running the task twice is safe."""
    zhang, li = people
    content = xlsx([("张三", zhang.id_number, 2), ("李四", li.id_number, 1)])
    first = checked(staff, content)
    exam_import_register(first.pk)
    exam_import_register(first.pk)  # a second run of the same task
    second = checked(staff, content)
    assert set(ExamRow.objects.filter(import_file=second).values_list("state", flat=True)) == {RowState.DUPLICATE}
    assert ExamRow.objects.filter(import_file=second).first().problem == "此前已登记，不再重复登记"
    exam_import_register(second.pk)
    assert CreditEntry.objects.count() == 2
    # Another exam of the same year is another source: it registers.
    third = checked(staff, content, exam="tax_adviser")
    exam_import_register(third.pk)
    assert CreditEntry.objects.count() == 4


def test_one_row_batches_give_the_same_result(staff, people):
    """Batches of one row (the benchmark's one-by-one comparison) register the same (R-CE-10)."""
    zhang, li = people
    exam_import = checked(staff, xlsx([("张三", zhang.id_number, 2), ("李四", li.id_number, 1)]))
    exam_import_register(exam_import.pk, batch_size=1)
    assert sorted(CreditEntry.objects.values_list("credits", flat=True)) == [Decimal("90"), Decimal("180")]
    assert set(ExamRow.objects.values_list("state", flat=True)) == {RowState.REGISTERED}


def test_pending_person_registers_once_their_collection_is_approved(staff, people, second_reviewer,
                                                                    django_capture_on_commit_callbacks):
    """R-CE-12, R-CE-10: listed separately, then registered by themselves after the collection is approved."""
    zhang, _li = people
    newcomer_number = make_id_number("140502", dt.date(1995, 3, 3), 505)
    exam_import = checked(staff, xlsx([("张三", zhang.id_number, 1), ("孙八", newcomer_number, 2)]))
    page = staff.get(reverse("workbench_exam_import", args=[exam_import.pk])).content.decode()
    assert "待信息采集完成后登记（1人）" in page
    exam_import_register(exam_import.pk)
    assert CreditEntry.objects.count() == 1

    newcomer = make_accountant(born=dt.date(1995, 3, 3), sequence=505, name="孙八", mobile="13700000000")
    assert newcomer.id_number == newcomer_number
    collection = make_collection(newcomer, "first_reviewed")
    assert CreditEntry.objects.count() == 1  # still waiting: the collection is not approved
    with django_capture_on_commit_callbacks(execute=True):
        workflow_transition(collection, "approve_second", by=second_reviewer)
    entry = CreditEntry.objects.get(archive=collection.archive)
    assert entry.credits == Decimal("180") and entry.year_id == 2024 and entry.source_type == "exam_file"
    assert ExamRow.objects.get(id_number=newcomer_number).state == RowState.REGISTERED


def test_pending_rows_of_a_list_not_yet_registered_wait_for_the_button(staff, people,
                                                                       django_capture_on_commit_callbacks):
    """The person collected before the list is registered: registering the list picks them up."""
    number = make_id_number("140502", dt.date(1995, 3, 3), 505)
    exam_import = checked(staff, xlsx([("孙八", number, 1)]))
    newcomer = make_accountant(born=dt.date(1995, 3, 3), sequence=505, name="孙八", mobile="13700000000")
    with django_capture_on_commit_callbacks(execute=True):
        make_collection(newcomer, "approved")
    assert not CreditEntry.objects.exists()  # the staff has not pressed 登记学分 yet
    exam_import_register(exam_import.pk)
    assert CreditEntry.objects.get().credits == Decimal("90")


def test_only_province_staff_may_upload(client, county_reviewer, accountant):
    """R-ACL: exam lists are the province's (R-CE-10); other roles get 403."""
    for user in (county_reviewer, accountant):
        login_staff(client, user)
        assert client.get(reverse("workbench_exam_imports")).status_code == 403
        assert upload(client, xlsx([])).status_code == 403
    assert not ExamImport.objects.exists()


def test_upload_refuses_wrong_files_in_words(staff):
    """Bad input (R-CE-10): a clear message beside the field, nothing stored; 415 as for a face-to-face list."""
    response = upload(staff, b"%PDF-1.4 not a list", name="名单.xlsx")
    assert response.status_code == 415 and "只接受 Excel（.xlsx）或 CSV 文件" in response.content.decode()
    response = upload(staff, b"PK\x03\x04broken", name="名单.xlsx")
    assert response.status_code == 415 and "只接受 Excel（.xlsx）或 CSV 文件" in response.content.decode()
    response = upload(staff, xlsx([], header=("姓名", "手机")))
    assert "未找到表头" in response.content.decode()
    assert not ExamImport.objects.exists()


def test_frozen_year_refuses_the_upload_and_the_registration(staff, people):
    """R-CE-13: nothing registers in a frozen year, whether frozen before upload or before registering."""
    zhang, _li = people
    exam_import = checked(staff, xlsx([("张三", zhang.id_number, 1)]))
    CEYear.objects.filter(pk=2024).update(frozen_at=timezone.now())
    with pytest.raises(Conflict):
        exam_import_register(exam_import.pk)
    assert not CreditEntry.objects.exists()
    assert upload(staff, xlsx([("张三", zhang.id_number, 1)])).status_code == 400


def test_gbk_csv_is_read(staff, people):
    """A CSV saved by Excel in GBK is read like UTF-8."""
    zhang, _li = people
    content = f"姓名,身份证号码,合格科目数\n张三,{zhang.id_number},2\n".encode("gbk")
    exam_import = checked(staff, content, name="名单.csv")
    assert ExamRow.objects.get(import_file=exam_import).state == RowState.VALID


def test_progress_counts_and_auto_refresh(staff, people):
    """The page shows done/total in a <progress> and refreshes itself while checking."""
    zhang, li = people
    response = upload(staff, xlsx([("张三", zhang.id_number, 1), ("李四", li.id_number, 2)]))
    exam_import = ExamImport.objects.get()
    page = staff.get(response.url).content.decode()
    assert exam_import.status == ExamImport.Status.CHECKING
    assert 'http-equiv="refresh"' in page and "<progress" in page
    exam_import_check(exam_import.pk)
    exam_import.refresh_from_db()
    assert (exam_import.total_rows, exam_import.done_rows) == (2, 2)
    page = staff.get(response.url).content.decode()
    assert 'http-equiv="refresh"' not in page and 'value="2"' in page and "已处理 2 / 2 行" in page


def test_a_5000_row_list_is_checked_in_a_bounded_number_of_queries(staff, people):
    """Set-based: archives looked up 5,000 ID numbers per query, rows bulk-inserted (never a query per row)."""
    born = dt.date(1970, 1, 1)
    numbers = [make_id_number("140105", born + dt.timedelta(days=i // 900), i % 900 + 100) for i in range(5000)]
    Archive.objects.bulk_create([
        Archive(name=f"人{i}", id_type="resident_id", id_number=number, sex="M", birth_date=born,
                status=Archive.Status.ACTIVE, collected_at=timezone.now())
        for i, number in enumerate(numbers[:3000])])
    response = upload(staff, xlsx([(f"人{i}", number, 1 + i % 3) for i, number in enumerate(numbers)]))
    exam_import = ExamImport.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[-1]))
    with CaptureQueriesContext(connection) as queries:
        counts = exam_import_check(exam_import.pk)
    assert len(queries) < 50
    assert counts[RowState.VALID] == 3000 and counts[RowState.PENDING] == 2000
    with CaptureQueriesContext(connection) as queries:
        exam_import_register(exam_import.pk)
    assert len(queries) < 50
    assert CreditEntry.objects.count() == 3000
