"""Account pages: register, log in and out, change and reset the password, the personal centre."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordResetConfirmForm,
    PasswordResetRequestForm,
    RegistrationForm,
    apply_domain_errors,
)
from accounts.models import Role
from accounts.otp import otp_required
from accounts.validators import normalise_login_name
from accounts.views_otp import login_pending_start
from kjzx import crypto
from kjzx.api import DomainError
from kjzx.http import RegistrationThrottle, client_ip
from kjzx.middleware import session_renew

REGISTRATION_THROTTLED = _("注册请求过于频繁，请稍后再试。如已注册，请直接登录或使用“找回密码”。")


@require_http_methods(["GET", "POST"])
def register(request):
    """实名注册 (R-COL-2, R-COL-3)."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and not RegistrationThrottle().allow_request(request, None):
        form.is_valid()  # what was typed stays in the form
        form.add_error(None, REGISTRATION_THROTTLED)
        return render(request, "accounts/register.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.account_register(
                id_type=data["id_type"], id_number=data["id_number"], name=data["name"], sex=data.get("sex") or "",
                birth_date=data.get("birth_date"), mobile=data["mobile"], password=data["password"],
                ip=client_ip(request),
            )
        except DomainError as exc:
            apply_domain_errors(form, exc.errors)
        else:
            login(request, user, backend="accounts.backends.RoleBackend")
            messages.success(request, _("注册成功。请先完成“我的信息—信息采集”。"))
            return redirect("accounts:home")
    return render(request, "accounts/register.html", {"form": form})


def landing_url(user) -> str:
    """Where a login without ``?next=`` lands: reviewers on their workbench (审核工作台), training institutions
    on theirs, each with their counts (待办, 今日到期, 逾期) at the top; everyone else on the personal centre."""
    if getattr(user, "is_reviewer", False):
        return reverse("accounts:workbench")
    if getattr(user, "role", None) == Role.INSTITUTION:
        return reverse("institution_home")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True
    landing_user = None  # who is logging in, before the second factor logs them in

    def get_default_redirect_url(self):
        return landing_url(self.landing_user or self.request.user)

    def form_valid(self, form):
        """Staff (and accountants who bound a device) give the code before anyone is logged in."""
        user = self.landing_user = form.get_user()
        if otp_required(user):
            return login_pending_start(self.request, user, next_url=self.get_success_url())
        return super().form_valid(form)


@login_required
def home(request):
    """个人中心: the accountant's menus, or the staff member's workbench entry points."""
    if not request.user.is_accountant:
        return render(request, "accounts/home_staff.html")
    from records.services import collection_current  # the home page gathers what each app has for the person

    return render(request, "accounts/home_accountant.html", {"collection": collection_current(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.password_change(user=request.user, old_password=form.cleaned_data["old_password"],
                                            new_password=form.cleaned_data["new_password"],
                                            ip=client_ip(request))
        except DomainError as exc:
            apply_domain_errors(form, exc.errors)
        else:
            update_session_auth_hash(request, user)
            session_renew(request, at=user.sessions_valid_after)  # this session stays; the others have ended
            messages.success(request, _("密码已修改，其他设备上的登录已退出。"))
            return redirect("accounts:home")
    return render(request, "accounts/password_change.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_reset(request):
    """找回密码, step 1: ID number and registered mobile → an SMS code (same answer either way)."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(id_number=form.cleaned_data["id_number"],
                                        mobile=form.cleaned_data["mobile"], ip=client_ip(request))
        messages.info(request, _("如证件号码与注册手机号码一致，验证码已发送至该手机，10分钟内有效。"))
        # sealed: sessions are kept in Redis and the database, where no number is stored in clear
        request.session["reset_id_number"] = crypto.session_seal(normalise_login_name(form.cleaned_data["id_number"]),
                                                                 purpose="reset_id_number")
        request.session["reset_mobile"] = crypto.session_seal(form.cleaned_data["mobile"], purpose="reset_mobile")
        return redirect("accounts:password_reset_confirm")
    return render(request, "accounts/password_reset.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request):
    """找回密码, step 2: the code and the new password."""
    initial = {"id_number": crypto.session_open(request.session.get("reset_id_number"), purpose="reset_id_number"),
               "mobile": crypto.session_open(request.session.get("reset_mobile"), purpose="reset_mobile")}
    form = PasswordResetConfirmForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.password_reset_confirm(id_number=data["id_number"], mobile=data["mobile"], code=data["code"],
                                            new_password=data["new_password"], ip=client_ip(request))
        except DomainError as exc:
            apply_domain_errors(form, exc.errors)
        else:
            request.session.pop("reset_id_number", None)
            request.session.pop("reset_mobile", None)
            messages.success(request, _("密码已重置，请使用新密码登录。"))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})
