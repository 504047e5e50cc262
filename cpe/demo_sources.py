"""Demo of the other CE sources (issue 6): institutions, a face-to-face list, claims, an exam list.

Everything goes through the real services, so histories and audit rows exist:

- 晋城市会计继续教育培训中心 (login ``jigou1``, 城区) files, is approved by 城区, keeps a teacher
  pool, held a face-to-face training last month and uploaded its attendance list (one row wrong):
  the list waits for 城区 (chengqu1) to register the valid rows.
- 沁水县财会培训学校 (login ``jigou2``) has its filing waiting in 沁水's queue.
- Two claims for other forms: a conference claim waiting for 城区, a paper claim already registered.
- An accounting-qualification pass list for this year, checked and waiting for the province (sheng)
  to register; one person on it has no approved collection yet and waits for it (R-CE-10).

Safe to load twice: each part is skipped when it is already there. The past training is created
with the ORM (a plan can only be filed before it starts, and this one is in the past).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import User
from accounts.validators import uscc_check_char
from cpe import claims, exams, face_to_face, institutions
from cpe.models import CreditClaim, ExamImport, TrainingInstitution, TrainingPlan
from kjzx.api import DomainError
from kjzx.workflow import workflow_transition
from records.models import Archive
from records.uploads import attachment_create

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def load(out) -> None:
    lines = [_institutions(), _face_to_face(), _claims(), _exam_list()]
    out.write("继续教育其他来源（演示）：")
    for line in filter(None, lines):
        out.write(f"  {line}")


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _code(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def _png(name: str) -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (250, 250, 245)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _xlsx(name: str, rows: list[list]) -> SimpleUploadedFile:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


# --- institutions -------------------------------------------------------------------------------

def _institutions() -> str:
    owner, other, bureau = _user("jigou1"), _user("jigou2"), _user("chengqu1")
    if owner is None or bureau is None or TrainingInstitution.objects.filter(owner=owner).exists():
        return ""
    filing = institutions.filing_apply(user=owner, data={
        "name": "晋城市会计继续教育培训中心", "credit_code": _code("52140502MJY0A1B2C"), "kind": "face_to_face",
        "address": "晋城市城区泽州路88号", "contact": "0356-2020888"})
    workflow_transition(filing, "approve", by=bureau)
    institution = TrainingInstitution.objects.get(owner=owner)
    teachers = (("赵明", "高级会计师", "财务会计与收入准则"), ("钱红", "注册会计师", "内部控制与风险管理"))
    for name, title, field in teachers:
        cv = f"{name}，{title}，从事{field}教学十余年。"
        institutions.teacher_save(user=owner, institution=institution,
                                  data={"name": name, "title": title, "field": field, "cv": cv})
    if other is not None:
        institutions.filing_apply(user=other, data={
            "name": "沁水县财会培训学校", "credit_code": _code("52140521MJY0C3D4E"), "kind": "face_to_face",
            "address": "沁水县龙港镇新建街12号", "contact": "0356-7020123"})
    return "jigou1：晋城市会计继续教育培训中心已备案（城区准予）；jigou2：沁水县财会培训学校备案待沁水审核"


# --- a face-to-face list --------------------------------------------------------------------------

def _face_to_face() -> str:
    owner = _user("jigou1")
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
    face_to_face.attendance_upload(training=training, file=_xlsx("学员名单.xlsx", rows),
                                   evidence=[_png("签到表.png")], by=owner)
    return f"面授学员名单（{training.title}，{len(people)}人有效、1行校验位错误）待城区 chengqu1 登记"


# --- claims -------------------------------------------------------------------------------------

def _claims() -> str:
    if CreditClaim.objects.exists():
        return ""
    bureau = _user("chengqu1")
    people = [a.person for a in Archive.objects.filter(status="active", jurisdiction_id="140502",
                                                        person__isnull=False).select_related("person")
              .order_by("-pk")[:2]]
    if len(people) < 2 or bureau is None:
        return ""
    year = timezone.localdate().year
    made = []
    for person, form, details, approve in (
            (people[0], "conference", {"days": 2}, False),
            (people[1], "paper", {"authorship": "first", "cn_number": "CN14-1021/F"}, True)):
        evidence = attachment_create(owner=person, kind="evidence", upload=_png("证明材料.png"))
        try:
            claim = claims.claim_open(person=person, year=year, form=form, details=details, attachments=[evidence.pk])
            claim = claims.claim_transition(claim, "submit", by=person)
            if approve:
                claims.claim_transition(claim, "approve", by=bureau)
        except DomainError:
            continue
        state = "已登记" if approve else "待城区审核"
        made.append(f"{person.username} {person.name}：{claim.get_form_display()}{state}")
    return "学分登记申请：" + "；".join(made) if made else ""


# --- an exam list -------------------------------------------------------------------------------

def _exam_list() -> str:
    province = _user("sheng")
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
