"""Input of the employers' pages: the people list's filters, and provincial staff's account forms. No rules here:
the codes are checked by :func:`employers.services.credit_codes_clean`, the account by ``staff_create``."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Region
from employers.selectors import CeFilter


class PeopleFilterForm(forms.Form):
    """``?year=&ce=&credit_code=`` of the employer's list, its export and its "remind all"."""

    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False)
    ce = forms.ChoiceField(label=_("继续教育"), required=False,
                           choices=[("", _("全部人员")), *CeFilter.CHOICES])
    credit_code = forms.ChoiceField(label=_("单位"), required=False)

    def __init__(self, data, *, years: list[int], codes: list[str]):
        super().__init__(data)
        self.fields["year"].choices = [(year, f"{year}年度") for year in years]
        self.fields["credit_code"].choices = [("", _("全部单位")), *((code, code) for code in codes)]
        self.codes = codes
        self.has_several_codes = len(codes) > 1

    def value(self, name: str):
        """The cleaned value, or "" for a missing or wrong one (the page says so and shows everything)."""
        self.is_valid()
        return self.cleaned_data.get(name) or ""


def split_codes(text: str) -> list[str]:
    """Codes as people paste them: one a line, or separated by commas, semicolons or spaces."""
    return [part for part in re.split(r"[\s,，;；、]+", text or "") if part]


CODES_HELP = _("每行一个18位统一社会信用代码；可填写多个单位。")


class EmployerCreateForm(forms.Form):
    """新建用人单位管理员 (provincial staff)."""

    username = forms.CharField(label=_("登录名"), max_length=64)
    name = forms.CharField(label=_("单位名称及联系人"), max_length=50, required=False,
                           help_text=_("如：晋城市城区人民医院 财务科 王主任"))
    region = forms.ModelChoiceField(label=_("所在属地"), queryset=Region.objects.select_related("parent"),
                                    help_text=_("单位所在的县（市、区）、市直或省直。"))
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput(render_value=False), strip=False,
                               help_text=_("至少8位，含大写字母、小写字母、数字、符号中的三类；请当面或电话告知本人。"))
    credit_codes = forms.CharField(label=_("所辖单位统一社会信用代码"), widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text=CODES_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].label_from_instance = lambda region: f"{region.code} {region.jurisdiction_label}"


class EmployerUnitsForm(forms.Form):
    """变更所辖单位 of one administrator (provincial staff)."""

    credit_codes = forms.CharField(label=_("所辖单位统一社会信用代码"), widget=forms.Textarea(attrs={"rows": 4}),
                                   help_text=CODES_HELP)
