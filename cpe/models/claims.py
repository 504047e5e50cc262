"""Credit claims for other forms (其他形式学分登记申请), R-CE-11; the workflow kind ``claim`` of API.md §1.

``draft → submitted → approved``; ``submitted → returned → submitted``. The portal proposes the
credits from the standards in force for the claim's year (``cpe.claims.services.claim_propose``); the bureau
may adjust them with a reason when it approves, and the approval becomes one ledger entry.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from cpe.models.ledger import CEYear, CreditEntry
from kjzx.workflow import WorkflowModel
from records.models import Archive, Attachment, is_applicant, is_reviewer_in_scope

CLAIM_OPEN = ("draft", "submitted", "returned")
CLAIM_REVIEW = ("submitted",)


class ClaimForm(models.TextChoices):
    EXAM = "exam", _("其他考试")
    CONFERENCE = "conference", _("会计类专业会议")
    DEGREE = "degree", _("会计类专业学历（学位）教育")
    RESEARCH = "research", _("会计类课题研究")
    PAPER = "paper", _("发表会计类论文")
    BOOK = "book", _("出版会计类著作")


class CreditClaim(WorkflowModel):
    """A person's claim for credits of another form (学分登记申请), R-CE-11."""

    KIND = "claim"
    KIND_LABEL = "学分登记"
    NUMBER_PREFIX = "XF"
    OPEN_STATES = CLAIM_OPEN
    REVIEW_STATES = CLAIM_REVIEW

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已登记")
        RETURNED = "returned", _("已退回")

    status = FSMField(_("状态"), max_length=20, default="draft", protected=True, choices=Status.choices)
    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT, related_name="claims")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    form = models.CharField(_("形式"), max_length=20, choices=ClaimForm.choices)
    details = models.JSONField(_("详情"), default=dict)
    proposed_credits = models.DecimalField(_("建议学分"), max_digits=5, decimal_places=1)
    approved_credits = models.DecimalField(_("登记学分"), max_digits=5, decimal_places=1, null=True, blank=True)
    adjust_reason = models.CharField(_("调整原因"), max_length=200, blank=True)
    attachments = models.ManyToManyField(Attachment, verbose_name=_("证明材料"), blank=True, related_name="+")
    entry = models.OneToOneField(CreditEntry, verbose_name=_("学分登记"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="claim")

    class Meta:
        verbose_name = _("学分登记申请")
        verbose_name_plural = _("学分登记申请")
        indexes = [models.Index(fields=["submitted_at", "id"], condition=Q(status__in=CLAIM_REVIEW),
                                name="claim_queue_idx"),
                   models.Index(fields=["jurisdiction", "submitted_at", "id"], condition=Q(status__in=CLAIM_REVIEW),
                                name="claim_queue_region_idx"),
                   models.Index(fields=["due_date"], condition=Q(status__in=CLAIM_REVIEW), name="claim_due_idx"),
                   models.Index(fields=["applicant", "-created_at"], name="claim_applicant_idx")]

    def applicant_url(self) -> str:
        return f"/me/cpe/claims/{self.pk}/"

    def reviewer_url(self) -> str:
        return reverse("workbench_claim", kwargs={"pk": self.pk})

    @transition(field="status", source=["draft", "returned"], target="submitted", permission=is_applicant,
                custom={"label": _("提交"), "deadline": "claim.review", "order": 1})
    def submit(self, *, by, reason=""):
        self.submitted_at = timezone.now()

    @transition(field="status", source="submitted", target="approved", permission=is_reviewer_in_scope,
                custom={"label": _("审核通过并登记"), "order": 2})
    def approve(self, *, by, reason=""):
        pass

    @transition(field="status", source="submitted", target="returned", permission=is_reviewer_in_scope,
                custom={"name": "return", "label": _("退回"), "reason_required": True, "deadline": "clear",
                        "order": 9, "style": "secondary"})
    def send_back(self, *, by, reason=""):
        pass

    for _method in (submit, approve, send_back):
        _method.alters_data = True
    del _method
