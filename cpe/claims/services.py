"""Credit claims for other forms (其他形式学分登记), R-CE-11, R-CE-12, R-CE-13; the workflow kind ``claim``.

::

    draft ─submit (person)─▶ submitted ─approve (bureau)─▶ approved   → one ledger entry of the claim's year
      ▲                          └─return (bureau; reason)─▶ returned ─submit─▶ submitted
      └─ claim_update while draft or returned

- The person names the year, the form and its details (API.md "Continuing education"), and
  attaches evidence; :func:`claim_propose` proposes the credits from the credit standards
  (:func:`cpe.ledger.selectors.standard_in_force`, per form and variant). A later row changes later
  years only.
- Forms and details: ``exam`` ``{"exam", "subjects_passed"}`` → per subject (standard
  ``exam/per_subject``; every kind of exam, "other" too: the bureau adjusts with a reason if the
  province values it otherwise); ``conference`` ``{"days"}`` → per day; ``degree``
  ``{"courses_passed"}`` → the standard's credits **once** for the year whenever at least one course
  was passed (the table: "one course passed in the year: 90" — 90 is the whole year's requirement,
  so more courses add nothing); ``research`` ``{"role"}``, ``paper`` ``{"authorship", "cn_number"}``
  (the journal's CN number, ``CNdd-dddd/X``), ``book`` ``{"authorship"}`` → by the variant.
- ``submit`` checks: the person's collection approved (R-CE-12), the year not frozen (R-CE-13),
  evidence attached, the details valid (the proposal is recomputed from the standards then).
- ``approve`` registers one ledger entry through :func:`cpe.ledger.services.credit_register` (source
  ``claim:<pk>``, so never twice). The bureau may register other credits than proposed
  (``credits``), with a reason (``adjust_reason``), e.g. a conference shorter than claimed.
- Reads (:mod:`cpe.claims.selectors`) are scoped like every application's: the person their own
  claims, a bureau the submitted claims of its region; anything else is a 404.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.db import transaction

from cpe.ledger.rules import NOT_COLLECTED, collection_approved, frozen_refusal
from cpe.ledger.selectors import ONE_DECIMAL, standard_in_force
from cpe.ledger.services import credit_register
from cpe.models import CEYear, ClaimForm, CreditClaim, SourceType
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.notifications import notification_send
from kjzx.workflow import workflow_create, workflow_effect, workflow_transition
from records.models import Archive
from records.services import attachments_owned_by

register_event_labels({
    "claim.created": "创建学分登记申请",
    "claim.updated": "修改学分登记申请",
    "claim.submit": "提交学分登记申请",
    "claim.approve": "审核通过并登记学分",
    "claim.return": "退回学分登记申请",
})

EXAMS = {
    "accounting_qualification": "会计专业技术资格考试",
    "cpa": "注册会计师考试",
    "asset_appraiser": "资产评估师考试",
    "tax_adviser": "税务师考试",
    "other": "其他考试",
}
ROLES = {"sole": "独立完成", "host": "主持人", "participant": "其他参与人"}
AUTHORSHIPS = {"sole": "独立作者（独著）", "first": "第一作者", "other": "其他作者"}
CN_NUMBER_RE = re.compile(r"^CN\d{2}-\d{4}/[A-Z]$")
MAX_COUNT = {"subjects_passed": 10, "days": 30, "courses_passed": 20}
COUNT_LABELS = {"subjects_passed": "通过科目数", "days": "会议天数", "courses_passed": "通过课程门数"}
DETAIL_LABELS = {"exam": "考试", **COUNT_LABELS, "role": "本人角色", "authorship": "作者排序",
                 "cn_number": "期刊CN刊号"}
CHOICES = {"exam": EXAMS, "role": ROLES, "authorship": AUTHORSHIPS}

# form → (its detail keys, the key that picks the standard's variant or a fixed variant, the count key or None)
FORMS: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    ClaimForm.EXAM: (("exam", "subjects_passed"), "=per_subject", "subjects_passed"),
    ClaimForm.CONFERENCE: (("days",), "=per_day", "days"),
    ClaimForm.DEGREE: (("courses_passed",), "=per_course", None),  # once a year: see the module doc
    ClaimForm.RESEARCH: (("role",), "role", None),
    ClaimForm.PAPER: (("authorship", "cn_number"), "authorship", None),
    ClaimForm.BOOK: (("authorship",), "authorship", None),
}



# --- details and the proposal ------------------------------------------------------------------

def _clean_value(key: str, value) -> object:
    """One detail, checked; raises ValueError with the message."""
    if key in CHOICES:
        if not isinstance(value, str) or value not in CHOICES[key]:  # a list or an object is no choice either
            raise ValueError(f"{DETAIL_LABELS[key]}应为：" + "、".join(f"{k}（{v}）" for k, v in CHOICES[key].items())
                             + "。")
        return value
    if key in MAX_COUNT:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_COUNT[key]:
            raise ValueError(f"{DETAIL_LABELS[key]}应为1至{MAX_COUNT[key]}的整数。")
        return value
    text = str(value or "").strip().upper()  # cn_number
    if not CN_NUMBER_RE.match(text):
        raise ValueError("请填写期刊的国内统一连续出版物号（CN刊号），格式如 CN14-1234/F。")
    return text


def claim_details_clean(form, details) -> dict:
    """The details of ``form`` (API.md), only its own keys; every problem at once as ``details.<key>``."""
    if not isinstance(form, str) or form not in FORMS:  # a list or an object as the form: 400, not a 500
        raise DomainError({"form": ["形式应为：" + "、".join(f"{v}（{t}）" for v, t in ClaimForm.choices) + "。"]})
    if not isinstance(details, dict):
        raise DomainError({"details": ["详情应为对象，如 {\"days\": 2}。"]})
    clean, errors = {}, {}
    for key in FORMS[form][0]:
        try:
            clean[key] = _clean_value(key, details.get(key))
        except ValueError as exc:
            errors[f"details.{key}"] = [str(exc)]
    if errors:
        raise DomainError(errors)
    return clean


def claim_propose(year: int, form: str, details) -> tuple[Decimal, str]:
    """The credits and subject kind the standards in force for ``year`` give a claim (R-CE-11)."""
    clean = claim_details_clean(form, details)
    _keys, variant_from, count_key = FORMS[form]
    variant = variant_from[1:] if variant_from.startswith("=") else clean[variant_from]
    standard = standard_in_force(form, variant, int(year))
    if standard is None:
        raise DomainError({"form": [f"{year}年度没有该形式的学分计量标准，请联系省财政厅。"]})
    credits = standard.credits * (clean[count_key] if count_key else 1)
    return credits.quantize(ONE_DECIMAL), standard.subject_kind


def details_rows(form: str, details: dict) -> list[tuple[str, str]]:
    """The details in words, for pages: ``[("会议天数", "2"), …]``."""
    rows = []
    for key in FORMS.get(form, ((),))[0]:
        value = details.get(key, "")
        rows.append((DETAIL_LABELS[key], CHOICES[key].get(value, value) if key in CHOICES else str(value)))
    return rows



# --- writes ------------------------------------------------------------------------------------

def _year(value) -> CEYear:
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = None
    policy = CEYear.objects.filter(pk=year).first() if year is not None and not isinstance(value, bool) else None
    if policy is None:
        raise DomainError({"year": ["请选择继续教育年度（如 2024）。"]})
    if policy.is_frozen:
        raise DomainError({"year": [frozen_refusal(policy.year)]})
    return policy


def _claim_input(person, year, form, details, attachments) -> tuple[CEYear, dict, Decimal, list]:
    """Every field checked, every problem at once."""
    errors: dict[str, list[str]] = {}
    policy = clean = credits = files = None
    try:
        policy = _year(year)
    except DomainError as exc:
        errors.update(exc.errors)
    try:
        clean = claim_details_clean(form, details)
        if policy is not None:
            credits, _kind = claim_propose(policy.year, form, clean)
    except DomainError as exc:
        errors.update(exc.errors)
    try:
        files = attachments_owned_by(person, attachments)
    except DomainError as exc:
        errors.update(exc.errors)
    if errors:
        raise DomainError(errors)
    return policy, clean, credits, files


def _collected_archive(person) -> Archive:
    archive = Archive.objects.filter(person=person).select_related("jurisdiction").first()
    if not collection_approved(archive):
        raise Conflict(NOT_COLLECTED)  # R-CE-12
    return archive


@transaction.atomic
def claim_open(*, person, year, form, details, attachments=None) -> CreditClaim:
    """Open a claim as a draft with the proposed credits (R-CE-11); refused before collection (R-CE-12)."""
    archive = _collected_archive(person)
    policy, clean, credits, files = _claim_input(person, year, form, details, attachments)
    claim = workflow_create(CreditClaim, applicant=person, archive=archive, jurisdiction=archive.jurisdiction,
                            year=policy, form=form, details=clean, proposed_credits=credits)
    claim.attachments.set(files)
    return claim


@transaction.atomic
def claim_update(*, claim: CreditClaim, by, year=None, form=None, details=None, attachments=None) -> CreditClaim:
    """Edit a draft or returned claim (what is not given stays); the proposal is recomputed."""
    claim = CreditClaim.objects.select_for_update().get(pk=claim.pk)
    if by.pk != claim.applicant_id or claim.status not in ("draft", "returned"):
        raise Conflict("只有草稿或已退回的学分登记申请可以修改。")
    form = claim.form if form is None else form
    policy, clean, credits, files = _claim_input(
        by, claim.year_id if year is None else year, form, claim.details if details is None else details,
        list(claim.attachments.values_list("pk", flat=True)) if attachments is None else attachments)
    claim.year, claim.form, claim.details, claim.proposed_credits = policy, form, clean, credits
    claim.save(update_fields=["year", "form", "details", "proposed_credits", "updated_at"])
    claim.attachments.set(files)
    record_event(claim, "claim.updated", by=by, extra={"year": policy.year, "form": form})
    return claim


def parse_credits(value) -> Decimal | None:
    """The bureau's credits: empty for the proposal, else a positive number with at most one decimal."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        credits = Decimal(str(value).strip())
    except InvalidOperation:
        credits = None
    if credits is None or not credits.is_finite() or credits <= 0 or credits >= 1000 \
            or credits != credits.quantize(ONE_DECIMAL):
        raise DomainError({"credits": ["登记学分应为大于0、小于1000的数，最多一位小数（如 60 或 60.5）。"]})
    return credits.quantize(ONE_DECIMAL)


def claim_transition(claim: CreditClaim, name: str, *, by, reason: str = "", credits=None) -> CreditClaim:
    """Move a claim (every door uses this). ``approve`` may carry the bureau's ``credits`` and their reason."""
    if name != "approve":
        return workflow_transition(claim, name, by=by, reason=reason)
    claim = workflow_transition(claim, name, by=by, reason=reason, data={"credits": credits}, notify=False)
    body = f"登记学分：{claim.approved_credits}。"
    if claim.adjust_reason:
        body += f"建议学分为{claim.proposed_credits}，调整原因：{claim.adjust_reason}"
    notification_send(user=claim.applicant, title=f"您的学分登记申请（{claim.number}）：已登记", body=body,
                      link=claim.applicant_url(), event="claim.approved")
    return claim


@workflow_effect(CreditClaim, "submit", phase="before")
def _claim_check_submit(claim: CreditClaim, **_) -> None:
    """Collected (R-CE-12), the year open (R-CE-13), evidence, valid details; the proposal refreshed."""
    archive = Archive.objects.get(pk=claim.archive_id)
    errors: dict[str, list[str]] = {}
    if not collection_approved(archive):
        errors["archive"] = [NOT_COLLECTED]
    try:
        policy = _year(claim.year_id)
        claim.proposed_credits, _kind = claim_propose(policy.year, claim.form, claim.details)
    except DomainError as exc:
        errors.update(exc.errors)
    if not claim.attachments.exists():
        errors["attachments"] = [
            "请上传证明材料（如成绩合格证明、会议通知和参会证明、课题结项证书、论文或著作的版权页）。"]
    if errors:
        raise DomainError(errors)
    claim.jurisdiction_id = archive.jurisdiction_id


@workflow_effect(CreditClaim, "approve", phase="before")
def _claim_decide_credits(claim: CreditClaim, *, reason, data, **_) -> None:
    """The credits to register: the proposal, or the bureau's own with a reason."""
    credits = parse_credits(data.get("credits"))
    if credits is not None and credits != claim.proposed_credits:
        if not reason:
            raise DomainError({"reason": ["登记学分与建议学分不同，请填写调整原因（将告知申请人）。"]})
        claim.approved_credits, claim.adjust_reason = credits, reason[:200]
    else:
        claim.approved_credits, claim.adjust_reason = claim.proposed_credits, ""


@workflow_effect(CreditClaim, "approve")
def _claim_register(claim: CreditClaim, *, by, **_) -> None:
    """One ledger entry of the claim's year (R-CE-11); the ledger refuses R-CE-12, R-CE-13, a repeat."""
    _credits, subject_kind = claim_propose(claim.year_id, claim.form, claim.details)
    entry = credit_register(
        archive=claim.archive, year=claim.year_id, subject_kind=subject_kind, form=claim.form,
        credits=claim.approved_credits, source_type=SourceType.CLAIM, source_id=str(claim.pk),
        source_label=f"学分登记申请 {claim.number}：{claim.get_form_display()}", by=by,
        evidence=claim.attachments.order_by("pk").first())
    claim.entry = entry
    claim.save(update_fields=["entry", "updated_at"])
