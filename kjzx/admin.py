"""Admin of the shared app (管理后台, /manage/)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from kjzx.models import AuditEvent, CalendarDay, CalendarYear, ExamRegistrationPeriod, Notice, StepDeadline
from kjzx.workdays import calendar_year_save, library_knows

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


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "is_working_day", "name", "note"]
    list_filter = [CalendarDayYearFilter, "is_working_day"]
    search_fields = ["name", "note"]
    ordering = ["date"]
    list_per_page = 100

    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "confirmed", "source", "confirmed_by", "confirmed_at"]
    list_filter = ["confirmed"]
    fields = ["year", "confirmed", "source", "confirmed_by", "confirmed_at"]

    def get_readonly_fields(self, request, obj=None):
        # The year is the key: changing it would silently create another row.
        return ["year", "confirmed_by", "confirmed_at"] if obj else ["confirmed_by", "confirmed_at"]

    def save_model(self, request, obj, form, change):
        calendar_year_save(calendar_year=obj, by=request.user)
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


class ReadOnlyAdmin(admin.ModelAdmin):
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
class StepDeadlineAdmin(admin.ModelAdmin):
    """Review periods are policy the province edits (R-COL-5, R-CHG-3, R-TRF-2); the steps themselves are code."""

    list_display = ["label", "key", "working_days", "remind_days_before", "updated_at"]
    readonly_fields = ["key", "label", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExamRegistrationPeriod)
class ExamRegistrationPeriodAdmin(admin.ModelAdmin):
    """Each year's exam registration dates (R-TRF-5): reminders start earlier and escalation comes sooner."""

    list_display = ["name", "starts_on", "ends_on", "remind_days_before", "escalate_days_before"]
    date_hierarchy = "starts_on"
