"""Each CE refusal is written once and every source answers with its words (R-CE-12, R-CE-13).

The sources: the province one by one, a claim's approval, a face-to-face list, an exam pass list and
online learning. A frozen year and a collection not approved yet are refused by each of them with
exactly :func:`cpe.ledger.rules.frozen_refusal` and :data:`cpe.ledger.rules.NOT_COLLECTED`.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cpe.claims.services import claim_open, claim_transition
from cpe.learning import services as learning
from cpe.learning.tests.test_learning import make_course
from cpe.ledger.rules import NOT_COLLECTED, frozen_refusal
from cpe.ledger.services import credit_register
from cpe.lists.services import exams, face_to_face
from cpe.lists.tests.test_exams import xlsx as exam_xlsx
from cpe.lists.tests.test_face_to_face import make_training, scan, xlsx_file
from cpe.models import CEYear, CreditEntry, ExamImport, ExamRow
from kjzx.api import DomainError
from records.services import archive_for_person
from tests.factories import make_accountant, make_active_archive, make_attachment, make_collection

pytestmark = pytest.mark.django_db

YEAR = 2025


def refusal(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.message


def freeze(year: int = YEAR) -> None:
    CEYear.objects.filter(pk=year).update(frozen_at=timezone.now())


def test_a_frozen_year_is_refused_with_the_same_words_from_every_source(accountant, county_reviewer, province_staff,
                                                                          institution_user):
    """R-CE-13: one by one, claim approval, face-to-face register, exam register, online learning — one message."""
    archive = make_active_archive(accountant)
    claim = claim_transition(claim_open(person=accountant, year=YEAR, form="conference", details={"days": 2},
                                        attachments=[make_attachment(accountant, "evidence").pk]),
                             "submit", by=accountant)
    attendance = face_to_face.attendance_upload(
        training=make_training(institution_user), evidence=[scan()], by=institution_user,
        file=xlsx_file([["证件号码", "姓名", "学时"], [archive.id_number, archive.name, 6]]))
    face_to_face.attendance_check(attendance.pk)  # the background check (cpe.tasks.check_attendance_list)
    exam_import = exams.exam_import_create(year=YEAR, exam="cpa", by=province_staff, upload=SimpleUploadedFile(
        "合格名单.xlsx", exam_xlsx([(archive.name, archive.id_number, 2)])))
    exams.exam_import_check(exam_import.pk)
    exams.exam_import_register_start(exam_import=exam_import, by=province_staff)  # 登记学分 pressed, then …
    course = make_course(year=YEAR)
    freeze()  # … the year closes before the worker registers

    answers = {
        "one by one": refusal(lambda: credit_register(
            archive=archive, year=YEAR, subject_kind="professional", form="other", credits=10,
            source_type="province", source_id="p1", source_label="省厅登记")),
        "claim approval": refusal(lambda: claim_transition(claim, "approve", by=county_reviewer)),
        "face-to-face register": refusal(lambda: face_to_face.attendance_register(
            attendance=attendance, by=county_reviewer)),
        "exam register": refusal(lambda: exams.exam_import_register(exam_import.pk)),
        "online learning": refusal(lambda: learning.course_enrol(person=accountant, course=course)),
    }
    assert answers == dict.fromkeys(answers, frozen_refusal(YEAR))
    assert ExamImport.objects.get().error == frozen_refusal(YEAR)
    assert not CreditEntry.objects.exists()


def test_a_collection_not_approved_is_refused_with_the_same_words_from_every_source(accountant, province_staff,
                                                                                   institution_user):
    """R-CE-12: one by one, a claim, online learning, a face-to-face row, an exam row — one predicate, one message."""
    archive = make_collection(accountant, "submitted").archive  # still being reviewed
    other = make_active_archive(make_accountant(sequence=303, name="李四", mobile="13900000000"))
    course = make_course()
    attendance = face_to_face.attendance_upload(
        training=make_training(institution_user), evidence=[scan()], by=institution_user,
        file=xlsx_file([["证件号码", "姓名", "学时"], [archive.id_number, archive.name, 6],
                        [other.id_number, other.name, 6]]))
    face_to_face.attendance_check(attendance.pk)  # the background check (cpe.tasks.check_attendance_list)
    exam_import = exams.exam_import_create(year=YEAR, exam="cpa", by=province_staff, upload=SimpleUploadedFile(
        "合格名单.xlsx", exam_xlsx([(archive.name, archive.id_number, 2)])))
    exams.exam_import_check(exam_import.pk)

    answers = {
        "one by one": refusal(lambda: credit_register(
            archive=archive_for_person(accountant), year=YEAR, subject_kind="professional", form="other", credits=10,
            source_type="province", source_id="p1", source_label="省厅登记")),
        "claim": refusal(lambda: claim_open(person=accountant, year=YEAR, form="conference", details={"days": 2})),
        "online learning": refusal(lambda: learning.course_enrol(person=accountant, course=course)),
        "face-to-face row": attendance.rows.get(row_no=2).problem,
        "exam row": ExamRow.objects.get(import_file=exam_import).problem,
    }
    assert answers == dict.fromkeys(answers, NOT_COLLECTED)
    assert attendance.rows.get(row_no=3).credits == Decimal("18")  # the collected person on the same list
    assert not CreditEntry.objects.exists()
