"""The employers' pages (用人单位), thin: filters → selectors → template, workbook or service.

Employer administrators (anyone else 403), each reading only their own people (:mod:`employers.selectors`;
anyone else's person is a 404):

- ``/employer/`` (``employer_people``): the people with this year's CE progress (``?year=``), what each
  still lacks, collection, change and transfer status; 20 a page, a fixed number of queries; one card
  per person on a phone. ``/employer/people.xlsx``: the same rows (every page) in Excel.
- ``/employer/people/<id>/``: one person, with their changes, transfers and the reminders sent.
- ``POST /employer/people/<id>/remind/`` and ``POST /employer/remind/``: a reminder to one person / to
  everyone behind (单位提醒), refusals as a message.

Provincial staff: ``/employers/manage/`` lists the employer administrators, ``…/new/`` makes one (its
TOTP secret shown once, as ``create_staff`` prints it), ``…/<id>/`` changes its units.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import otp
from accounts.models import Role
from accounts.permissions import province_staff_required, role_required
from employers import exports, selectors, services
from employers.forms import EmployerCreateForm, EmployerUnitsForm, PeopleFilterForm, split_codes
from kjzx.api import DomainError

employer_required = role_required(Role.EMPLOYER)
PAGE_SIZE = 20
EXPORT_BATCH = 500


def _filters(request, data) -> tuple[PeopleFilterForm, object]:
    """The filter form and the CE year it names (this year by default; a wrong one is said, then defaulted)."""
    form = PeopleFilterForm(data, years=selectors.ce_years(), codes=selectors.employer_codes(request.user))
    policy = selectors.ce_year_for(form.value("year"))
    if data.get("year") and not form.value("year") and policy is not None:
        messages.error(request, f"没有该年度的继续教育安排，已显示{policy.year}年度。")
    return form, policy


def _people(request, form, policy):
    return selectors.people_list(request.user, policy, ce=form.value("ce"), credit_code=form.value("credit_code"))


@employer_required
@require_GET
def people(request):
    """本单位会计人员: who names the employer's units, and where each stands this year."""
    form, policy = _filters(request, request.GET)
    codes = form.codes
    if policy is None:
        return render(request, "employers/people.html", {"form": form, "policy": None, "rows": [], "codes": codes})
    page = Paginator(_people(request, form, policy), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "employers/people.html", {
        "form": form, "policy": policy, "page": page, "rows": selectors.person_rows(page.object_list, policy),
        "codes": codes})


@employer_required
@require_GET
def people_export(request):
    """The filtered list as Excel, every page, in batches of bounded memory; the export is audited."""
    form, policy = _filters(request, request.GET)
    if policy is None:
        return redirect("employer_people")
    people = _people(request, form, policy)
    rows = []
    for start in range(0, people.count(), EXPORT_BATCH):
        rows.extend(selectors.person_rows(people[start:start + EXPORT_BATCH], policy))
    services.people_export_record(employer=request.user, policy=policy, count=len(rows))
    response = HttpResponse(exports.people_xlsx(rows, policy.year), content_type=exports.XLSX)
    name = f"本单位会计人员-{policy.year}年度-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"
    return response


@employer_required
@require_GET
def person_detail(request, pk: int):
    """One person: this year's figures, collection, changes, transfers and the reminders sent."""
    _form, policy = _filters(request, request.GET)
    if policy is None:
        return redirect("employer_people")
    row = selectors.person_get(request.user, pk, policy)
    return render(request, "employers/person.html", {
        "row": row, "policy": policy, "history": selectors.person_history(row.archive, request.user),
        "years": selectors.ce_years()})


def _back(request, pk: int | None = None):
    """Back where the button was, with the year and filters kept (only our own parameters)."""
    keep = {key: request.POST[key] for key in ("year", "ce", "credit_code", "page") if request.POST.get(key)}
    url = reverse("employer_person", kwargs={"pk": pk}) if pk else reverse("employer_people")
    return redirect(f"{url}?{urlencode(keep)}" if keep else url)


@employer_required
@require_POST
def person_remind(request, pk: int):
    """提醒: one reminder to a person behind on the year (at most one a day); a refusal is a message."""
    _form, policy = _filters(request, request.POST)
    if policy is not None:
        try:
            services.reminder_send(employer=request.user, archive_id=pk, policy=policy)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已发送提醒，对方将在“消息”中收到，并可点击查看本人继续教育情况。")
    return _back(request, pk if request.POST.get("from") == "person" else None)


@employer_required
@require_POST
def remind_behind(request):
    """提醒全部未完成人员 (of the chosen unit, if one is chosen): everyone behind and not reminded today."""
    form, policy = _filters(request, request.POST)
    if policy is not None:
        try:
            sent = services.reminders_send_behind(employer=request.user, policy=policy,
                                                  credit_code=form.value("credit_code"))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if sent:
                messages.success(request, f"已向{sent}名未完成{policy.year}年度继续教育的人员发送提醒。")
            else:
                messages.warning(request, "没有需要提醒的人员：未完成的人员今天都已提醒过，或尚未登录平台。")
    return _back(request)


# --- provincial staff: the employer administrators -------------------------------------------------

@province_staff_required
@require_GET
def manage(request):
    """用人单位管理员: every employer administrator and the units each oversees."""
    page = Paginator(selectors.employer_accounts(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "employers/manage.html", {"page": page})


@province_staff_required
@require_http_methods(["GET", "POST"])
def manage_new(request):
    """新建用人单位管理员: the account, its units, and its TOTP secret shown this once."""
    form = EmployerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.employer_account_create(
                username=data["username"].strip(), password=data["password"], name=data["name"].strip(),
                region_code=data["region"].code, credit_codes=split_codes(data["credit_codes"]), by=request.user)
        except DomainError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            device = otp.totp_device(user)
            return render(request, "employers/manage_created.html", {
                "employer": user, "codes": selectors.employer_codes(user), "secret": otp.totp_secret(device),
                "qr": otp.totp_qr_data_uri(device)})
    return render(request, "employers/manage_new.html", {"form": form})


@province_staff_required
@require_http_methods(["GET", "POST"])
def manage_units(request, pk: int):
    """变更所辖单位 of one employer administrator."""
    employer = selectors.employer_account_get(pk)
    initial = {"credit_codes": "\n".join(unit.credit_code for unit in employer.employer_units.all())}
    form = EmployerUnitsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.employer_units_set(employer=employer, credit_codes=split_codes(form.cleaned_data["credit_codes"]),
                                        by=request.user)
        except DomainError as exc:
            for error in exc.errors.get("credit_codes", []) + exc.errors.get("detail", []):
                form.add_error("credit_codes", error)
        else:
            messages.success(request, f"已更新 {employer.username} 的所辖单位。")
            return redirect("employers_manage")
    return render(request, "employers/manage_units.html", {"employer": employer, "form": form})
