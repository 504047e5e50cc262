"""HTML forms of accounts: they parse input; the rules live in accounts.services."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import IdType, Sex
from accounts.validators import normalise_login_name

PASSWORD_HELP = _("至少8位，包含大写字母、小写字母、数字、符号中的至少3类；不能使用姓名拼音、出生日期、"
                  "证件号码片段、网站或单位名称、键盘序列（如qwer、1qaz）或常见密码。")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RegistrationForm(forms.Form):
    """实名注册 (R-COL-2): the fields of API.md's register call, plus the password twice."""

    name = forms.CharField(label=_("真实姓名"), max_length=50,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("证件号码"), max_length=30,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    # A resident ID carries both (R-COL-3): left empty, they are read from the number (accounts.services);
    # static/js/register.js hides them for a resident ID. Other documents need them.
    sex = forms.ChoiceField(label=_("性别"), choices=Sex.choices, widget=forms.RadioSelect, required=False,
                            help_text=_("居民身份证（含港澳台居民居住证）可不填，按证件号码自动识别。"))
    birth_date = forms.DateField(label=_("出生日期"), widget=DateInput(), required=False,
                                 help_text=_("居民身份证（含港澳台居民居住证）可不填，按证件号码自动识别。"),
                                 error_messages={"invalid": _("请输入有效日期，如 1990-01-31。")})
    mobile = forms.CharField(label=_("手机号码"), max_length=11,
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}))
    password = forms.CharField(label=_("登录密码"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=PASSWORD_HELP)
    password2 = forms.CharField(label=_("确认密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    # templates/accounts/register.html draws this label with links to both texts (accounts:agreement, accounts:privacy)
    agree = forms.BooleanField(label=_("我已阅读并同意《用户服务协议》和《个人信息保护声明》，"
                                       "同意为办理会计人员管理事项处理本人身份证件信息等敏感个人信息"),
                               error_messages={"required": _("请阅读并同意用户服务协议和个人信息保护声明。")})

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class LoginForm(AuthenticationForm):
    """登录: accountants use their ID number, staff their user name."""

    username = forms.CharField(label=_("证件号码/用户名"), max_length=64,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label=_("密码"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    error_messages = {
        "invalid_login": _("证件号码/用户名或密码不正确。连续输错5次，账号将被锁定30分钟。"),
        "inactive": _("该账号已停用，请联系属地财政部门。"),
    }

    def clean_username(self):
        return normalise_login_name(self.cleaned_data["username"])


class NewPasswordForm(forms.Form):
    """A new password typed twice."""

    new_password = forms.CharField(label=_("新密码"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                   help_text=PASSWORD_HELP)
    new_password2 = forms.CharField(label=_("确认新密码"), strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password2") and data["new_password"] != data["new_password2"]:
            self.add_error("new_password2", _("两次输入的密码不一致。"))
        return data


class PasswordChangeForm(NewPasswordForm):
    field_order = ["old_password", "new_password", "new_password2"]
    old_password = forms.CharField(label=_("原密码"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordResetRequestForm(forms.Form):
    id_number = forms.CharField(label=_("证件号码"), max_length=30)
    mobile = forms.CharField(label=_("注册手机号码"), max_length=11,
                             widget=forms.TextInput(attrs={"inputmode": "numeric"}))


class PasswordResetConfirmForm(NewPasswordForm, PasswordResetRequestForm):
    field_order = ["id_number", "mobile", "code", "new_password", "new_password2"]
    code = forms.CharField(label=_("短信验证码"), max_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))


def apply_domain_errors(form: forms.Form, errors: dict[str, list[str]]) -> None:
    """Put a service's field errors beside the form's fields (unknown fields go to the top)."""
    for field, messages in errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
