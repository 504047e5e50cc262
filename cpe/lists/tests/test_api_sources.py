"""The REST API of face-to-face and exam pass lists: the services' rules through the API (R-CE-9, R-CE-10, R-ACL-1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from cpe.lists.tests.test_exams import wrong_check_digit
from cpe.lists.tests.test_exams import xlsx as exam_xlsx
from cpe.lists.tests.test_face_to_face import messy_rows, scan, xlsx_file
from cpe.models import CreditEntry, ExamImport
from cpe.tasks import check_attendance_list, check_exam_import, register_exam_import
from tests.factories import make_accountant, make_active_archive, make_staff

pytestmark = pytest.mark.django_db


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def one_row_list(people):
    return xlsx_file([["证件号码", "姓名", "学时"], [people["A"].id_number, "张三", 6]])


def upload_list(api_client, training, file, evidence=None):
    return api_client.post(f"/api/v1/cpe/trainings/{training.pk}/attendance/",
                           {"file": file, "evidence": evidence if evidence is not None else [scan()]},
                           format="multipart")


# --- face-to-face lists (R-CE-9) ----------------------------------------------------------------

def test_institution_uploads_a_messy_list_and_the_bureau_registers_the_valid_rows_once(
        api_client, institution_user, training, people, county_reviewer):
    """R-CE-9: every problem in words through the API once the background check ran, ID numbers
    masked; the bureau registers the valid rows in one step at 3 credits per 学时; a second time is a 409."""
    response = upload_list(as_user(api_client, institution_user), training, xlsx_file(messy_rows(people)))
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "checking" and response.json()["rows"] == []  # checked by the task
    check_attendance_list.apply(args=[response.json()["id"]]).get()
    body = api_client.get(f"/api/v1/cpe/attendance/{response.json()['id']}/").json()
    assert body["training"] == training.pk and body["status"] == "checked"
    assert (body["total_rows"], body["done_rows"], body["error"]) == (9, 9, "")
    assert (body["counts"]["valid"], body["counts"]["invalid"], body["counts"]["total"]) == (2, 7, 9)
    rows = {row["row_no"]: row for row in body["rows"]}
    assert rows[3]["state"] == "valid" and rows[3]["credits"] == "18.0"
    assert rows[7]["state"] == "invalid" and "与第3行重复" in rows[7]["problem"]
    assert "学时应为数字" in rows[11]["problem"] and "姓名与档案不一致" in rows[12]["problem"]
    assert rows[3]["id_number"] != people["A"].id_number and rows[3]["id_number"].startswith("140")
    assert "*" in rows[3]["id_number"]
    assert not CreditEntry.objects.exists()

    reviewer = as_user(api_client, county_reviewer)
    url = f"/api/v1/cpe/attendance/{body['id']}/"
    seen = reviewer.get(url)
    assert seen.status_code == 200 and seen.json()["counts"]["valid"] == 2 and len(seen.json()["evidence"]) == 1
    registered = reviewer.post(url + "register/")
    assert registered.status_code == 200, registered.json()
    assert registered.json()["result"] == {"registered": 2, "duplicate": 0, "invalid": 7}
    assert registered.json()["status"] == "registered" and registered.json()["counts"]["registered"] == 2
    assert sorted(CreditEntry.objects.values_list("credits", flat=True)) == [Decimal("18"), Decimal("48")]

    again = reviewer.post(url + "register/")
    assert again.status_code == 409 and "不能重复登记" in again.json()["detail"][0]
    assert CreditEntry.objects.count() == 2


def test_a_list_is_hidden_from_another_county_and_other_institutions(
        api_client, institution_user, training, people, other_county_reviewer):
    """R-ACL-1: outside the list's region, or another institution's list or training → 404."""
    attendance_id = upload_list(as_user(api_client, institution_user), training, one_row_list(people)).json()["id"]
    url = f"/api/v1/cpe/attendance/{attendance_id}/"

    outsider = as_user(api_client, other_county_reviewer)
    assert outsider.get(url).status_code == 404
    assert outsider.post(url + "register/").status_code == 404

    other_institution = as_user(api_client, make_staff("jigou_b", Role.INSTITUTION, "140502"))
    assert other_institution.get(url).status_code == 404
    refused = upload_list(other_institution, training, xlsx_file([["证件号码", "姓名", "学时"]]))
    assert refused.status_code == 404
    assert not CreditEntry.objects.exists()


def test_an_accountant_cannot_use_the_list_endpoints(api_client, institution_user, training, people):
    """R-ACL-1: an accountant is refused (403 by role) and registers nothing."""
    attendance_id = upload_list(as_user(api_client, institution_user), training, one_row_list(people)).json()["id"]
    accountant = as_user(api_client, make_accountant(sequence=201, name="周一", mobile="13800000201"))
    assert accountant.get(f"/api/v1/cpe/attendance/{attendance_id}/").status_code == 403
    assert accountant.post(f"/api/v1/cpe/attendance/{attendance_id}/register/").status_code == 403
    assert upload_list(accountant, training, xlsx_file([["证件号码", "姓名", "学时"]])).status_code == 403
    assert not CreditEntry.objects.exists()


def test_upload_errors_keep_the_services_statuses(api_client, institution_user, training):
    """R-CE-9: no evidence → 400 in words; a scan named .xlsx → 415; nothing stored."""
    client = as_user(api_client, institution_user)
    no_evidence = upload_list(client, training, xlsx_file([["证件号码", "姓名", "学时"]]), evidence=[])
    assert no_evidence.status_code == 400
    fake = upload_list(client, training, SimpleUploadedFile("名单.xlsx", scan().read()))
    assert fake.status_code == 415 and fake.json()["file"]
    assert not training.attendance_lists.exists()


# --- exam pass lists (R-CE-10) ------------------------------------------------------------------

def test_province_staff_upload_an_exam_list_which_is_checked_and_registered_at_90_per_subject(
        api_client, province_staff, django_capture_on_commit_callbacks, monkeypatch):
    """R-CE-10: 202 and the check queued after the commit; the preview's problems; 202 and the registering
    queued; 90 professional credits per passed subject in the exam year."""
    zhang = make_active_archive(make_accountant(sequence=101, name="张三"))
    li = make_active_archive(make_accountant(address="140521", sequence=303, name="李四", mobile="13900000000"),
                             jurisdiction="140521")
    queued = []
    monkeypatch.setattr(check_exam_import, "delay", lambda *args: queued.append(("check", args)))
    monkeypatch.setattr(register_exam_import, "delay", lambda *args: queued.append(("register", args)))
    client = as_user(api_client, province_staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/cpe/exam-imports/", {
            "year": 2024, "exam": "cpa", "file": SimpleUploadedFile("合格名单.xlsx", exam_xlsx([
                ("张三", zhang.id_number, 1), ("李四", li.id_number, 3),
                ("王五", wrong_check_digit(zhang.id_number), 1)]))},
            format="multipart")
    assert response.status_code == 202, response.json()
    import_id = response.json()["id"]
    assert response.json()["status"] == "checking" and queued == [("check", (import_id,))]
    check_exam_import.apply(args=[import_id]).get()

    detail = client.get(f"/api/v1/cpe/exam-imports/{import_id}/").json()
    assert detail["status"] == "checked" and (detail["total_rows"], detail["done_rows"]) == (3, 3)
    assert (detail["counts"]["valid"], detail["counts"]["invalid"]) == (2, 1)
    assert [row["row_no"] for row in detail["problem_rows"]] == [5]
    assert "校验位不正确" in detail["problem_rows"][0]["problem"]

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/api/v1/cpe/exam-imports/{import_id}/register/")
    assert started.status_code == 202 and started.json()["status"] == "registering"
    assert queued[-1] == ("register", (import_id, province_staff.pk))
    register_exam_import.apply(args=[import_id, province_staff.pk]).get()

    entries = {entry.archive_id: entry for entry in CreditEntry.objects.all()}
    assert entries[zhang.pk].credits == Decimal("90") and entries[li.pk].credits == Decimal("270")
    assert {(e.year_id, e.form, e.subject_kind) for e in entries.values()} == {(2024, "exam", "professional")}
    done = client.get(f"/api/v1/cpe/exam-imports/{import_id}/").json()
    assert done["status"] == "registered" and done["counts"]["registered"] == 2
    assert client.post(f"/api/v1/cpe/exam-imports/{import_id}/register/").status_code == 409


def test_a_wrong_exam_upload_is_refused_in_words(api_client, province_staff):
    """R-CE-10: a missing exam and a file without the header → 400 with Chinese messages, nothing stored."""
    client = as_user(api_client, province_staff)
    response = client.post("/api/v1/cpe/exam-imports/", {
        "year": 2024, "exam": "", "file": SimpleUploadedFile("名单.csv", "姓名,备注\n张三,\n".encode())},
        format="multipart")
    assert response.status_code == 400 and response.json()["exam"] == ["请选择考试。"]
    response = client.post("/api/v1/cpe/exam-imports/", {
        "year": 2024, "exam": "cpa", "file": SimpleUploadedFile("名单.csv", "姓名,备注\n张三,\n".encode())},
        format="multipart")
    assert response.status_code == 400 and "未找到表头" in response.json()["file"][0]
    assert not ExamImport.objects.exists()


def test_a_county_reviewer_cannot_use_exam_imports(api_client, province_staff, county_reviewer):
    """R-CE-10: exam lists are the province's: every other role → 403."""
    exam_import = ExamImport.objects.create(year_id=2024, exam="cpa", file_name="x.xlsx", sha256="0",
                                            uploaded_by=province_staff)
    client = as_user(api_client, county_reviewer)
    assert client.post("/api/v1/cpe/exam-imports/", {"year": 2024, "exam": "cpa"},
                       format="multipart").status_code == 403
    assert client.get(f"/api/v1/cpe/exam-imports/{exam_import.pk}/").status_code == 403
    assert client.post(f"/api/v1/cpe/exam-imports/{exam_import.pk}/register/").status_code == 403
