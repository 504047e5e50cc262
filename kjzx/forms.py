"""Input of the shared app's pages: 消息设置."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kjzx.models import NotificationPreference


class NotificationPreferenceForm(forms.Form):
    """Which channels besides 站内消息 (always on) a user wants."""

    email = forms.BooleanField(label=_("邮件通知"), required=False,
                               help_text=NotificationPreference._meta.get_field("email").help_text)
    sms = forms.BooleanField(label=_("短信通知"), required=False,
                             help_text=NotificationPreference._meta.get_field("sms").help_text)
