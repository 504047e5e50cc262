"""The queue's filters (POSTed, then in the URL but for the search term: workbench.views). A value outside
the choices is named and ignored, never widened (R-ACL-1)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Region
from workbench.selectors import QUEUE_MODELS, QueueFilters, queue_region_choices, queue_status_choices


def _region_label(region: Region) -> str:
    if region.level == Region.Level.COUNTY:
        return f"\u3000{region.full_name}"
    if region.level == Region.Level.CITY:
        return _("%(name)s（全市）") % {"name": region.name}
    return _("%(name)s（全省）") % {"name": region.name}


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类别"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    region = forms.ChoiceField(label=gettext_lazy("县区"), required=False)
    overdue = forms.BooleanField(label=gettext_lazy("仅看逾期"), required=False)
    q = forms.CharField(label=gettext_lazy("姓名/申请编号/证件号码或后4位以上"), required=False, max_length=50,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                      "placeholder": gettext_lazy("如 张伟、证件号码后4位 1018")}))

    def __init__(self, data, *, user):
        super().__init__(data)
        everything = [("", _("全部"))]
        self.fields["kind"].choices = everything + [(k, m.KIND_LABEL) for k, m in QUEUE_MODELS.items()]
        self.fields["status"].choices = everything + queue_status_choices()
        self.fields["region"].choices = everything + [(r.pk, _region_label(r)) for r in queue_region_choices(user)]

    @property
    def has_region_choice(self) -> bool:
        return len(self.fields["region"].choices) > 2  # a county reviewer has only their own county

    def queue_filters(self) -> QueueFilters:
        self.is_valid()
        data = self.cleaned_data
        return QueueFilters(kind=data.get("kind") or "", status=data.get("status") or "",
                            region=data.get("region") or "", overdue=bool(data.get("overdue")),
                            q=(data.get("q") or "").strip())
