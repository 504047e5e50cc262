"""HTML forms of the transfer pages (档案调出申请), R-TRF-1, R-TRF-3.

They parse input into :func:`transfers.services.transfer_open`'s arguments; the rules (a destination
other than the current one, a connected province — "暂缓办理" otherwise —, the unit, the proof) are
the services'. Their answer comes back beside these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from records.forms import jurisdiction_choices
from transfers.models import SHANXI, Province, TransferType

OPENED_BY_PERSON = (TransferType.INTRA, TransferType.OUTBOUND)
NOT_CONNECTED_MARK = _("（暂缓办理）")


def destination_region_choices(current: str | None) -> list:
    """The Shanxi jurisdictions grouped by city (as on the collection page), without the current one."""
    choices: list = [("", _("请选择调入地"))]
    for value, label in jurisdiction_choices()[1:]:
        options = [(code, name) for code, name in label if code != current]
        if options:
            choices.append((value, options))
    return choices


def province_choices(provinces) -> list:
    """Every other province; one not on the national platform is marked "暂缓办理" (R-TRF-3)."""
    choices: list = [("", _("请选择调入省份"))]
    for province in provinces:
        if province.code != SHANXI:
            mark = "" if province.connected else NOT_CONNECTED_MARK
            choices.append((province.code, f"{province.name}{mark}"))
    return choices


class ProvinceSelect(forms.Select):
    """A select whose unconnected provinces are shown but cannot be picked (the service refuses them too)."""

    def __init__(self, *args, disabled_values=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values = set(disabled_values)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class TransferForm(forms.Form):
    """The person's transfer request: the type, where to, the unit (R-TRF-1, R-TRF-3)."""

    type = forms.ChoiceField(
        label=_("调转类型"), widget=forms.RadioSelect, initial=TransferType.INTRA,
        choices=[(TransferType.INTRA, _("省内调转（调往山西省内其他市、县）")),
                 (TransferType.OUTBOUND, _("跨省调出（调往外省）"))],
        error_messages={"required": _("请选择调转类型。"), "invalid_choice": _("请选择调转类型。")})
    to_region = forms.ChoiceField(
        label=_("调入地（省内调转）"), required=False,
        help_text=_("省直单位选“省直”，市直单位选“××市市直”，其他选所在县（市、区）。"))
    to_province = forms.ChoiceField(
        label=_("调入省份（跨省调出）"), required=False,
        help_text=_("标注“暂缓办理”的省份尚未与全国会计人员管理服务平台对接，暂不能调往该省。"))
    to_unit = forms.CharField(
        label=_("调入单位"), max_length=200, required=False,
        help_text=_("填写调入单位全称；在校学生填写“无”。"))

    def __init__(self, *args, current_region: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        provinces = list(Province.objects.order_by("code"))
        self.fields["to_region"].choices = destination_region_choices(current_region)
        self.fields["to_province"].choices = province_choices(provinces)
        self.fields["to_province"].widget = ProvinceSelect(
            choices=self.fields["to_province"].choices,
            disabled_values=[p.code for p in provinces if not p.connected])
        self.fields["type"].summary_label = _("调转类型")

    def to_data(self) -> dict[str, Any]:
        """transfer_open's keywords: only the destination of the chosen type."""
        data = self.cleaned_data
        type_ = data.get("type") or ""
        return {
            "type": type_,
            "to_region": (data.get("to_region") or None) if type_ == TransferType.INTRA else None,
            "to_province": (data.get("to_province") or None) if type_ == TransferType.OUTBOUND else None,
            "to_unit": data.get("to_unit") or "",
        }
