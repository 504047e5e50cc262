"""Transfers of an archive (档案调转), R-TRF-1…5, and the national-platform exchange (API.md §2).

Three types share one workflow model (API.md §1):

- ``intra`` (省内调转): ``draft → submitted → accepted → completed``; ``rejected`` by the destination,
  ``returned`` by the origin, ``withdrawn`` by the person before acceptance.
- ``outbound`` (跨省调出): ``draft → submitted → accepted → uploaded → completed``; ``returned`` by the
  origin, by the destination province through the platform, or by itself after the province's
  period (R-TRF-3); ``withdrawn`` before acceptance.
- ``inbound`` (跨省调入): made by the exchange in ``received``; ``approved`` or ``rejected`` by the
  destination bureau; ``claimed`` by the person logging in with the same ID (R-TRF-4).

``jurisdiction`` is the bureau whose step it is: the origin until an intra transfer is accepted,
then the destination; the origin throughout an outbound one; the destination of an inbound one.
The services are in ``transfers/services.py``.
"""

from __future__ import annotations

import re
from functools import cache

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from kjzx.fields import EncryptedJSONField, EncryptedTextField, KeyedHashField
from kjzx.workflow import WorkflowModel
from records.models import Archive, Attachment, is_applicant

SHANXI = "14"


class Province(models.Model):
    """A province-level division (GB/T 2260 two-digit code) and whether it is on the national platform.

    Provincial staff keep ``connected`` up to date in the admin; an outbound transfer to a province
    that is not connected is refused with "暂缓办理" (R-TRF-3).
    """

    code = models.CharField(_("代码"), max_length=2, primary_key=True)
    name = models.CharField(_("名称"), max_length=20)
    connected = models.BooleanField(_("已接入全国平台"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("省份（跨省调转）")
        verbose_name_plural = _("省份（跨省调转）")
        ordering = ["code"]

    def __str__(self):
        return self.name


@cache
def province_names() -> dict[str, str]:
    """Code → name of every province (GB/T 2260 names do not change; ``connected`` is not cached)."""
    return dict(Province.objects.values_list("code", "name"))


class ExchangePolicy(models.Model):
    """The province's settings for the national exchange (one row): the outbound answer period, R-TRF-3."""

    outbound_timeout_days = models.PositiveSmallIntegerField(
        _("调入地接收期限（自然日）"), default=30,
        help_text=_("已上传全国平台的调出记录，超过此天数未收到调入地结果的，自动退回调出地。"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("跨省调转设置")
        verbose_name_plural = _("跨省调转设置")

    def __str__(self):
        return str(_("跨省调转设置"))

    @classmethod
    def current(cls) -> ExchangePolicy:
        return cls.objects.get_or_create(pk=1)[0]


class TransferType(models.TextChoices):
    INTRA = "intra", _("省内调转")
    OUTBOUND = "outbound", _("跨省调出")
    INBOUND = "inbound", _("跨省调入")


TRANSFER_OPEN = ("draft", "submitted", "accepted", "uploaded", "received")
TRANSFER_REVIEW = ("submitted", "accepted", "received")
TIMEOUT_REASON = "调入地未在规定期限内接收"
# A national-platform transfer number: it comes back in URLs (GET inbound/{transfer_no}/), so letters,
# digits, "-" and "_" only; anything else names no transfer.
TRANSFER_NO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


def nobody(obj, user) -> bool:
    """Transitions only the system takes (the exchange, a sweep): no user ever may."""
    return False


def is_origin_reviewer(obj, user) -> bool:
    return bool(user.is_reviewer and obj.from_region_id and _inside(user, obj.from_region))


def is_destination_reviewer(obj, user) -> bool:
    return bool(user.is_reviewer and obj.to_region_id and _inside(user, obj.to_region))


def _inside(user, region) -> bool:
    from accounts.scoping import can_act_in

    return can_act_in(user, region)


def is_the_person(obj, user) -> bool:
    """The person of an inbound record: same ID type and number as the login (R-TRF-4)."""
    return bool(user.is_accountant and user.id_type == obj.person_id_type and user.id_number == obj.person_id_number)


class Transfer(WorkflowModel):
    """A transfer of an archive (档案调转申请), R-TRF-1…4."""

    KIND = "transfer"
    KIND_LABEL = "档案调转"
    NUMBER_PREFIX = "DZ"
    OPEN_STATES = TRANSFER_OPEN
    REVIEW_STATES = TRANSFER_REVIEW

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待调出地受理")
        ACCEPTED = "accepted", _("调出地已受理")
        UPLOADED = "uploaded", _("已上传全国平台，待调入地接收")
        COMPLETED = "completed", _("调转完成")
        REJECTED = "rejected", _("调入地未通过")
        RETURNED = "returned", _("已退回")
        WITHDRAWN = "withdrawn", _("已撤回")
        RECEIVED = "received", _("待调入地审核")
        APPROVED = "approved", _("调入地已通过，待本人认领")
        CLAIMED = "claimed", _("已认领，调转完成")

    status = FSMField(_("状态"), max_length=20, default="draft", protected=True, choices=Status.choices)
    type = models.CharField(_("调转类型"), max_length=10, choices=TransferType.choices)
    archive = models.ForeignKey(Archive, verbose_name=_("档案"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="transfers")
    from_region = models.ForeignKey("accounts.Region", verbose_name=_("调出地"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    to_region = models.ForeignKey("accounts.Region", verbose_name=_("调入地"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    from_province = models.CharField(_("调出省份"), max_length=2, blank=True)
    to_province = models.CharField(_("调入省份"), max_length=2, blank=True)
    to_unit = models.CharField(_("调入单位"), max_length=200, help_text=_("在校学生填写“无”。"))
    transfer_no = models.CharField(_("全国平台调转编号"), max_length=40, null=True, blank=True, unique=True)
    person_id_type = models.CharField(_("证件类型"), max_length=20, blank=True)
    person_id_number = EncryptedTextField(_("证件号码"), blank=True, hash_field="person_id_number_hash")
    person_id_number_hash = KeyedHashField(source="person_id_number", purpose="id_number")
    person_id_last4_hash = KeyedHashField(source="person_id_number", purpose="id_last4")
    person_record = EncryptedJSONField(_("人员信息"), default=dict, blank=True)  # sealed whole: ID, mobile
    inbound_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    uploaded_at = models.DateTimeField(_("上传全国平台时间"), null=True, blank=True)
    attachments = models.ManyToManyField(Attachment, verbose_name=_("证明材料"), blank=True, related_name="transfers")

    class Meta:
        verbose_name = _("档案调转")
        verbose_name_plural = _("档案调转")
        constraints = [
            # R-CHG-4: one open transfer per archive (changes have their own; both lock the archive row).
            models.UniqueConstraint(fields=["archive"], name="transfer_one_open_per_archive",
                                    condition=Q(status__in=TRANSFER_OPEN) & Q(archive__isnull=False)),
            models.CheckConstraint(condition=~Q(type="outbound") | ~Q(to_province=""),
                                   name="transfer_outbound_province"),
        ]
        indexes = [
            models.Index(fields=["submitted_at", "id"], condition=Q(status__in=TRANSFER_REVIEW),
                         name="transfer_queue_idx"),
            models.Index(fields=["jurisdiction", "submitted_at", "id"], condition=Q(status__in=TRANSFER_REVIEW),
                         name="transfer_queue_region_idx"),
            models.Index(fields=["due_date"], condition=Q(status__in=TRANSFER_REVIEW), name="transfer_due_idx"),
            models.Index(fields=["accepted_at", "id"], condition=Q(type="outbound", status="accepted"),
                         name="transfer_outbox_idx"),
            models.Index(fields=["uploaded_at"], condition=Q(type="outbound", status="uploaded"),
                         name="transfer_uploaded_idx"),
            models.Index(fields=["person_id_number_hash"], name="transfer_person_idx"),
            models.Index(fields=["person_id_last4_hash", "jurisdiction"], name="transfer_person_last4_idx"),
            models.Index(fields=["applicant", "-created_at"], name="transfer_applicant_idx"),
        ]

    @classmethod
    def review_q(cls) -> Q:
        # An accepted outbound transfer waits for the platform, not for a bureau.
        return Q(status__in=TRANSFER_REVIEW) & ~Q(type=TransferType.OUTBOUND, status="accepted")

    @property
    def in_review(self) -> bool:
        return self.status in TRANSFER_REVIEW and not (self.type == TransferType.OUTBOUND and self.status == "accepted")

    @property
    def status_display(self) -> str:
        if self.status == "accepted":
            return str(_("调出地已受理，待调入地审核") if self.type == TransferType.INTRA
                       else _("调出地已受理，待上传全国平台"))
        return str(self.get_status_display())

    @property
    def destination_label(self) -> str:
        if self.type == TransferType.OUTBOUND:
            return province_names().get(self.to_province, self.to_province)
        return self.to_region.jurisdiction_label if self.to_region_id else ""

    @property
    def person_name(self) -> str:
        return self.archive.name if self.archive_id else self.person_record.get("name", "")

    def applicant_url(self) -> str:
        return f"/me/transfers/{self.pk}/"

    def reviewer_url(self) -> str:
        return reverse("workbench_transfer", kwargs={"pk": self.pk})

    # --- the person and the origin bureau ---------------------------------------------------
    @transition(field="status", source="draft", target="submitted", permission=is_applicant,
                custom={"label": _("提交"), "deadline": "transfer.origin", "order": 1})
    def submit(self, *, by, reason=""):
        self.submitted_at = timezone.now()

    @transition(field="status", source="submitted", target="accepted", permission=is_origin_reviewer,
                custom={"label": _("受理"), "order": 2})
    def accept(self, *, by, reason=""):
        self.accepted_at = timezone.now()
        if self.type == TransferType.INTRA:
            self.jurisdiction = self.to_region  # the destination's step now

    @transition(field="status", source="submitted", target="returned", permission=is_origin_reviewer,
                custom={"name": "return", "label": _("退回"), "reason_required": True, "order": 9,
                        "style": "secondary"})
    def send_back(self, *, by, reason=""):
        pass

    @transition(field="status", source=["draft", "submitted"], target="withdrawn", permission=is_applicant,
                custom={"label": _("撤回"), "order": 8, "style": "secondary"})
    def withdraw(self, *, by, reason=""):
        pass

    # --- the destination bureau (intra: after acceptance; inbound: on receipt) ----------------
    @transition(field="status", source="accepted", target="completed", permission=is_destination_reviewer,
                conditions=[lambda t: t.type == TransferType.INTRA],
                custom={"label": _("审核通过"), "order": 3})
    def approve(self, *, by, reason=""):
        pass

    @transition(field="status", source="received", target="approved", permission=is_destination_reviewer,
                custom={"name": "approve", "label": _("审核通过"), "order": 3})
    def approve_inbound(self, *, by, reason=""):
        pass

    @transition(field="status", source=["accepted", "received"], target="rejected", permission=is_destination_reviewer,
                conditions=[lambda t: t.type != TransferType.OUTBOUND],
                custom={"label": _("不予通过"), "reason_required": True, "order": 9, "style": "secondary"})
    def reject(self, *, by, reason=""):
        if self.type == TransferType.INTRA:
            self.jurisdiction = self.from_region  # "goes back to the origin bureau" (R-TRF-1)

    @transition(field="status", source="approved", target="claimed", permission=is_the_person,
                custom={"label": _("认领档案"), "order": 1})
    def claim(self, *, by, reason=""):
        self.applicant = by

    # --- the national platform and the sweep (the system only) ---------------------------------
    @transition(field="status", source="accepted", target="uploaded", permission=nobody,
                conditions=[lambda t: t.type == TransferType.OUTBOUND], custom={"label": _("已上传全国平台")})
    def mark_uploaded(self, *, by, reason=""):
        self.uploaded_at = timezone.now()

    @transition(field="status", source=["accepted", "uploaded"], target="completed", permission=nobody,
                conditions=[lambda t: t.type == TransferType.OUTBOUND], custom={"label": _("调入地已接收")})
    def mark_received(self, *, by, reason=""):
        self.uploaded_at = self.uploaded_at or timezone.now()

    @transition(field="status", source=["accepted", "uploaded"], target="returned", permission=nobody,
                conditions=[lambda t: t.type == TransferType.OUTBOUND],
                custom={"label": _("调入地退回"), "reason_required": True})
    def mark_rejected(self, *, by, reason=""):
        self.uploaded_at = self.uploaded_at or timezone.now()

    @transition(field="status", source="uploaded", target="returned", permission=nobody,
                conditions=[lambda t: t.type == TransferType.OUTBOUND],
                custom={"label": _("超期自动退回"), "reason_required": True})
    def time_out(self, *, by, reason=""):
        pass

    for _method in (submit, accept, send_back, withdraw, approve, approve_inbound, reject, claim, mark_uploaded,
                    mark_received, mark_rejected, time_out):
        _method.alters_data = True
    del _method
