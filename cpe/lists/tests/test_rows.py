"""One reader and one row checker for both list kinds (R-CE-9, R-CE-10).

Face-to-face lists and exam pass lists classify an ID number, normalise a name and refuse a file the
same way, because the same code does it: an ID Excel stored as a number is reported as exactly that.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cpe.lists.rows import id_number_problem, normalise_name
from cpe.lists.services import exams, face_to_face
from cpe.lists.spreadsheets import excel_general
from cpe.lists.tests.test_exams import xlsx as exam_xlsx
from cpe.lists.tests.test_face_to_face import make_training, scan, xlsx_bytes, xlsx_file
from cpe.models import ExamRow, RowState
from kjzx.api import DomainError
from records.models import Archive
from tests.factories import login_staff, make_id_number

pytestmark = pytest.mark.django_db

NUMBER = make_id_number("140502", dt.date(1990, 3, 15), 101)
AS_EXCEL_SHOWS = "1.40502E+17"
EXCEL_WORDS = f"证件号码被 Excel 存成了数字（{AS_EXCEL_SHOWS}），请把该列设为文本后重新输入"


def collected(name: str, number: str = NUMBER) -> Archive:
    return Archive.objects.create(name=name, id_type="resident_id", id_number=number, sex="M",
                                  birth_date=dt.date(1990, 3, 15), status=Archive.Status.ACTIVE,
                                  collected_at=timezone.now())


def face_to_face_row(institution_user, id_cell, name: str):
    attendance = face_to_face.attendance_upload(
        training=make_training(institution_user), evidence=[scan()], by=institution_user,
        file=xlsx_file([["证件号码", "姓名", "学时"], [id_cell, name, 6]]))
    face_to_face.attendance_check(attendance.pk)
    return attendance.rows.get()


def exam_row(province_staff, content: bytes, name: str = "合格名单.xlsx") -> ExamRow:
    exam_import = exams.exam_import_create(year=2025, exam="cpa", by=province_staff,
                                           upload=SimpleUploadedFile(name, content))
    exams.exam_import_check(exam_import.pk)
    return ExamRow.objects.get(import_file=exam_import)


def test_an_id_stored_by_excel_as_a_number_is_reported_as_such_in_both_list_kinds(institution_user, province_staff):
    """the cell Excel turned into 1.40502E+17 is named as that, with the fix, on either list."""
    collected("张三")
    as_number = float(NUMBER.replace("X", "0"))
    assert excel_general(as_number) == AS_EXCEL_SHOWS and id_number_problem(AS_EXCEL_SHOWS) == EXCEL_WORDS
    face = face_to_face_row(institution_user, as_number, "张三")
    exam = exam_row(province_staff, exam_xlsx([("张三", as_number, 2)]))
    assert (face.state, face.problem) == (exam.state, exam.problem) == (RowState.INVALID, EXCEL_WORDS)
    # A CSV that Excel saved shows the same text: the same words.
    csv = exam_row(province_staff, f"证件号码,姓名,通过科目数\n{AS_EXCEL_SHOWS},张三,2\n".encode(), "名单.csv")
    assert csv.problem == EXCEL_WORDS


@pytest.mark.parametrize("dot", ["•", "‧", "・", "･", "．", "."])
def test_a_minority_name_matches_whichever_middle_dot_was_typed_in_both_list_kinds(
        institution_user, province_staff, dot):
    """阿卜杜·热合曼 on file is the person listed as 阿卜杜{dot}热合曼 (one name normalisation)."""
    collected("阿卜杜·热合曼")
    typed = f"阿卜杜{dot}热合曼"
    assert normalise_name(f" {typed} ") == "阿卜杜·热合曼"
    assert face_to_face_row(institution_user, NUMBER, typed).state == RowState.VALID
    assert exam_row(province_staff, exam_xlsx([(typed, NUMBER, 2)])).state == RowState.VALID


def test_both_list_kinds_answer_413_and_415_alike(client, institution_user, province_staff, settings):
    """the same size limit and the same 415 for a file that is no list, on the page of either kind."""
    training = make_training(institution_user)
    fake = b"%PDF-1.4 not a list"
    login_staff(client, institution_user)
    face = client.post(reverse("institution_attendance_upload", args=[training.pk]),
                       {"file": SimpleUploadedFile("名单.xlsx", fake), "evidence": [scan()]})
    login_staff(client, province_staff)
    exam = client.post(reverse("workbench_exam_import_new"),
                       {"year": 2025, "exam": "cpa", "file": SimpleUploadedFile("名单.xlsx", fake)})
    assert face.status_code == exam.status_code == 415
    settings.UPLOAD_MAX_BYTES = 100
    big = xlsx_bytes([["证件号码", "姓名", "学时", "通过科目数"], [NUMBER, "张三", 6, 2]])
    for upload in (lambda: face_to_face.attendance_upload(training=training, file=SimpleUploadedFile("名单.xlsx", big),
                                                          evidence=[scan()], by=institution_user),
                   lambda: exams.exam_import_create(year=2025, exam="cpa", by=province_staff,
                                                    upload=SimpleUploadedFile("名单.xlsx", big))):
        with pytest.raises(DomainError) as caught:
            upload()
        assert caught.value.status_code == 413
