"""Training institutions' pages (继续教育培训机构), R-CE-9, R-CE-14. Thin: role gate → selector → form → service.

- The institution account (role 培训机构): ``/institution/`` its institutions, filing status, teacher
  pool, plans, reports and evaluations; ``/institution/filing/`` 申请备案 (or re-apply after a return or
  a revocation: ``?institution=<pk>``); ``/institution/teachers/`` 师资库; ``/institution/reports/new/``
  an online institution's year plan or report; ``/institution/trainings/new/`` a face-to-face
  training's plan. Another account's institution is a 404.
- The bureau: ``/workbench/filings/<pk>/`` (``workbench_filing``) one filing with the exactly
  available transitions (准予备案, 退回, 撤销备案); ``/workbench/institutions/`` (``workbench_institutions``)
  the region's institutions, what is missing or late, the yearly evaluation. Outside the region: 404.
- Anyone: ``/institutions/`` (``public_institutions``) the filed institutions.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import reviewer_required, role_required
from cpe.institutions import selectors, services
from cpe.models import InstitutionFiling, InstitutionKind, ReportKind, SubjectKind, Teacher
from kjzx.api import DomainError
from kjzx.workflow import history_rows
from kjzx.workflow_views import WorkflowPage

institution_required = role_required(Role.INSTITUTION)
PUBLIC_PAGE_SIZE = 30


# --- forms (types only; the rules are in cpe.institutions.services) ------------------------------------------

class InstitutionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("机构名称"), max_length=100)
    credit_code = forms.CharField(label=gettext_lazy("统一社会信用代码"), max_length=18, min_length=18,
                                  help_text=gettext_lazy("18位，见营业执照或登记证书。"))
    kind = forms.ChoiceField(label=gettext_lazy("培训形式"), choices=InstitutionKind.choices,
                             widget=forms.RadioSelect)
    address = forms.CharField(label=gettext_lazy("地址"), max_length=200)
    contact = forms.CharField(label=gettext_lazy("联系方式"), max_length=100,
                              help_text=gettext_lazy("联系人及电话。"))


class TeacherForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    title = forms.CharField(label=gettext_lazy("职称"), max_length=50)
    field = forms.CharField(label=gettext_lazy("研究领域"), max_length=100)
    cv = forms.CharField(label=gettext_lazy("简历"), max_length=2000, required=False,
                         widget=forms.Textarea(attrs={"rows": 5}), help_text=gettext_lazy("不超过2000字。"))


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("报送类别"), choices=ReportKind.choices, widget=forms.RadioSelect)
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    content = forms.CharField(label=gettext_lazy("内容"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8}),
                              help_text=gettext_lazy("年初：培训方案、内容；年末：本年度继续教育整体情况。"))
    courses = forms.CharField(label=gettext_lazy("课程清单"), max_length=20000, required=False,
                              widget=forms.Textarea(attrs={"rows": 5}))


class TrainingForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("培训名称"), max_length=200)
    starts_on = forms.DateField(label=gettext_lazy("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    hours_per_day = forms.DecimalField(label=gettext_lazy("每日学时"), max_digits=4, decimal_places=1,
                                       help_text=gettext_lazy("每学时45分钟；每日上限见当年度面授培训学分计量标准。"))
    subject_kind = forms.ChoiceField(label=gettext_lazy("科目类别"), choices=SubjectKind.choices)
    venue = forms.CharField(label=gettext_lazy("培训地点"), max_length=200)
    teachers = forms.ModelMultipleChoiceField(label=gettext_lazy("授课教师"), queryset=Teacher.objects.none(),
                                              widget=forms.CheckboxSelectMultiple,
                                              help_text=gettext_lazy("从本机构师资库中选择。"))
    capacity = forms.IntegerField(label=gettext_lazy("计划人数"), min_value=1, max_value=100000)

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teachers"].queryset = institution.teachers.all()


class EvaluationForm(forms.Form):
    score = forms.IntegerField(label=gettext_lazy("评分（0–100）"), min_value=0, max_value=100)
    comment = forms.CharField(label=gettext_lazy("评价意见"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


def _apply_errors(form: forms.Form, exc: DomainError) -> None:
    for key, found in exc.errors.items():
        for message in found:
            form.add_error(key if key in form.fields else None, message)


def _chosen(request):
    """The institution a page works on: ``?institution=<pk>`` (own only, else 404) or the first one."""
    pk = request.POST.get("institution") or request.GET.get("institution")
    if pk:
        return selectors.owned_institution_get(request.user, pk)
    return selectors.owned_institutions(request.user).order_by("created_at", "id").first()


def _no_institution(request):
    messages.info(request, _("您还没有登记培训机构，请先申请备案。"))
    return redirect("institution_filing")


# --- the institution's pages -------------------------------------------------------------------------

@institution_required
@require_GET
def institution_home(request):
    """培训机构首页: each institution, its filing status, teacher pool, plans, reports, evaluations (R-CE-14)."""
    institutions = selectors.institution_home(request.user)
    for inst in institutions:
        filings = list(inst.filings.all())
        inst.filing = filings[0] if filings else None
        inst.can_reapply = inst.filing is None or inst.filing.status in ("returned", "revoked", "draft")
        inst.does_online = inst.kind in selectors.ONLINE_KINDS
        inst.does_face_to_face = inst.kind in selectors.FACE_TO_FACE_KINDS
    return render(request, "cpe/institutions/home.html", {"institutions": institutions})


@institution_required
@require_http_methods(["GET", "POST"])
def filing_apply(request):
    """申请备案 (new) or 重新提交 (``?institution=<pk>`` after a return or revocation), R-CE-14."""
    pk = request.POST.get("institution") or request.GET.get("institution")
    institution = selectors.owned_institution_get(request.user, pk) if pk else None
    filing = selectors.latest_filing(institution) if institution else None
    if request.method == "POST":
        form = InstitutionForm(request.POST)
        if form.is_valid():
            try:
                filing = services.filing_apply(user=request.user, data=form.cleaned_data, institution=institution)
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("备案申请已提交（%(number)s），请等待财政部门审核。") % {
                    "number": filing.number})
                return redirect("institution_home")
    else:
        initial = {key: getattr(institution, key) for key in services.INSTITUTION_FIELDS} if institution else {}
        form = InstitutionForm(initial=initial)
    return render(request, "cpe/institutions/filing_form.html", {
        "form": form, "institution": institution, "filing": filing,
        "history": history_rows(filing) if filing else []}, status=400 if form.errors else 200)


@institution_required
@require_http_methods(["GET", "POST"])
def teacher_list(request):
    """师资库: the pool and the form to add a teacher (R-CE-14)."""
    institution = _chosen(request)
    if institution is None:
        return _no_institution(request)
    form = TeacherForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.teacher_save(user=request.user, institution=institution, data=form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已加入师资库。"))
            return redirect(f"{request.path}?institution={institution.pk}")
    return render(request, "cpe/institutions/teachers.html", {
        "institution": institution, "teachers": list(institution.teachers.all()), "form": form},
        status=400 if form.errors else 200)


@institution_required
@require_http_methods(["GET", "POST"])
def teacher_edit(request, pk: int):
    teacher = selectors.teacher_get(request.user, pk)
    if request.method == "POST":
        form = TeacherForm(request.POST)
        if form.is_valid():
            try:
                services.teacher_save(user=request.user, institution=teacher.institution, data=form.cleaned_data,
                                 teacher=teacher)
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("师资信息已保存。"))
                return redirect(f"/institution/teachers/?institution={teacher.institution_id}")
    else:
        form = TeacherForm(initial={key: getattr(teacher, key) for key in ("name", "title", "field", "cv")})
    return render(request, "cpe/institutions/teacher_form.html", {
        "institution": teacher.institution, "teacher": teacher, "form": form}, status=400 if form.errors else 200)


@institution_required
@require_POST
def teacher_delete(request, pk: int):
    teacher = selectors.teacher_get(request.user, pk)
    institution_id = teacher.institution_id
    try:
        services.teacher_delete(user=request.user, teacher=teacher)
    except DomainError as exc:
        for found in exc.errors.values():
            for message in found:
                messages.error(request, message)
    else:
        messages.success(request, _("已从师资库删除。"))
    return redirect(f"/institution/teachers/?institution={institution_id}")


@institution_required
@require_http_methods(["GET", "POST"])
def report_new(request):
    """网络培训机构：年初报送年度方案，年末报送年度整体情况 (R-CE-14)."""
    institution = _chosen(request)
    if institution is None:
        return _no_institution(request)
    today = timezone.localdate()
    form = ReportForm(request.POST or None, initial={
        "year": today.year, "kind": ReportKind.ANNUAL_REPORT if today.month == 12 else ReportKind.ANNUAL_PLAN})
    if request.method == "POST" and form.is_valid():
        try:
            report = services.report_submit(user=request.user, institution=institution, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已报送：%(report)s。") % {"report": report})
            return redirect("institution_home")
    return render(request, "cpe/institutions/report_form.html", {
        "institution": institution, "form": form, "not_filed": services.NOT_FILED if not institution.filed else ""},
        status=400 if form.errors else 200)


@institution_required
@require_http_methods(["GET", "POST"])
def training_new(request):
    """面授培训机构：每期培训开始前报送培训方案 (R-CE-9, R-CE-14)."""
    institution = _chosen(request)
    if institution is None:
        return _no_institution(request)
    form = TrainingForm(request.POST or None, institution=institution)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.training_file(user=request.user, institution=institution, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            if plan.filed_late:
                messages.warning(request, _("培训方案已报送，但报送时培训已开始，将标记为“逾期报送”。"))
            else:
                messages.success(request, _("培训方案已报送：%(plan)s。") % {"plan": plan})
            return redirect("institution_home")
    return render(request, "cpe/institutions/training_form.html", {
        "institution": institution, "form": form, "not_filed": services.NOT_FILED if not institution.filed else "",
        "standard": selectors.face_to_face_standard(timezone.localdate().year)}, status=400 if form.errors else 200)


# --- the bureau's pages ------------------------------------------------------------------------------

class FilingPage(WorkflowPage):
    """培训机构备案申请 as the bureau of its region sees it, through the one HTML door (R-CE-14; elsewhere
    404, R-ACL-1): 准予备案, 退回 and 撤销备案 (each with its reason)."""

    model = InstitutionFiling
    selector = staticmethod(lambda model, user, pk: selectors.filing_get_for_reviewer(user, pk))
    template_name = "cpe/institutions/workbench_filing.html"
    route = "workbench_filing"
    success_route = None  # a filing stays on its page: 撤销备案 may follow later

    def extra_context(self, obj) -> dict:
        return {"institution": obj.institution, "teachers": list(obj.institution.teachers.all()),
                "attachments": list(obj.attachments.all())}


def _year(request) -> int:
    try:
        return max(2000, min(2100, int(request.GET.get("year") or request.POST.get("year") or "")))
    except ValueError:
        return timezone.localdate().year


@reviewer_required
@require_GET
def workbench_institutions(request):
    """培训机构管理: the region's institutions, filing status, what is missing or late, the evaluation."""
    year = _year(request)
    rows = selectors.institution_overview(request.user, year)
    return render(request, "cpe/institutions/workbench_overview.html", {
        "rows": rows, "year": year, "years": range(timezone.localdate().year, 2017, -1),
        "form": EvaluationForm()})


@reviewer_required
@require_POST
def workbench_institution_evaluate(request, pk: int):
    """综合评价: once per institution and year (R-CE-14)."""
    institution = selectors.institution_get_for_reviewer(request.user, pk)
    year = _year(request)
    form = EvaluationForm(request.POST)
    if form.is_valid():
        try:
            services.evaluation_create(user=request.user, institution=institution, year=year, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
    if form.errors:
        for found in form.errors.values():
            for message in found:
                messages.error(request, f"{institution.name}：{message}")
    else:
        messages.success(request, _("已评价：%(name)s %(year)s年度。") % {"name": institution.name, "year": year})
    return redirect(f"/workbench/institutions/?year={year}")


# --- public ------------------------------------------------------------------------------------------

@require_GET
def public_institutions(request):
    """已备案的继续教育培训机构名单: no login, filed ones only, searchable by name (R-CE-14)."""
    query = request.GET.get("q", "").strip()[:50]
    page = Paginator(selectors.public_institutions(query), PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cpe/institutions/public_list.html", {"page": page, "query": query})
