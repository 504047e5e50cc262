"""Forms of the second factor (accounts.otp): they parse the code; the checks live in accounts.otp."""

from django import forms
from django.utils.translation import gettext_lazy as _


class OtpCodeForm(forms.Form):
    """A code from the authenticator app (or, at login, a recovery code)."""

    code = forms.CharField(
        label=_("动态口令"), max_length=24, strip=True,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True,
                                      "spellcheck": "false", "autocapitalize": "off"}),
        error_messages={"required": _("请输入身份验证器App上显示的6位数字。")},
    )

    def __init__(self, *args, recovery: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = (
            _("打开手机上的身份验证器App，输入“会计之星”显示的6位数字（每30秒更新）。手机丢失时，可输入一个恢复码。")
            if recovery else _("打开手机上的身份验证器App，输入“会计之星”显示的6位数字（每30秒更新）。"))
