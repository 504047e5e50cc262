"""Admin of accounts (管理后台 → 账号与属地), the security administrator's desk (三权分立).

- 工作人员账号 and 会计人员账号 are two lists (proxy models): staff and accountants are never mixed,
  and an accountant's user name — their ID number — is shown masked everywhere (list, search, detail;
  the search box does not echo a typed number, kjzx.admin.MaskedSearchMixin).
- Accounts are created by ``create_staff`` (which prints the TOTP secret) and by registration, never
  here; they are switched off, not deleted (audit rows point at them). Every change here is an audit row.
- 重置动态口令 (a lost device) is an action on either list: audited, it also ends the person's sessions
  and API tokens (accounts.otp.otp_reset); the person binds a new app at the next login.
- The OTP devices themselves are not in the admin (they hold the secrets), nor Django's groups and
  per-user permissions (rights come from the role alone, accounts.backends).
- django-axes' lists show the keyed hash of the login name only (accounts.lockout); deleting a lockout
  row lifts it, with an audit row.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts import otp
from accounts.models import (
    ROLE_REGION_LEVEL,
    AccountantAccount,
    AuthenticatorDevice,
    Region,
    Role,
    StaffAccount,
)
from accounts.services import sessions_end_all
from kjzx.admin import MaskedSearchMixin
from kjzx.audit import record_event, register_event_labels
from kjzx.http import client_ip

register_event_labels({
    "account.admin_changed": "管理后台修改账号",
    "account.password_set_by_admin": "管理员重设密码",
})

# The secrets of the second factor and Django's own permission machinery stay out of the admin.
for model in (Group, TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    ordering = ("code",)

    def has_delete_permission(self, request, obj=None):
        return False  # the tree is shipped data; archives point at it


class AccountAdminBase(MaskedSearchMixin, admin.ModelAdmin):
    """What both account lists share: the second factor's state and reset, audited changes."""

    actions = ["reset_second_factor"]
    ordering = ("-date_joined",)
    list_per_page = 50

    def get_queryset(self, request):
        bound = AuthenticatorDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).select_related("region__parent").annotate(otp_bound=Exists(bound))

    @admin.display(description=_("动态口令"), boolean=True, ordering="otp_bound")
    def otp_state(self, obj):
        return bool(getattr(obj, "otp_bound", False))

    def has_add_permission(self, request):
        return False  # create_staff (prints the TOTP secret) and registration make accounts

    def has_delete_permission(self, request, obj=None):
        return False  # switch an account off instead: its audit history points at it

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.pk == request.user.pk:
            return False  # nobody edits their own role or state here
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if form.changed_data:
                record_event(obj, "account.admin_changed", by=request.user, ip=client_ip(request),
                             extra={"fields": sorted(form.changed_data)})
            if "is_active" in form.changed_data and not obj.is_active:
                sessions_end_all(obj)
                AuthToken.objects.filter(user=obj).delete()

    @admin.action(description=_("重置动态口令（设备丢失，下次登录时重新绑定）"))
    def reset_second_factor(self, request, queryset):
        if not self.has_change_permission(request):
            raise PermissionDenied
        done = 0
        for user in queryset.exclude(pk=request.user.pk):
            otp.otp_reset(user=user, by=request.user, ip=client_ip(request))
            done += 1
        self.message_user(request, _("已重置 %(n)d 个账号的动态口令；其登录和接口令牌已失效，下次登录时须重新绑定。")
                          % {"n": done}, messages.SUCCESS)


class StaffAccountForm(forms.ModelForm):
    class Meta:
        model = StaffAccount
        fields = ["name", "role", "region", "organisation", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "role" in self.fields:
            self.fields["role"].choices = [(str(role), role.label) for role in Role
                                           if role in ROLE_REGION_LEVEL or role == Role.EXCHANGE_CLIENT]

    def clean(self):
        data = super().clean()
        role, region = data.get("role"), data.get("region")
        levels = ROLE_REGION_LEVEL.get(role)
        if levels and (region is None or region.level not in levels):
            labels = "、".join(str(Region.Level(level).label) for level in sorted(levels))
            self.add_error("region", _("%(role)s的属地应为%(levels)s级。")
                           % {"role": Role(role).label, "levels": labels})
        return data


@admin.register(StaffAccount)
class StaffAccountAdmin(AccountAdminBase, BaseUserAdmin):
    """工作人员账号: reviewers, institutions, employers, the administrators, the platform's client."""

    form = StaffAccountForm
    list_display = ("username", "name", "role", "region", "otp_state", "is_active", "last_login")
    list_filter = ("role", "is_active", "region__level")
    search_fields = ("username", "name")
    fieldsets = (
        (None, {"fields": ("username", "name", "organisation")}),
        (_("角色与属地"), {"fields": ("role", "region", "is_active")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("username", "last_login", "date_joined")
    autocomplete_fields = ("region",)
    filter_horizontal = ()

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(role=Role.ACCOUNTANT)

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = self.form  # not UserAdmin's forms: no password hash, groups or permissions here
        return admin.ModelAdmin.get_form(self, request, obj, **kwargs)

    def user_change_password(self, request, id, form_url=""):
        """A staff member's new password (staff have no SMS reset): their sessions and tokens end."""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, unquote(id))
                sessions_end_all(user)
                AuthToken.objects.filter(user=user).delete()
                record_event(user, "account.password_set_by_admin", by=request.user, ip=client_ip(request))
        return response


@admin.register(AccountantAccount)
class AccountantAccountAdmin(AccountAdminBase):
    """会计人员账号: masked user names; the security administrator may switch one off or reset its device."""

    list_display = ("masked_username", "name", "otp_state", "is_active", "date_joined", "last_login")
    list_filter = ("is_active",)
    search_fields = ("=id_number", "=name")  # the number through its keyed hash (kjzx.fields)
    search_help_text = _("按完整证件号码或姓名精确查找（列表中证件号码脱敏显示）。")
    fields = ("masked_username", "name", "is_active", "last_login", "date_joined")
    readonly_fields = ("masked_username", "name", "last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(role=Role.ACCOUNTANT)

    @admin.display(description=_("用户名（证件号码，脱敏）"))
    def masked_username(self, obj):
        return obj.masked_id_number


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(MaskedSearchMixin, AxesAccessAttemptAdmin):
    """登录失败与锁定 (django-axes): keyed by the hash of the login name; deleting a row lifts the lockout."""

    readonly_fields = [*AxesAccessAttemptAdmin.readonly_fields]

    def delete_model(self, request, obj):
        with transaction.atomic():
            record_event(None, "account.unlocked", by=request.user, ip=client_ip(request),
                         extra={"attempts": obj.failures_since_start})
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            record_event(None, "account.unlocked", by=request.user, ip=client_ip(request),
                         extra={"rows": queryset.count()})
            super().delete_queryset(request, queryset)


# --- API tokens (django-rest-knox), under Chinese column names ---------------------------------

if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)

# knox names nothing for translation (its section reads "Knox", its model "auth token"): name both here. Set
# on the options only, not the Meta that migrations read (Options.original_attrs), so knox gets no migration.
django_apps.get_app_config("knox").verbose_name = "接口令牌"
AuthToken._meta.verbose_name = AuthToken._meta.verbose_name_plural = "接口令牌"


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    """接口令牌: who holds one and until when, never the token; deleting a row revokes it at once."""

    list_display = ("token_prefix", "holder", "issued_at", "expires_at")
    list_select_related = ("user",)
    search_fields = ("token_key",)
    search_help_text = _("按令牌前缀查找。")
    ordering = ("-created",)
    fields = ("token_prefix", "holder", "issued_at", "expires_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # tokens come from POST /api/v1/auth/token/ and create_exchange_token, shown once

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("令牌前缀"), ordering="token_key")
    def token_prefix(self, obj):
        return obj.token_key

    @admin.display(description=_("持有人"), ordering="user__username")
    def holder(self, obj):
        return str(obj.user)  # an accountant's ID number masked (User.__str__)

    @admin.display(description=_("签发时间"), ordering="created")
    def issued_at(self, obj):
        return obj.created

    @admin.display(description=_("到期时间"), ordering="expiry")
    def expires_at(self, obj):
        return obj.expiry or _("不过期")

