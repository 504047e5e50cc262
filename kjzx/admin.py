"""Admin of the shared app (管理后台, /manage/); the site itself is kjzx/admin_site.py.

Who may open which list is the administrator's role (accounts.backends, 三权分立): the system
administrator keeps the calendar, review periods, exam periods and notices; the audit administrator
reads the audit history, which nobody changes here.
"""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import IS_FACETS_VAR, SEARCH_VAR, ChangeList
from django.db import transaction
from django.http import QueryDict
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from kjzx.audit import register_event_labels
from kjzx.calendar import (
    arrangement_parse,
    arrangement_text,
    calendar_day_save,
    calendar_days_delete,
    calendar_year_arrange,
    calendar_year_save,
)
from kjzx.http import client_ip
from kjzx.models import AuditEvent, CalendarDay, CalendarYear, ExamRegistrationPeriod, Notice, StepDeadline
from kjzx.workdays import library_knows

register_event_labels({"admin.denied": "管理后台拒绝访问"})

# --- Search without echoing an ID number (security item 46) ----------------------------------------

_NUMBER_LIKE = re.compile(r"[0-9A-Za-z]{8,}")


def mask_search_term(text: str) -> str:
    """A typed search with every ID-number-like token (8+ characters, 5+ digits) masked."""
    from accounts.models import mask_id_number

    return _NUMBER_LIKE.sub(lambda m: mask_id_number(m.group()) if sum(c.isdigit() for c in m.group()) >= 5
                            else m.group(), text or "")


class MaskedSearchChangeList(ChangeList):
    """Searches by the full number, but neither the search box nor the page's links repeat it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.query = mask_search_term(self.query)
        self.params.pop(SEARCH_VAR, None)  # sorting, facet and filter links start a new search
        self.filter_params.pop(SEARCH_VAR, None)
        self.remove_facet_link = self.get_query_string(remove=[IS_FACETS_VAR])
        self.add_facet_link = self.get_query_string({IS_FACETS_VAR: True})
        clear = QueryDict(self.clear_all_filters_qs.lstrip("?"), mutable=True)
        clear.pop(SEARCH_VAR, None)
        self.clear_all_filters_qs = f"?{clear.urlencode()}"


class MaskedSearchMixin:
    """For admins whose search takes ID numbers (accounts, archives, transfers, the ledger)."""

    def get_changelist(self, request, **kwargs):
        return MaskedSearchChangeList

    def get_preserved_filters(self, request):
        preserved = super().get_preserved_filters(request)
        if not preserved:
            return preserved
        inner = QueryDict(QueryDict(preserved).get("_changelist_filters", "")).copy()
        inner.pop(SEARCH_VAR, None)
        return urlencode({"_changelist_filters": inner.urlencode()}) if inner else ""


# --- Working-day calendar (工作日历), R-DL-1 ---------------------------------------------------


class CalendarDayYearFilter(admin.SimpleListFilter):
    """Filter the calendar by year, listing only the years that have rows."""

    title = _("年度")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(day.year), f"{day.year}年") for day in years]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(date__year=int(self.value()))
        return queryset


class PolicyHelpMixin:
    """Help texts that say what changing a number changes, set on the admin's form (not the model: no migration)."""

    help_texts: dict[str, str] = {}

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs.setdefault("help_texts", {**self.help_texts, **self.object_help_texts(obj)})
        return super().get_form(request, obj, change, **kwargs)

    def object_help_texts(self, obj) -> dict[str, str]:
        return {}


def _moved_message(admin_, request, moved: int) -> None:
    if moved:
        admin_.message_user(request, _("已按新的工作日历重新计算 %(n)d 件在办申请的办理期限，"
                                       "每件的办理记录中写明了调整原因。") % {"n": moved}, messages.INFO)


@admin.register(CalendarDay)
class CalendarDayAdmin(PolicyHelpMixin, admin.ModelAdmin):
    """One day of the calendar: a correction. Saving or deleting one recomputes the open due dates it moves
    (kjzx.calendar, R-DL-1); a whole year is entered on its 工作日历年度 page."""

    list_display = ["date", "weekday", "is_working_day", "name", "note"]
    list_filter = [CalendarDayYearFilter, "is_working_day"]
    search_fields = ["name", "note"]
    ordering = ["date"]
    list_per_page = 100
    help_texts = {
        "date": _("只需录入与“周一至周五上班、周六周日休息”不同的日子：工作日放假、周末调休上班。"),
        "is_working_day": _("勾选：该日上班（如调休上班的周末）；不勾选：该日放假。保存后，办理期限经过该日的在办申请"
                            "将自动重新计算，并在其办理记录中写明原因。"),
    }

    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        _moved_message(self, request, calendar_day_save(day=obj, by=request.user, ip=client_ip(request)))

    def delete_model(self, request, obj):
        _moved_message(self, request, calendar_days_delete(days=[obj], by=request.user, ip=client_ip(request)))

    def delete_queryset(self, request, queryset):
        _moved_message(self, request, calendar_days_delete(days=queryset, by=request.user, ip=client_ip(request)))


class CalendarYearForm(forms.ModelForm):
    """A year's confirmation with its whole arrangement in one box, parsed by kjzx.calendar (R-DL-1)."""

    arrangement = forms.CharField(
        label=_("放假与调休安排"), required=False, widget=forms.Textarea(attrs={"rows": 14, "cols": 60}),
        help_text=_("每行一项，照国务院办公厅通知录入：“2027-01-01 放假 元旦”“2027-02-15至2027-02-21 放假 春节”"
                    "“2027-02-07 上班 春节调休”。周末照常休息、工作日照常上班的日子不必写。保存后本年度的工作日历"
                    "即为此处所列（新增年度时留空，则保留已在“工作日历”中逐日录入的日期）；"
                    "办理期限经过这些日子的在办申请将自动重新计算。"))

    class Meta:
        model = CalendarYear
        fields = ["year", "confirmed", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["arrangement"].initial = arrangement_text(self.instance.year)

    def clean(self):
        data = super().clean()
        year = data.get("year") or self.instance.year
        if year:
            try:
                data["days"] = arrangement_parse(data.get("arrangement", ""), year)
            except ValueError as exc:
                self.add_error("arrangement", str(exc))
        return data


@admin.register(CalendarYear)
class CalendarYearAdmin(PolicyHelpMixin, admin.ModelAdmin):
    """A year's holiday arrangement entered at once, and its confirmation (已录入完毕), R-DL-1."""

    form = CalendarYearForm
    list_display = ["year", "confirmed", "source", "confirmed_by", "confirmed_at"]
    list_filter = ["confirmed"]
    fields = ["year", "arrangement", "confirmed", "source", "confirmed_by", "confirmed_at"]
    help_texts = {
        "confirmed": _("录入全年安排后勾选。勾选前，办理期限落在该年的申请“暂按周一至周五计算”，"
                       "审核人员和申请人都会看到这一提示；勾选后提示消失，并按本年度安排重新计算在办申请的办理期限。"),
    }

    def get_readonly_fields(self, request, obj=None):
        # The year is the key: changing it would silently create another row.
        return ["year", "confirmed_by", "confirmed_at"] if obj else ["confirmed_by", "confirmed_at"]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            moved = calendar_year_save(calendar_year=obj, by=request.user)[1]
            # a new year with an empty box keeps the days entered one by one on the 工作日历 page
            if "arrangement" in form.changed_data and (change or form.cleaned_data.get("arrangement", "").strip()):
                moved += calendar_year_arrange(year=obj.year, days=form.cleaned_data.get("days", []), by=request.user,
                                               ip=client_ip(request))
        _moved_message(self, request, moved)
        entered = CalendarDay.objects.filter(date__year=obj.year).exists()
        if obj.confirmed and not entered and not library_knows(obj.year):
            self.message_user(request, _("%(year)s年尚未录入任何放假或调休日期，请确认是否遗漏。")
                              % {"year": obj.year}, messages.WARNING)


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """通知公告 on the home page, published by provincial staff."""

    list_display = ("title", "issuer", "published_at", "is_published")
    list_filter = ("is_published",)
    search_fields = ("title", "body")
    date_hierarchy = "published_at"


class ReadOnlyAdmin(MaskedSearchMixin, admin.ModelAdmin):
    """What changes only through its service (audit, archives, applications) is read-only here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit history is read-only here: nobody edits or deletes it through the admin."""

    list_display = ("at", "event_type", "actor", "actor_role", "target_type", "target_id", "from_state", "to_state")
    list_filter = ("event_type", "actor_role")
    search_fields = ("target_id", "actor__username")
    date_hierarchy = "at"
    list_select_related = ("actor", "target_type")


@admin.register(StepDeadline)
class StepDeadlineAdmin(PolicyHelpMixin, admin.ModelAdmin):
    """Review periods are policy the province edits (R-COL-5, R-CHG-3, R-TRF-2); the steps themselves are code."""

    list_display = ["label", "key", "working_days", "remind_days_before", "updated_at"]
    readonly_fields = ["key", "label", "updated_at"]

    def object_help_texts(self, obj):
        step = obj.label if obj else _("该环节")
        return {
            "working_days": _("修改后，此后提交（开始）的“%(step)s”按此工作日数计算办理期限；已在办理中的申请不变，"
                              "仍按开始时的工作日数。可填 1 至 60。") % {"step": step},
            "remind_days_before": _("到期前第几个工作日起提醒本级审核人员；0 表示到期当天才提醒。"
                                    "逾期后报上级财政部门，不受此数影响。"),
        }

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExamRegistrationPeriod)
class ExamRegistrationPeriodAdmin(PolicyHelpMixin, admin.ModelAdmin):
    """Each year's exam registration dates (R-TRF-5): reminders start earlier and escalation comes sooner."""

    list_display = ["name", "starts_on", "ends_on", "remind_days_before", "escalate_days_before"]
    date_hierarchy = "starts_on"
    help_texts = {
        "starts_on": _("报名期间内，审核人员的页面顶部显示提示，提醒提前、报上级提前（见下两项）。"),
        "remind_days_before": _("报名期间，到期前第几个工作日起提醒审核人员（平时按“办理时限”中的设置）。"),
        "escalate_days_before": _("报名期间，到期前第几个工作日即抄送上级财政部门；0 表示逾期后再报。"),
    }
