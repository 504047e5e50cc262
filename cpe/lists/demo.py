"""Demo of the name lists (演示数据：面授学员名单、考试合格名单), R-CE-9, R-CE-10.

- jigou1's institution held a face-to-face training last month and uploaded its attendance list (one
  row wrong): the list waits for 城区 (chengqu1) to register the valid rows;
- an accounting-qualification pass list for this year, checked and waiting for the province (sheng)
  to register; one person on it has no approved collection yet and waits for it (R-CE-10).

Through the real services. Safe to load twice: each part is skipped when it is already there. The
past training is created with the ORM (a plan can only be filed before it starts, and this one is
in the past).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import User
from cpe.ledger.demo import scan_upload
from cpe.lists.services import exams, face_to_face
from cpe.models import ExamImport, TrainingInstitution, TrainingPlan
from records.models import Archive

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(name: str, rows: list[list]) -> SimpleUploadedFile:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


def face_to_face_load() -> str:
    owner = User.objects.filter(username="jigou1").first()
    institution = TrainingInstitution.objects.filter(owner=owner, filed=True).first() if owner else None
    if institution is None or TrainingPlan.objects.filter(institution=institution).exists():
        return ""
    year = timezone.localdate().year
    ends = timezone.localdate() - dt.timedelta(days=30)
    training = TrainingPlan.objects.create(
        institution=institution, year_id=year, title=f"{year}年政府会计制度面授培训",
        starts_on=ends - dt.timedelta(days=1), ends_on=ends, hours_per_day=Decimal("8"), subject_kind="professional",
        venue="晋城市会计培训中心三楼报告厅",
        capacity=60, filed_by=owner, filed_at=timezone.now() - dt.timedelta(days=45))
    training.teachers.set(institution.teachers.all())
    people = list(Archive.objects.filter(status="active", jurisdiction_id="140502").order_by("pk")[:3])
    if not people:
        return ""
    rows = [["姓名", "身份证号", "学时"]] + [[p.name, p.id_number, 16] for p in people]
    rows.append([people[0].name, people[0].id_number[:17] + ("0" if people[0].id_number[17] != "0" else "1"), 16])
    attendance = face_to_face.attendance_upload(training=training, file=_xlsx("学员名单.xlsx", rows),
                                                evidence=[scan_upload("签到表.png")], by=owner)
    face_to_face.attendance_check(attendance.pk)  # what cpe.tasks.check_attendance_list does, here at once
    return f"面授学员名单（{training.title}，{len(people)}人有效、1行校验位错误）待城区 chengqu1 登记"


def exam_list_load() -> str:
    province = User.objects.filter(username="sheng").first()
    year = timezone.localdate().year
    if province is None or ExamImport.objects.filter(year_id=year).exists():
        return ""
    passed = list(Archive.objects.filter(status="active").order_by("pk")[3:8])
    waiting = Archive.objects.filter(status="collecting").order_by("pk").first()
    rows = [["姓名", "证件号码", "通过科目数"]] + [[a.name, a.id_number, 1 + i % 2] for i, a in enumerate(passed)]
    if waiting is not None:
        rows.append([waiting.name, waiting.id_number, 1])
    imported = exams.exam_import_create(year=year, exam="accounting_qualification",
                                        upload=_xlsx(f"{year}年会计资格考试合格名单.xlsx", rows), by=province)
    exams.exam_import_check(imported.pk)
    return (f"{year}年会计专业技术资格考试合格名单已校验（{len(passed)}人可登记"
            f"{'、1人待信息采集完成' if waiting else ''}），待省财政厅 sheng 登记")
