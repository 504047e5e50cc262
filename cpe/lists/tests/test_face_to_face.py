"""Face-to-face lists (面授学员名单): upload, row-by-row checks, one-step registration (R-CE-9, R-CE-12, R-ACL-1)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from accounts.models import Role
from accounts.validators import uscc_check_char
from cpe.ledger.selectors import year_status
from cpe.lists.services import face_to_face
from cpe.lists.spreadsheets import read_table
from cpe.models import AttendanceList, CreditEntry, RowState, TrainingInstitution, TrainingPlan
from cpe.tasks import check_attendance_list
from kjzx.api import DomainError
from kjzx.models import Notification
from tests.factories import login_staff, make_id_number, make_staff, png_bytes

YEAR = 2025
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- builders -----------------------------------------------------------------------------------

def make_training(owner, *, first17="52140502MJ0K7H3F2", filed=True, region="140502", ends_on=dt.date(2025, 6, 11),
                  days=2, hours_per_day="8", title="2025年新收入准则面授培训") -> TrainingPlan:
    institution = TrainingInstitution.objects.create(
        name=f"{title}机构", credit_code=first17 + uscc_check_char(first17), kind="face_to_face", region_id=region,
        filed=filed, owner=owner)
    return TrainingPlan.objects.create(
        institution=institution, year_id=YEAR, title=title, starts_on=ends_on - dt.timedelta(days=days - 1),
        ends_on=ends_on, hours_per_day=Decimal(hours_per_day), subject_kind="professional", venue="晋城市会计培训中心",
        capacity=50, filed_by=owner)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_file(rows, name="学员名单.xlsx"):
    return SimpleUploadedFile(name, xlsx_bytes(rows), content_type=XLSX)


def scan(name="签到表.png"):
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def messy_rows(people) -> list[list]:
    """The deliberately messy list: a title line, a header with units, a blank line, every kind of mistake."""
    a, b, c, d, e = (people[k] for k in "ABCDE")
    return [
        ["2025年新收入准则面授培训学员名单"],                          # line 1: a title
        ["序号", "姓名", "身份证号", "学时（45分钟）", "备注"],            # line 2: the header
        [1, "张三", a.id_number, 6, ""],                              # 3: valid → 18 credits
        [2, "王五", b.id_number, 16.0, ""],                           # 4: valid → 48 credits (2 days × 8)
        [3, "张三", wrong_check_digit(a.id_number), 6, ""],           # 5: wrong check digit
        [4, "周九", make_id_number("140502", dt.date(1985, 3, 3), 311), 6, ""],  # 6: nobody collected
        [5, "张三", a.id_number, 6, "重复"],                           # 7: A again
        [],                                                           # 8: a blank line, skipped
        [6, "赵六", c.id_number, 17, ""],                              # 9: more than the plan allows
        [7, "", "", 6, ""],                                           # 10: empty cells
        [8, "钱七", d.id_number, "六学时", ""],                         # 11: text where a number belongs
        [9, "李鬼", e.id_number, 6, ""],                               # 12: another name than the archive's
    ]


def upload_page(client, user, training, file, evidence=None):
    login_staff(client, user)
    return client.post(reverse("institution_attendance_upload", args=[training.pk]),
                       {"file": file, "evidence": evidence if evidence is not None else [scan()]})


def uploaded(training, rows_or_file, by, evidence=None) -> AttendanceList:
    """The service's upload, then the background check run here (the task's function, R-CE-9)."""
    file = rows_or_file if hasattr(rows_or_file, "read") else xlsx_file(rows_or_file)
    attendance = face_to_face.attendance_upload(training=training, file=file, by=by,
                                                evidence=evidence if evidence is not None else [scan()])
    face_to_face.attendance_check(attendance.pk)
    attendance.refresh_from_db()
    return attendance


# --- the messy list -----------------------------------------------------------------------------

def test_a_messy_list_reports_every_problem_in_words_and_registers_only_valid_rows(
        client, institution_user, training, people, county_reviewer, django_capture_on_commit_callbacks, monkeypatch):
    """R-CE-9: every row checked (in the background), each problem in words; the bureau registers
    the valid rows in one step, 3 credits per 学时 in the training's year; the institution is told of the rest."""
    queued = []
    monkeypatch.setattr(check_attendance_list, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = upload_page(client, institution_user, training, xlsx_file(messy_rows(people)))
    attendance = AttendanceList.objects.get(training=training)
    assert response.status_code == 302 and response["Location"] == reverse("institution_attendance",
                                                                           args=[attendance.pk])
    assert attendance.status == AttendanceList.Status.CHECKING and not attendance.rows.exists()
    assert queued == [(attendance.pk,)]  # nothing parsed row by row in the request: the task does it
    page = client.get(reverse("institution_attendance", args=[attendance.pk])).content.decode()
    assert "正在逐行校验" in page and 'http-equiv="refresh"' in page
    check_attendance_list.apply(args=[attendance.pk]).get()
    attendance.refresh_from_db()
    assert (attendance.status, attendance.total_rows, attendance.done_rows) == (AttendanceList.Status.CHECKED, 9, 9)
    rows = {row.row_no: row for row in attendance.rows.all()}
    assert sorted(rows) == [3, 4, 5, 6, 7, 9, 10, 11, 12]
    assert [rows[3].state, rows[3].credits, rows[4].state, rows[4].credits] == [
        RowState.VALID, Decimal("18"), RowState.VALID, Decimal("48")]
    expected = {5: "身份证号码校验位不正确", 6: "本省尚无该人员档案", 7: "与第3行重复",
                9: "学时超过培训方案（每日最多10学时", 10: "缺少证件号码", 11: "学时应为数字",
                12: "姓名与档案不一致"}
    for line, words in expected.items():
        assert rows[line].state == RowState.INVALID and words in rows[line].problem, (line, rows[line].problem)
    assert "缺少姓名" in rows[10].problem
    assert not CreditEntry.objects.exists()  # nothing before the bureau registers

    page = client.get(reverse("institution_attendance", args=[attendance.pk])).content.decode()
    assert "与第3行重复" in page and "学时应为数字" in page

    login_staff(client, county_reviewer)
    page = client.get(reverse("workbench_attendance", args=[attendance.pk])).content.decode()
    assert "登记有效学员学分" in page and "姓名与档案不一致" in page
    assert reverse("attachment_file", args=[attendance.evidence.get().pk]) in page
    response = client.post(reverse("workbench_attendance_register", args=[attendance.pk]), follow=True)
    assert "已登记2人的面授培训学分" in response.content.decode()

    entries = CreditEntry.objects.order_by("credits")
    assert [(e.archive_id, e.year_id, e.form, e.subject_kind, e.credits, e.source_type, e.source_id)
            for e in entries] == [
        (people["A"].pk, YEAR, "face_to_face", "professional", Decimal("18"), "institution_list", str(training.pk)),
        (people["B"].pk, YEAR, "face_to_face", "professional", Decimal("48"), "institution_list", str(training.pk))]
    assert year_status(people["B"], YEAR).by_form == {"face_to_face": Decimal("48")}
    attendance.refresh_from_db()
    assert attendance.status == AttendanceList.Status.REGISTERED and attendance.registered_by == county_reviewer
    assert attendance.rows.filter(state=RowState.REGISTERED).count() == 2
    note = Notification.objects.get(user=institution_user)
    assert "有7行有误未登记" in note.body and note.link == reverse("institution_attendance", args=[attendance.pk])


def test_re_uploading_the_same_list_registers_nobody_twice(client, institution_user, training, people,
                                                          county_reviewer):
    """R-CE-9: the ledger's unique source — a repeated list registers nothing twice."""
    data = xlsx_bytes([["证件号码", "姓名", "学时"], [people["A"].id_number, "张三", 6]])
    upload_page(client, institution_user, training, SimpleUploadedFile("名单.xlsx", data))
    first = AttendanceList.objects.get()
    again = upload_page(client, institution_user, training, SimpleUploadedFile("名单.xlsx", data))
    assert again.status_code == 409 and "无需重复上传" in again.content.decode()  # same file still being checked
    face_to_face.attendance_check(first.pk)
    again = upload_page(client, institution_user, training, SimpleUploadedFile("名单.xlsx", data))
    assert again.status_code == 409 and "无需重复上传" in again.content.decode()  # same file still waiting
    face_to_face.attendance_register(attendance=first, by=county_reviewer)

    upload_page(client, institution_user, training, SimpleUploadedFile("名单.xlsx", data))
    second = AttendanceList.objects.exclude(pk=first.pk).get()
    face_to_face.attendance_check(second.pk)
    row = second.rows.get()
    assert row.state == RowState.DUPLICATE and row.problem == "此前已登记，不再重复登记"
    result = face_to_face.attendance_register(attendance=second, by=county_reviewer)
    assert result.registered == 0 and CreditEntry.objects.count() == 1


def test_two_waiting_lists_with_the_same_person_register_once(institution_user, training, people, county_reviewer):
    """R-CE-9: a person on two lists of one training, both waiting, gets the credits once (the second: 此前已登记)."""
    lists = [uploaded(training, [["证件号码", "姓名", "学时"], [people["A"].id_number, "张三", hours]],
                      institution_user) for hours in (6, 8)]
    assert face_to_face.attendance_register(attendance=lists[0], by=county_reviewer).registered == 1
    result = face_to_face.attendance_register(attendance=lists[1], by=county_reviewer)
    assert (result.registered, result.duplicate) == (0, 1)
    assert lists[1].rows.get().state == RowState.DUPLICATE
    assert CreditEntry.objects.get().credits == Decimal("18")


def test_registering_a_list_twice_is_refused(institution_user, training, people, county_reviewer):
    """R-CE-9: one registration per list (409), and none before its rows are checked (409)."""
    attendance = face_to_face.attendance_upload(
        training=training, evidence=[scan()], by=institution_user,
        file=xlsx_file([["证件号码", "姓名", "学时"], [people["A"].id_number, "张三", 6]]))
    with pytest.raises(DomainError, match="尚未校验完成") as caught:
        face_to_face.attendance_register(attendance=attendance, by=county_reviewer)
    assert caught.value.status_code == 409 and not CreditEntry.objects.exists()
    face_to_face.attendance_check(attendance.pk)
    face_to_face.attendance_register(attendance=attendance, by=county_reviewer)
    with pytest.raises(DomainError) as caught:
        face_to_face.attendance_register(attendance=attendance, by=county_reviewer)
    assert caught.value.status_code == 409


# --- files --------------------------------------------------------------------------------------

def test_a_scan_renamed_xlsx_is_refused_with_415(client, institution_user, training):
    """R-CE-9: the list is recognised by its bytes, never by its name."""
    fake = SimpleUploadedFile("学员名单.xlsx", png_bytes(), content_type=XLSX)
    response = upload_page(client, institution_user, training, fake)
    assert response.status_code == 415 and "只接受 Excel（.xlsx）或 CSV 文件" in response.content.decode()
    assert not AttendanceList.objects.exists()


def test_a_gbk_csv_and_a_utf8_bom_csv_are_read(institution_user, training, people):
    """R-CE-9: CSV saved by Excel on Chinese Windows (GBK) or with a BOM works."""
    text = f"证件号码,姓名,学时\n{people['A'].id_number},张三,4\n"
    for data in (text.encode("gbk"), "\ufeff".encode() + text.encode()):
        rows = read_table(SimpleUploadedFile("名单.csv", data, content_type="text/csv"),
                          required=("id_number", "name", "hours")).rows
        assert rows == [{"row": 2, "id_number": people["A"].id_number, "name": "张三", "hours": "4"}]
    attendance = uploaded(training, SimpleUploadedFile("名单.csv", text.encode("gbk")), institution_user)
    row = attendance.rows.get()
    assert (row.state, row.credits) == (RowState.VALID, Decimal("12"))
    assert attendance.file.name.endswith(".csv")


def test_english_headers_and_a_missing_column(settings):
    """The shared reader: English names work; a missing column, an oversize file are refused in words."""
    rows = read_table(xlsx_file([["ID Number", "Name", "Subjects"], ["X", "Y", 2]]),
                      required=("id_number", "name", "subjects")).rows
    assert rows == [{"row": 2, "id_number": "X", "name": "Y", "subjects": "2"}]
    with pytest.raises(DomainError) as caught:
        read_table(xlsx_file([["证件号码", "姓名"], ["X", "Y"]]), required=("id_number", "name", "hours"))
    assert caught.value.status_code == 400 and "缺少“学时”列" in caught.value.message
    settings.UPLOAD_MAX_BYTES = 100
    with pytest.raises(DomainError) as caught:
        read_table(xlsx_file([["证件号码", "姓名"], ["X", "Y"]]))
    assert caught.value.status_code == 413


def test_the_evidence_is_required(client, institution_user, training, people):
    """R-CE-9: the list comes with evidence."""
    response = upload_page(client, institution_user, training,
                           xlsx_file([["证件号码", "姓名", "学时"], [people["A"].id_number, "张三", 6]]), evidence=[])
    assert response.status_code == 400 and "实证材料" in response.content.decode()


# --- who may ------------------------------------------------------------------------------------

def test_only_a_filed_institution_after_the_training_may_upload(institution_user, people):
    """R-CE-9, R-CE-14: a filed institution, and only after the training ended."""
    rows = [["证件号码", "姓名", "学时"], [people["A"].id_number, "张三", 6]]
    unfiled = make_training(institution_user, filed=False)
    with pytest.raises(DomainError, match="尚未备案"):
        face_to_face.attendance_upload(training=unfiled, file=xlsx_file(rows), evidence=[scan()], by=institution_user)
    future = make_training(institution_user, first17="52140502MJ0K7H3G0",
                           ends_on=dt.date.today() + dt.timedelta(days=3))
    with pytest.raises(DomainError, match="培训结束"):
        face_to_face.attendance_upload(training=future, file=xlsx_file(rows), evidence=[scan()], by=institution_user)


def test_another_institution_user_gets_404(client, institution_user, training, people):
    """R-ACL-1: another institution's training and list do not exist for them."""
    attendance = face_to_face.attendance_upload(
        training=training, evidence=[scan()], by=institution_user,
        file=xlsx_file([["证件号码", "姓名", "学时"], [people["A"].id_number, "张三", 6]]))
    other = make_staff("jigou_b", Role.INSTITUTION, "140502")
    login_staff(client, other)
    assert client.get(reverse("institution_attendance_upload", args=[training.pk])).status_code == 404
    assert client.get(reverse("institution_attendance", args=[attendance.pk])).status_code == 404
    assert client.get(reverse("attachment_file", args=[attendance.evidence.get().pk])).status_code == 404


def test_another_countys_reviewer_gets_404_and_the_bureau_sees_its_lists(
        client, institution_user, training, people, county_reviewer, other_county_reviewer, city_reviewer):
    """R-ACL-1: the list and its evidence belong to the bureau of the institution's region (and above)."""
    attendance = face_to_face.attendance_upload(
        training=training, evidence=[scan()], by=institution_user,
        file=xlsx_file([["证件号码", "姓名", "学时"], [people["A"].id_number, "张三", 6]]))
    face_to_face.attendance_check(attendance.pk)  # the bureau's list shows checked lists
    evidence = attendance.evidence.get()
    login_staff(client, other_county_reviewer)
    assert client.get(reverse("workbench_attendance", args=[attendance.pk])).status_code == 404
    assert client.post(reverse("workbench_attendance_register", args=[attendance.pk])).status_code == 404
    assert client.get(reverse("attachment_file", args=[evidence.pk])).status_code == 404
    assert training.title not in client.get(reverse("workbench_attendance_list")).content.decode()
    assert not CreditEntry.objects.exists()

    for reviewer in (county_reviewer, city_reviewer):
        login_staff(client, reviewer)
        assert training.title in client.get(reverse("workbench_attendance_list")).content.decode()
        assert client.get(reverse("attachment_file", args=[evidence.pk])).status_code == 200
