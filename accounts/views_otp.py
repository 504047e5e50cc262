"""The second factor's pages: the code step of the login, enrolment by QR code, 个人中心 → 账号安全.

The login (accounts.views.LoginView) checks the password; for a person who must pass the second
factor (accounts.otp.otp_required) it logs nobody in yet, it remembers who passed the password for
``OTP_PENDING_MINUTES`` and sends them here. Only the right code logs them in (Django's ``login``,
so the session key is new, the 12 hours start, axes' counter resets), with the device verified for
the session. A wrong code counts as a failed login (the lockout) and django-otp delays the next try.
A staff member with no device (new, or reset after a loss) enrols one here, by QR code, during that
login; someone with a device cannot replace it with the password alone.
"""

from __future__ import annotations

import time

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import otp
from accounts.forms_otp import OtpCodeForm
from accounts.lockout import login_failure_count, login_is_locked
from accounts.models import AuthenticatorDevice, User
from kjzx.http import client_ip
from kjzx.middleware import OTP_REQUIRED, session_renew

PENDING_USER, PENDING_BACKEND = "_kjzx_pending_user", "_kjzx_pending_backend"
PENDING_AT, PENDING_NEXT = "_kjzx_pending_at", "_kjzx_pending_next"
DEFAULT_BACKEND = "accounts.backends.RoleBackend"
WRONG_CODE = _("动态口令不正确或已使用过，请输入App上最新显示的6位数字。连续错误5次，账号将被锁定30分钟。")
WRONG_FIRST_CODE = _("动态口令不正确：请确认已扫描上方二维码（或输入了密钥），再输入App上最新显示的6位数字。")


def login_pending_start(request, user: User, *, next_url: str = ""):
    """The password step is done: remember who, for a few minutes, and ask for the code."""
    backend = getattr(user, "backend", None) or request.session.get(BACKEND_SESSION_KEY) or DEFAULT_BACKEND
    request.session.flush()  # a new key; and a session that was logged in without the code ends here
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_BACKEND] = backend
    request.session[PENDING_AT] = int(time.time())
    safe = url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    request.session[PENDING_NEXT] = next_url if next_url and safe else settings.LOGIN_REDIRECT_URL
    return redirect("accounts:otp_verify" if otp.otp_enrolled(user) else "accounts:otp_setup")


def _pending_user(request) -> User | None:
    started = request.session.get(PENDING_AT)
    if not isinstance(started, int) or time.time() - started > settings.OTP_PENDING_MINUTES * 60:
        return None
    return User.objects.filter(pk=request.session.get(PENDING_USER), is_active=True).first()


def _pending_clear(request) -> None:
    for key in (PENDING_USER, PENDING_BACKEND, PENDING_AT, PENDING_NEXT):
        request.session.pop(key, None)


def _login_again(request):
    _pending_clear(request)
    messages.info(request, _("登录已超时，请重新输入用户名和密码。"))
    return redirect("accounts:login")


def _locked(request):
    _pending_clear(request)
    return render(request, "accounts/locked_out.html", status=429)


def _complete_login(request, user: User, device):
    """Log in with the verified device: a new session key, the 12 hours start now."""
    next_url = request.session.get(PENDING_NEXT) or settings.LOGIN_REDIRECT_URL
    backend = request.session.get(PENDING_BACKEND) or DEFAULT_BACKEND
    login(request, user, backend=backend)
    _pending_clear(request)
    django_otp.login(request, device)
    request.session[OTP_REQUIRED] = True
    return next_url


@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """登录第二步: the 6-digit code (or a recovery code)."""
    user = _pending_user(request)
    if user is None:
        return _login_again(request)
    if not otp.otp_enrolled(user):
        return redirect("accounts:otp_setup")
    form = OtpCodeForm(request.POST or None, recovery=True)
    if request.method == "POST" and form.is_valid():
        if login_is_locked(request, user.username):
            return _locked(request)
        device = otp.second_factor_verify(user=user, code=form.cleaned_data["code"], ip=client_ip(request))
        if device is None:
            if login_failure_count(request, user.username):
                return _locked(request)
            form.add_error("code", WRONG_CODE)
        else:
            next_url = _complete_login(request, user, device)
            if not isinstance(device, AuthenticatorDevice):
                messages.warning(request, _("您使用了一个恢复码（每个只能用一次），还剩%(n)d个。请尽快在“账号安全”中"
                                            "重新生成恢复码；如手机丢失，请联系安全管理员重置动态口令。")
                                 % {"n": otp.recovery_codes_left(user)})
            return redirect(next_url)
    return render(request, "accounts/otp_verify.html", {"form": form, "pending_user": user})


@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """登录第二步（首次）: bind an authenticator app by QR code; its first code logs the person in."""
    user = _pending_user(request)
    if user is None:
        return _login_again(request)
    if otp.otp_enrolled(user):  # a device is replaced only by someone who passed it, or after a reset
        return redirect("accounts:otp_verify")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if login_is_locked(request, user.username):
            return _locked(request)
        codes = otp.enrolment_confirm(user=user, code=form.cleaned_data["code"], ip=client_ip(request))
        if codes is None:
            if login_failure_count(request, user.username):
                return _locked(request)
            form.add_error("code", WRONG_FIRST_CODE)
        else:
            next_url = _complete_login(request, user, otp.totp_device(user))
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next_url": next_url})
    return render(request, "accounts/otp_setup.html", _setup_context(user, form, during_login=True))


def _setup_context(user: User, form, *, during_login: bool) -> dict:
    device = otp.enrolment_device(user)
    return {"form": form, "qr": otp.totp_qr_data_uri(device), "secret": otp.totp_secret(device),
            "during_login": during_login, "mandatory": otp.otp_mandatory(user)}


# --- 个人中心 → 账号安全 ----------------------------------------------------------------------------

@login_required
def security(request):
    """账号安全: the second factor's state, recovery codes, and for accountants the optional binding."""
    user = request.user
    return render(request, "accounts/security.html", {
        "enrolled": otp.otp_enrolled(user), "mandatory": otp.otp_mandatory(user),
        "codes_left": otp.recovery_codes_left(user), "form": OtpCodeForm(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def security_enrol(request):
    """绑定动态口令 from 个人中心 (an accountant's choice; staff are bound at their first login)."""
    user = request.user
    if otp.otp_enrolled(user):
        return redirect("accounts:security")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = otp.enrolment_confirm(user=user, code=form.cleaned_data["code"], ip=client_ip(request))
        if codes is None:
            form.add_error("code", WRONG_FIRST_CODE)
        else:
            session_renew(request)  # a new key at each privilege change (ASVS 7.2.4)
            django_otp.login(request, otp.totp_device(user))
            request.session[OTP_REQUIRED] = True
            return render(request, "accounts/recovery_codes.html",
                          {"codes": codes, "next_url": reverse("accounts:security"), "enrolled_now": True})
    return render(request, "accounts/otp_setup.html", _setup_context(user, form, during_login=False))


@login_required
@require_POST
def security_recovery_codes(request):
    """重新生成恢复码, against a current code: the old ones stop working."""
    form = OtpCodeForm(request.POST)
    codes = None
    if form.is_valid():
        codes = otp.recovery_codes_regenerate(user=request.user, code=form.cleaned_data["code"],
                                              ip=client_ip(request))
    if codes is None:
        messages.error(request, WRONG_CODE)
        return redirect("accounts:security")
    return render(request, "accounts/recovery_codes.html",
                  {"codes": codes, "next_url": reverse("accounts:security")})


@login_required
@require_POST
def security_remove(request):
    """解除动态口令: accountants only (for staff it is mandatory), against a current code."""
    if otp.otp_mandatory(request.user):
        raise PermissionDenied
    form = OtpCodeForm(request.POST)
    if form.is_valid() and otp.otp_remove(user=request.user, code=form.cleaned_data["code"], ip=client_ip(request)):
        request.session[OTP_REQUIRED] = False
        messages.success(request, _("已解除动态口令。今后登录只需密码；您可以随时重新绑定。"))
    else:
        messages.error(request, WRONG_CODE)
    return redirect("accounts:security")
