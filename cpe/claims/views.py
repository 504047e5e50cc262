"""Pages of other-form credit claims (其他形式学分登记), R-CE-11, R-CE-12, R-CE-13, R-ACL-1…3, R-DL-2.

The person:

- ``/me/cpe/claims/`` (``person_claim_list``): their claims with status and credits, the standards
  in force, and 申请登记 — year, form, the form's details, evidence (records.uploads, kind
  ``evidence``). Saving makes a draft and opens it: the proposed credits are shown there before
  the person submits.
- ``/me/cpe/claims/<pk>/`` (``person_claim_detail``, :meth:`CreditClaim.applicant_url`): status, the
  proposal, the registered credits and any adjustment reason, the return reason, history; a draft or
  a returned claim can be edited and (re)submitted (``person_claim_transition``).

The bureau: ``/workbench/claims/<pk>/`` (``workbench_claim``; the model's ``reviewer_url`` should
reverse it): details, evidence inline (/files/<id>/), the proposal, 审核通过并登记 with optional other
credits and their reason, 退回 with its reason (``workbench_claim_transition``). Outside the
reviewer's region or the person's ownership: 404 (:func:`cpe.claims.selectors.claim_get`). Every rule is
in :mod:`cpe.claims.services`; these views parse, call it and answer.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import accountant_required
from cpe.claims import selectors, services
from cpe.ledger.selectors import standard_in_force
from cpe.models import ClaimForm, CreditClaim, CreditStandard
from kjzx.api import Conflict, DomainError
from kjzx.workflow import annotate_days_left, history_rows
from kjzx.workflow_views import REFUSALS, WorkflowPage, refusal_message
from records.forms import AttachmentsForm, add_error, form_error_items
from records.models import AttachmentKind

UNSAVED = gettext_lazy("本次填写的内容尚未保存，请按提示修改后重新提交。")
EVIDENCE = (AttachmentKind.EVIDENCE,)
CLAIM_FORMS_SHOWN = [(value, label) for value, label in ClaimForm.choices]


def _choices(mapping: dict, empty: str) -> list:
    return [("", empty), *mapping.items()]


class ClaimInputForm(forms.Form):
    """The claim's year, form and details; which details matter depends on the form (cpe.claims.services checks)."""

    year = forms.TypedChoiceField(label=gettext_lazy("学分所属年度"), coerce=int)
    form = forms.ChoiceField(label=gettext_lazy("学习形式"), choices=[("", gettext_lazy("请选择")), *CLAIM_FORMS_SHOWN],
                             error_messages={"required": gettext_lazy("请选择学习形式。")})
    exam = forms.ChoiceField(label=gettext_lazy("考试名称（其他考试）"), required=False,
                             choices=_choices(services.EXAMS, gettext_lazy("请选择")))
    subjects_passed = forms.IntegerField(label=gettext_lazy("当年通过科目数（其他考试）"), required=False, min_value=1,
                                         max_value=services.MAX_COUNT["subjects_passed"])
    days = forms.IntegerField(label=gettext_lazy("参会天数（专业会议）"), required=False, min_value=1,
                              max_value=services.MAX_COUNT["days"])
    courses_passed = forms.IntegerField(label=gettext_lazy("当年通过课程门数（学历教育）"), required=False,
                                        min_value=1, max_value=services.MAX_COUNT["courses_passed"])
    role = forms.ChoiceField(label=gettext_lazy("本人角色（课题研究）"), required=False,
                             choices=_choices(services.ROLES, gettext_lazy("请选择")))
    authorship = forms.ChoiceField(label=gettext_lazy("作者排序（论文、著作）"), required=False,
                                   choices=_choices(services.AUTHORSHIPS, gettext_lazy("请选择")))
    cn_number = forms.CharField(label=gettext_lazy("期刊CN刊号（论文）"), required=False, max_length=20,
                                help_text=gettext_lazy("国内统一连续出版物号，如 CN14-1234/F。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("请选择")), *((y, f"{y}年度") for y in
                                                          selectors.open_years().values_list("year", flat=True))]
        self.fields["year"].error_messages.update(required=_("请选择学分所属年度。"),
                                                  invalid_choice=_("该年度学分登记已结束或不存在。"))

    @classmethod
    def initial_for(cls, claim) -> dict:
        return {"year": claim.year_id, "form": claim.form, **claim.details}

    def to_data(self) -> dict:
        data = self.cleaned_data
        form = data.get("form") or ""
        keys = services.FORMS.get(form, ((),))[0]
        return {"year": data.get("year"), "form": form,
                "details": {key: data.get(key) for key in keys if data.get(key) not in (None, "")}}

    def add_service_errors(self, exc: DomainError) -> None:
        for key, found in exc.errors.items():
            field = key.removeprefix("details.")
            for message in found:
                add_error(self, field if field in self.fields else None, message)


def _standards() -> list[CreditStandard]:
    """The standards of the claimable forms in force this year, for the person to see what counts."""
    years = list(selectors.open_years().values_list("year", flat=True)[:1])
    shown = []
    for form, (_keys, variant_from, _count) in services.FORMS.items():
        variants = [variant_from[1:]] if variant_from.startswith("=") else list(
            services.CHOICES[variant_from])
        for variant in variants:
            found = standard_in_force(form, variant, years[0]) if years else None
            if found is not None:
                shown.append(found)
    return shown


def _uploads_form(user, data=None, files=None, attached=()) -> AttachmentsForm:
    return AttachmentsForm.for_user(user, data, files, kinds=EVIDENCE, attached=attached)


def _parse(request, attached=()):
    """The bound forms, the uploads stored; (form, uploads, valid)."""
    form = ClaimInputForm(request.POST)
    uploads = _uploads_form(request.user, request.POST, request.FILES, attached)
    valid = all([form.is_valid(), uploads.is_valid()])
    if valid:
        uploads.store(request.user)
    return form, uploads, valid and not uploads.errors


def _summary(form, uploads) -> list[dict]:
    return form_error_items(form) + form_error_items(uploads, _("证明材料"), "section-evidence")


# --- the person ---------------------------------------------------------------------------------

def _render_list(request, form, uploads, status=200):
    user = request.user
    own = list(selectors.claim_list(user).order_by("-created_at", "-id"))
    return render(request, "cpe/claims/list.html", {
        "claims": annotate_days_left(own), "form": form, "uploads": uploads, "summary": _summary(form, uploads),
        "standards": _standards(), "menu": "cpe"}, status=status)


@accountant_required
@require_http_methods(["GET", "POST"])
def claim_list(request):
    """The person's claims and 申请登记: saving makes a draft showing the proposed credits (R-CE-11)."""
    if request.method == "GET":
        return _render_list(request, ClaimInputForm(), _uploads_form(request.user))
    form, uploads, valid = _parse(request)
    if valid:
        try:
            claim = services.claim_open(person=request.user, **form.to_data(), attachments=uploads.keep_ids())
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("person_claim_list")
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已保存草稿（%(number)s），建议学分 %(credits)s。核对无误后请提交申请。") % {
                "number": claim.number, "credits": claim.proposed_credits})
            return redirect("person_claim_detail", pk=claim.pk)
    messages.error(request, UNSAVED)
    return _render_list(request, form, uploads, status=400)


def _render_detail(request, claim, form=None, uploads=None, status=200):
    editable = claim.status in ("draft", "returned")
    if editable and form is None:
        form = ClaimInputForm(initial=ClaimInputForm.initial_for(claim))
        uploads = _uploads_form(request.user, attached=claim.attachments.all())
    annotate_days_left([claim])
    return render(request, "cpe/claims/detail.html", {
        "claim": claim, "details": services.details_rows(claim.form, claim.details),
        "attachments": list(claim.attachments.all()), "history": history_rows(claim),
        "transitions": claim.transition_names_for(request.user), "editable": editable,
        "form": form, "uploads": uploads, "summary": _summary(form, uploads) if form is not None else [],
        "menu": "cpe"}, status=status)


@accountant_required
@require_http_methods(["GET", "POST"])
def claim_detail(request, pk: int):
    """One claim; a draft or a returned one is edited here (保存) and may be submitted at once (提交申请)."""
    claim = selectors.claim_get(request.user, pk)
    if request.method == "GET":
        return _render_detail(request, claim)
    form, uploads, valid = _parse(request, claim.attachments.all())
    if valid:
        try:
            with transaction.atomic():  # an edit refused at submission leaves nothing half-saved
                claim = services.claim_update(claim=claim, by=request.user, **form.to_data(),
                                            attachments=uploads.keep_ids())
                if "submit" in request.POST:
                    claim = services.claim_transition(claim, "submit", by=request.user)
        except REFUSALS as exc:
            messages.error(request, refusal_message(exc))
            return redirect("person_claim_detail", pk=pk)
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已提交（%(number)s），请等待财政部门审核。") % {"number": claim.number}
                             if claim.status == "submitted" else _("已保存。"))
            return redirect("person_claim_detail", pk=pk)
    messages.error(request, UNSAVED)
    return _render_detail(request, selectors.claim_get(request.user, pk), form, uploads, status=400)


@accountant_required
@require_POST
def claim_transition(request, pk: int, name: str):
    """提交 a draft or a returned claim as it is (R-CE-11, R-CE-12, R-CE-13)."""
    claim = selectors.claim_get(request.user, pk)
    if name != "submit":
        raise Http404
    try:
        claim = services.claim_transition(claim, name, by=request.user)
    except REFUSALS as exc:
        messages.error(request, refusal_message(exc))
    except DomainError as exc:
        for found in exc.errors.values():
            for message in found:
                messages.error(request, message)
    else:
        messages.success(request, _("已提交（%(number)s），请等待财政部门审核。") % {"number": claim.number})
    return redirect("person_claim_detail", pk=claim.pk)


# --- the bureau ---------------------------------------------------------------------------------

class ClaimPage(WorkflowPage):
    """One claim as its bureau sees it, through the one HTML door (R-CE-11; outside the region, 404,
    R-ACL-1): 审核通过并登记 with optional other credits and their reason, or 退回 with its reason (R-ACL-3)."""

    model = CreditClaim
    selector = staticmethod(lambda model, user, pk: selectors.claim_get(user, pk))
    template_name = "cpe/claims/workbench.html"
    route = "workbench_claim"
    fields = ("credits",)

    def extra_context(self, obj) -> dict:
        return {"archive": obj.archive, "details": services.details_rows(obj.form, obj.details),
                "attachments": list(obj.attachments.all()),
                "approve": next((a for a in obj.transitions_for(self.request.user) if a.name == "approve"), None)}

    def perform(self, obj, name: str, *, by, values: dict):
        return services.claim_transition(obj, name, by=by, reason=values["reason"], credits=values["credits"])
