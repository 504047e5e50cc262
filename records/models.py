"""The archive (会计人员档案), its information collection (信息采集) and changes (档案变更登记).

R-COL-1…5, R-CHG-1…4. The workflow (states, who moves them, due dates) is in
``records/services.py``; the shared machinery in :mod:`kjzx.workflow`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from accounts.models import IdType, Sex
from accounts.scoping import can_act_in
from kjzx.fields import EncryptedJSONField, EncryptedTextField, KeyedHashField
from kjzx.workflow import WorkflowModel


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("个人照片")
    ID_CARD = "id_card", _("身份证件")
    DIPLOMA = "diploma", _("学历（学位）证书")
    QUALIFICATION = "qualification", _("专业技术资格证书")
    EMPLOYMENT_PROOF = "employment_proof", _("工作证明（加盖公章）")
    STUDENT_PROOF = "student_proof", _("学籍证明")
    EVIDENCE = "evidence", _("证明材料")


def attachment_path(instance: Attachment, filename: str) -> str:
    """A name the user does not choose: the date, a random id, the extension of the checked type."""
    extension = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[instance.content_type]
    return f"attachments/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{extension}"


class Attachment(models.Model):
    """A scan a person uploaded (附件): stored through Django's storage API, served only to those allowed."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT,
                              related_name="attachments")
    kind = models.CharField(_("类别"), max_length=20, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=50)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="attachment_owner_idx"),
            # the same bytes uploaded again by the same person, as the same kind, reuse the stored file
            models.Index(fields=["owner", "kind", "sha256"], name="attachment_owner_sha256_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.name}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class EducationLevel(models.TextChoices):
    SECONDARY = "secondary", _("中专")
    JUNIOR_COLLEGE = "junior_college", _("大专")
    BACHELOR = "bachelor", _("大学本科")
    MASTER = "master", _("硕士研究生")
    DOCTOR = "doctor", _("博士研究生")


class Degree(models.TextChoices):
    NONE = "none", _("无")
    BACHELOR = "bachelor", _("学士")
    MASTER = "master", _("硕士")
    DOCTOR = "doctor", _("博士")


class StudyMode(models.TextChoices):
    FULL_TIME = "full_time", _("全日制")
    PART_TIME = "part_time", _("非全日制")


class QualificationLevel(models.TextChoices):
    JUNIOR = "junior", _("初级")
    INTERMEDIATE = "intermediate", _("中级")
    SENIOR = "senior", _("高级")
    PRINCIPAL = "principal", _("正高级")


class UnitType(models.TextChoices):
    GOVERNMENT = "government", _("国家机关")
    INSTITUTION = "institution", _("事业单位")
    ENTERPRISE = "enterprise", _("企业")
    SOCIAL_ORG = "social_org", _("社会团体")
    OTHER = "other", _("其他")


STUDENT_EMPLOYER = "无"  # what a student writes as employer (R-TRF-1; the seeds' "在校学生…填写'无'")


class Archive(models.Model):
    """An accountant's archive (会计人员档案): what the collection gathered and the changes since, R-COL-2.

    One person, one archive (R-COL-3). ``person`` is empty only for a record that came in from
    another province and has not been claimed yet (R-TRF-4). The identity fields are the archive's
    own: registration fills them, the person may correct the name while the collection is a draft or
    returned, and once collected only an approved change alters them (R-CHG-1).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("未提交采集")
        COLLECTING = "collecting", _("采集审核中")
        ACTIVE = "active", _("已采集")
        TRANSFERRED_OUT = "transferred_out", _("已调出本省")

    person = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("本人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="archive")
    status = models.CharField(_("档案状态"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    jurisdiction = models.ForeignKey("accounts.Region", verbose_name=_("管理属地"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="archives")
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices)
    id_number = EncryptedTextField(_("证件号码"), hash_field="id_number_hash")
    id_number_hash = KeyedHashField(source="id_number", purpose="id_number")
    id_last4_hash = KeyedHashField(source="id_number", purpose="id_last4")  # the workbench's search
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    mobile = EncryptedTextField(_("手机号码"), blank=True, hash_field="mobile_hash")
    mobile_hash = KeyedHashField(source="mobile", purpose="mobile")
    email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("通讯地址"), max_length=200, blank=True)
    employer_name = models.CharField(_("工作单位"), max_length=200, blank=True,
                                     help_text=_("在校学生填写“无”。"))
    employer_credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    employer_unit_type = models.CharField(_("单位性质"), max_length=20, choices=UnitType.choices, blank=True)
    began_accounting_on = models.DateField(_("参加会计工作时间"), null=True, blank=True)
    pledge_accepted_at = models.DateTimeField(_("承诺书确认时间"), null=True, blank=True)
    attachments = models.ManyToManyField(Attachment, verbose_name=_("附件"), blank=True, related_name="archives")
    collected_at = models.DateTimeField(_("采集完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("建档时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("会计人员档案")
        verbose_name_plural = _("会计人员档案")
        constraints = [
            # through the keyed hash: the number is sealed (SM4-GCM), its format checked on input
            models.UniqueConstraint(fields=["id_type", "id_number_hash"], name="archive_unique_id_document"),
        ]
        indexes = [
            models.Index(fields=["jurisdiction", "status"], name="archive_jurisdiction_idx"),
            models.Index(fields=["name"], name="archive_name_idx"),
            models.Index(fields=["id_number_hash"], name="archive_id_number_idx"),  # by number, any type
            # the last four characters, then the region: a clerk's search by the trailing digits
            models.Index(fields=["id_last4_hash", "jurisdiction"], name="archive_id_last4_idx"),
        ]

    def __str__(self):
        return f"{self.name}（{self.masked_id_number}）"

    @property
    def masked_id_number(self) -> str:
        from accounts.models import mask_id_number

        return mask_id_number(self.id_number)

    @property
    def is_student(self) -> bool:
        return self.employer_name.strip() == STUDENT_EMPLOYER


class Education(models.Model):
    """One entry of education (学历信息); a person may have several."""

    archive = models.ForeignKey(Archive, on_delete=models.CASCADE, related_name="education")
    level = models.CharField(_("学历"), max_length=20, choices=EducationLevel.choices)
    degree = models.CharField(_("学位"), max_length=20, choices=Degree.choices, default=Degree.NONE)
    major = models.CharField(_("所学专业"), max_length=100)
    school = models.CharField(_("毕业院校"), max_length=100)
    mode = models.CharField(_("学习形式"), max_length=20, choices=StudyMode.choices, default=StudyMode.FULL_TIME)
    graduated_on = models.DateField(_("毕业时间"), null=True, blank=True)  # a draft may lack it; submit checks

    class Meta:
        verbose_name = _("学历信息")
        verbose_name_plural = _("学历信息")
        ordering = ["graduated_on", "id"]

    def __str__(self):
        return f"{self.get_level_display()} {self.school} {self.major}"


class Qualification(models.Model):
    """One accounting qualification held (会计专业技术资格)."""

    archive = models.ForeignKey(Archive, on_delete=models.CASCADE, related_name="qualifications")
    level = models.CharField(_("资格级别"), max_length=20, choices=QualificationLevel.choices)
    certificate_no = models.CharField(_("证书编号"), max_length=50)
    obtained_on = models.DateField(_("取得时间"), null=True, blank=True)  # a draft may lack it; submit checks

    class Meta:
        verbose_name = _("专业技术资格")
        verbose_name_plural = _("专业技术资格")
        ordering = ["obtained_on", "id"]

    def __str__(self):
        return f"{self.get_level_display()}（{self.certificate_no}）"


# --- permissions the transitions use: (application, user) → bool -------------------------------

def is_applicant(obj, user) -> bool:
    return user.pk == obj.applicant_id


def is_reviewer_in_scope(obj, user) -> bool:
    """A reviewer acts only inside their own region (R-ACL-1)."""
    return bool(user.is_reviewer and can_act_in(user, obj.jurisdiction))


def is_second_reviewer(obj, user) -> bool:
    """初审 and 复审 are two different reviewers (R-COL-4)."""
    return is_reviewer_in_scope(obj, user) and user.pk != obj.first_reviewed_by_id


COLLECTION_OPEN = ("draft", "submitted", "first_reviewed", "returned")
COLLECTION_REVIEW = ("submitted", "first_reviewed")
CHANGE_OPEN = ("draft", "submitted", "returned")
CHANGE_REVIEW = ("submitted",)


class CollectionApplication(WorkflowModel):
    """An information collection application (信息采集申请), R-COL-2…5.

    ``draft → submitted → first_reviewed → approved``; ``returned`` from either review step, and
    ``returned → submitted`` again. The 5 working days run from each submission (R-COL-5).
    """

    KIND = "collection"
    KIND_LABEL = "信息采集"
    NUMBER_PREFIX = "CJ"
    OPEN_STATES = COLLECTION_OPEN
    REVIEW_STATES = COLLECTION_REVIEW

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待初审")
        FIRST_REVIEWED = "first_reviewed", _("待复审")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("已退回")

    status = FSMField(_("状态"), max_length=20, default="draft", protected=True, choices=Status.choices)
    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT,
                                related_name="collections")
    first_reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("初审人"), null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    first_reviewed_at = models.DateTimeField(_("初审时间"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("复审人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("信息采集申请")
        verbose_name_plural = _("信息采集申请")
        constraints = [
            models.UniqueConstraint(fields=["archive"], condition=Q(status__in=COLLECTION_OPEN),
                                    name="collection_one_open_per_archive"),
        ]
        indexes = [
            models.Index(fields=["submitted_at", "id"], condition=Q(status__in=COLLECTION_REVIEW),
                         name="collection_queue_idx"),
            # a county's or a city's queue page: its region codes, in submission order
            models.Index(fields=["jurisdiction", "submitted_at", "id"], condition=Q(status__in=COLLECTION_REVIEW),
                         name="collection_queue_region_idx"),
            models.Index(fields=["due_date"], condition=Q(status__in=COLLECTION_REVIEW), name="collection_due_idx"),
            models.Index(fields=["applicant", "-created_at"], name="collection_applicant_idx"),
        ]

    def applicant_url(self) -> str:
        return "/me/collection/"

    def reviewer_url(self) -> str:
        return reverse("workbench_collection", kwargs={"pk": self.pk})

    @transition(field="status", source=["draft", "returned"], target="submitted", permission=is_applicant,
                custom={"label": _("提交"), "deadline": "collection.review", "order": 1})
    def submit(self, *, by, reason=""):
        self.submitted_at = timezone.now()
        self.first_reviewed_by = self.first_reviewed_at = None

    @transition(field="status", source="submitted", target="first_reviewed", permission=is_reviewer_in_scope,
                custom={"label": _("初审通过"), "order": 2})
    def approve_first(self, *, by, reason=""):
        self.first_reviewed_by = by
        self.first_reviewed_at = timezone.now()

    @transition(field="status", source="first_reviewed", target="approved", permission=is_second_reviewer,
                custom={"label": _("复审通过"), "order": 3})
    def approve_second(self, *, by, reason=""):
        self.approved_by = by

    @transition(field="status", source=["submitted", "first_reviewed"], target="returned",
                permission=is_reviewer_in_scope,
                custom={"name": "return", "label": _("退回"), "reason_required": True, "deadline": "clear",
                        "order": 9, "style": "secondary"})
    def send_back(self, *, by, reason=""):
        pass

    submit.alters_data = approve_first.alters_data = approve_second.alters_data = send_back.alters_data = True


class ChangeItem(models.TextChoices):
    """What a change request may alter (变更事项), R-CHG-1. The jurisdiction moves only by transfer."""

    BASIC = "basic", _("基本信息")
    CONTACT = "contact", _("联系方式")
    EDUCATION = "education", _("学历信息")
    QUALIFICATIONS = "qualifications", _("专业技术资格")
    EMPLOYER = "employer", _("工作单位")
    CAREER = "career", _("参加会计工作时间")


class ChangeRequest(WorkflowModel):
    """An archive change (档案变更登记), R-CHG-1…4.

    ``draft → submitted → approved``; ``submitted → returned → submitted``; ``withdrawn`` by the
    person before a decision. ``new_values`` holds the chosen items' new values; at approval the
    archive takes them and ``old_values`` keeps what they replaced (R-CHG-2).
    """

    KIND = "change"
    KIND_LABEL = "档案变更"
    NUMBER_PREFIX = "BG"
    OPEN_STATES = CHANGE_OPEN
    REVIEW_STATES = CHANGE_REVIEW

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("已退回")
        WITHDRAWN = "withdrawn", _("已撤回")

    status = FSMField(_("状态"), max_length=20, default="draft", protected=True, choices=Status.choices)
    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT, related_name="changes")
    items = models.JSONField(_("变更事项"), default=list)
    # sealed whole (SM4-GCM): a contact change carries the mobile number
    new_values = EncryptedJSONField(_("变更后"), default=dict)
    old_values = EncryptedJSONField(_("变更前"), default=dict)
    attachments = models.ManyToManyField(Attachment, verbose_name=_("证明材料"), blank=True, related_name="changes")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("档案变更申请")
        verbose_name_plural = _("档案变更申请")
        constraints = [
            # R-CHG-4: one open change per archive (transfers add their own check on the same lock).
            models.UniqueConstraint(fields=["archive"], condition=Q(status__in=CHANGE_OPEN),
                                    name="change_one_open_per_archive"),
        ]
        indexes = [
            models.Index(fields=["submitted_at", "id"], condition=Q(status__in=CHANGE_REVIEW),
                         name="change_queue_idx"),
            models.Index(fields=["jurisdiction", "submitted_at", "id"], condition=Q(status__in=CHANGE_REVIEW),
                         name="change_queue_region_idx"),
            models.Index(fields=["due_date"], condition=Q(status__in=CHANGE_REVIEW), name="change_due_idx"),
            models.Index(fields=["archive", "-decided_at"], condition=Q(status="approved"),
                         name="change_archive_history_idx"),
            models.Index(fields=["applicant", "-created_at"], name="change_applicant_idx"),
        ]

    def applicant_url(self) -> str:
        return f"/me/changes/{self.pk}/"

    def reviewer_url(self) -> str:
        return reverse("workbench_change", kwargs={"pk": self.pk})

    @property
    def item_labels(self) -> list[str]:
        return [str(ChangeItem(item).label) for item in self.items if item in ChangeItem.values]

    @transition(field="status", source=["draft", "returned"], target="submitted", permission=is_applicant,
                custom={"label": _("提交"), "deadline": "change.review", "order": 1})
    def submit(self, *, by, reason=""):
        self.submitted_at = timezone.now()

    @transition(field="status", source="submitted", target="approved", permission=is_reviewer_in_scope,
                custom={"label": _("审核通过"), "order": 2})
    def approve(self, *, by, reason=""):
        self.approved_by = by

    @transition(field="status", source="submitted", target="returned", permission=is_reviewer_in_scope,
                custom={"name": "return", "label": _("退回"), "reason_required": True, "deadline": "clear",
                        "order": 9, "style": "secondary"})
    def send_back(self, *, by, reason=""):
        pass

    @transition(field="status", source=["draft", "submitted", "returned"], target="withdrawn",
                permission=is_applicant, custom={"label": _("撤回"), "order": 8, "style": "secondary"})
    def withdraw(self, *, by, reason=""):
        pass

    submit.alters_data = approve.alters_data = send_back.alters_data = withdraw.alters_data = True
