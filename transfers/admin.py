"""Admin of transfers (/manage/transfers/): the exchange policy provincial staff keep, transfers read only.

- 省份（跨省调转）: which provinces are on the national platform (R-TRF-3: an outbound transfer to one
  that is not is refused with "暂缓办理"). The provinces are GB/T 2260 data shipped by a migration: staff
  edit ``connected`` and ``note`` (also straight in the list), never add or delete a province.
- 跨省调转设置: the one row of the exchange policy, the days an uploaded outbound record waits for the
  destination province before it returns by itself (R-TRF-3, API.md §2).
- 档案调转: read only. A transfer moves only through its workflow (pages, API, the exchange), so that every
  step is checked, scoped and audited. Lists show the person's name and masked ID number, never the raw one.

Every edit here writes an audit event (who, what changed), like any other policy change.
"""

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from accounts.models import mask_id_number
from kjzx.admin import PolicyHelpMixin, ReadOnlyAdmin
from kjzx.audit import record_event, register_event_labels
from transfers.models import ExchangePolicy, Province, Transfer, TransferType

register_event_labels({
    "province.updated": "修改省份接入全国平台状态",
    "exchange_policy.updated": "修改跨省调转设置",
})


def _audit(request, obj, event_type: str, form) -> None:
    if form.changed_data:
        record_event(obj, event_type, by=request.user,
                     extra={field: form.cleaned_data[field] for field in form.changed_data})


@admin.register(Province)
class ProvinceAdmin(PolicyHelpMixin, admin.ModelAdmin):
    """Which provinces are connected to the national platform (R-TRF-3)."""

    help_texts = {
        "connected": _("取消勾选后，新提出的调往该省的跨省调转申请将被告知“暂缓办理”；勾选后恢复受理。"),
        "note": _("告知申请人的说明，如“该省尚未接入全国会计人员管理服务平台”。"),
    }

    list_display = ["code", "name", "connected", "note", "updated_at"]
    list_editable = ["connected", "note"]
    list_filter = ["connected"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "connected", "note", "updated_at"]
    readonly_fields = ["code", "name", "updated_at"]
    list_per_page = 50  # all 30 provinces on one page

    def has_add_permission(self, request):
        return False  # GB/T 2260 codes: shipped by a migration

    def has_delete_permission(self, request, obj=None):
        return False  # transfers point at the codes

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit(request, obj, "province.updated", form)


class ExchangePolicyForm(forms.ModelForm):
    class Meta:
        model = ExchangePolicy
        fields = ["outbound_timeout_days"]

    def clean_outbound_timeout_days(self):
        days = self.cleaned_data["outbound_timeout_days"]
        if not 1 <= days <= 365:
            raise forms.ValidationError(_("接收期限应为 1 至 365 天。"))
        return days


@admin.register(ExchangePolicy)
class ExchangePolicyAdmin(admin.ModelAdmin):
    """The one row of the exchange policy: the outbound answer period (R-TRF-3)."""

    form = ExchangePolicyForm
    list_display = ["__str__", "outbound_timeout_days", "updated_at"]
    fields = ["outbound_timeout_days", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        ExchangePolicy.current()  # the one row always exists (seeded by a migration)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit(request, obj, "exchange_policy.updated", form)


def _province_name(field: str) -> Subquery:
    return Subquery(Province.objects.filter(code=OuterRef(field)).values("name")[:1])


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    """Transfers, read only: they move only through their workflow (R-TRF-1…4)."""

    list_display = ["number", "type", "status_label", "person", "origin", "destination", "submitted_at",
                    "due_date"]
    list_filter = ["type", "status", "submitted_at"]
    search_fields = ["=transfer_no", "=archive__name", "=person_id_number"]
    search_help_text = _("按调转编号、全国平台编号、姓名或完整证件号码精确查找。")
    list_select_related = ["archive", "applicant", "from_region__parent", "to_region__parent",
                           "jurisdiction__parent"]
    date_hierarchy = "submitted_at"
    ordering = ["-created_at"]
    fields = ["number", "type", "status_label", "person", "applicant_label", "origin", "destination", "to_unit",
              "transfer_no", "jurisdiction", "submitted_at", "accepted_at", "uploaded_at", "due_date", "decided_at",
              "reason", "created_at", "updated_at"]
    readonly_fields = list(fields)  # the raw ID number and the person record (with it) are not shown

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(from_province_name=_province_name("from_province"),
                                                      to_province_name=_province_name("to_province"))

    def get_search_results(self, request, queryset, search_term):
        pk = Transfer.pk_from_number(search_term)  # DZ2026-000012, as people quote it
        if pk is not None:
            return queryset.filter(pk=pk), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("编号"), ordering="pk")
    def number(self, obj):
        return obj.number

    @admin.display(description=_("状态"), ordering="status")
    def status_label(self, obj):
        return obj.status_display

    @admin.display(description=_("调转人员"))
    def person(self, obj):
        return f"{obj.person_name}（{mask_id_number(obj.person_id_number)}）"

    @admin.display(description=_("申请人账号"))
    def applicant_label(self, obj):
        if not obj.applicant_id:
            return _("尚未认领")
        return f"{obj.applicant.name}（{obj.applicant.masked_id_number or obj.applicant.username}）"

    @admin.display(description=_("调出地"))
    def origin(self, obj):
        if obj.type == TransferType.INBOUND:
            return obj.from_province_name or obj.from_province
        return obj.from_region.jurisdiction_label if obj.from_region_id else ""

    @admin.display(description=_("调入地"))
    def destination(self, obj):
        if obj.type == TransferType.OUTBOUND:
            return obj.to_province_name or obj.to_province
        return obj.to_region.jurisdiction_label if obj.to_region_id else ""
