"""Response hardening and session limits that apply to every page.

Sessions (docs/security.md, items 22–25): each session records when its user logged in, from when it
is valid and when it was last renewed. It ends, at its next request and whatever the session backend,
30 minutes after its last renewal (idle), 12 hours after login however busy, or when the user has
since logged out elsewhere or changed the password (``User.sessions_valid_after``). A request does not
write its session (``SESSION_SAVE_EVERY_REQUEST`` is off): the idle timer is renewed, and the session
saved, only when its last renewal is ``SESSION_TOUCH_SECONDS`` (a minute) old or more.
"""

from __future__ import annotations

import datetime as dt

from csp.constants import SELF
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext as _

LOGIN_AT = "_kjzx_login_at"  # when the user typed the password: the 12-hour clock starts here
VALID_FROM = "_kjzx_valid_from"  # when this session was last confirmed: login, own password change, 2nd factor
SEEN = "_kjzx_seen"  # when the idle timer was last renewed (at most once a minute): the 30 idle minutes count from here
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> int:
    """Microseconds since 1970, exact (a session holds JSON; floats would round the comparison)."""
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def session_start(request, *, at: dt.datetime | None = None) -> None:
    """At login (accounts.signals): the session's 12 hours and its validity start now."""
    request.session[LOGIN_AT] = request.session[VALID_FROM] = request.session[SEEN] = _stamp(at or timezone.now())


def session_renew(request, *, at: dt.datetime | None = None) -> None:
    """A new session key, valid from ``at``, with the login time kept.

    Called after one's own password change (which ends every other session at ``at``) and, once staff
    have a second factor, after the code is verified (ASVS 7.2.4: a new key at each privilege change).
    """
    request.session.cycle_key()
    request.session[VALID_FROM] = _stamp(at or timezone.now())


def session_end_reason(request, user) -> str | None:
    """Why this authenticated session must end now, or None."""
    login_at, valid_from = request.session.get(LOGIN_AT), request.session.get(VALID_FROM)
    if not isinstance(login_at, int) or not isinstance(valid_from, int):
        return _("登录状态已失效，请重新登录。")  # a session not begun by a login: fail closed
    now = _stamp(timezone.now())
    if now - login_at > settings.SESSION_ABSOLUTE_HOURS * 3_600_000_000:
        return _("登录已超过%(hours)d小时，请重新登录。") % {"hours": settings.SESSION_ABSOLUTE_HOURS}
    seen = request.session.get(SEEN)  # absent only in a session begun before this stamp existed: renewed below
    if isinstance(seen, int) and now - seen > settings.SESSION_COOKIE_AGE * 1_000_000:
        return _("长时间未操作，登录已失效，请重新登录。")
    if user.sessions_valid_after is not None and valid_from < _stamp(user.sessions_valid_after):
        return _("您已在其他地方退出登录或修改了密码，请重新登录。")
    return None


def session_touch(request) -> bool:
    """Renew the idle timer of a stored session if its last renewal is a minute old or more.

    Setting the stamp marks the session modified, so SessionMiddleware saves it (a new expiry of
    ``SESSION_COOKIE_AGE`` in the table and the cache); otherwise nothing is written. A visitor
    without a stored session gets none. Returns whether the session will be saved.
    """
    session = request.session
    seen = session.get(SEEN)  # loads the session: an expired or unknown key leaves session_key None
    if session.session_key is None:
        return False
    now = _stamp(timezone.now())
    if isinstance(seen, int) and 0 <= now - seen < settings.SESSION_TOUCH_SECONDS * 1_000_000:
        return False
    session[SEEN] = now
    return True


class SessionLimitsMiddleware:
    """Ends a session idle for 30 minutes, past its 12 hours, or revoked by logout or a password change
    (等保 8.1.4.1 b, ASVS 7.3.2, 7.4.3); renews the idle timer at most once a minute (``session_touch``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and SESSION_KEY in request.session:
            reason = session_end_reason(request, user)
            if reason:
                self._end(request, user, reason)
        if hasattr(request, "session"):
            session_touch(request)
        return self.get_response(request)

    @staticmethod
    def _end(request, user, reason: str) -> None:
        from kjzx.audit import record_event  # models are ready by the first request
        from kjzx.http import client_ip

        request.session.flush()
        request.user = AnonymousUser()
        record_event(user, "account.session_ended", reason=reason, ip=client_ip(request))
        if not request.path.startswith("/api/"):
            messages.info(request, reason, fail_silently=True)


OTP_REQUIRED = "_kjzx_otp_required"  # whether this session's user must pass the second factor (set at login)


def session_otp_required(request, user) -> bool:
    """Staff always; an accountant if they had enrolled a device when this session began (or since)."""
    from accounts import otp

    if otp.otp_mandatory(user):
        return True
    if OTP_REQUIRED not in request.session:
        request.session[OTP_REQUIRED] = otp.otp_enrolled(user)
    return bool(request.session[OTP_REQUIRED])


def _open_api(path: str) -> bool:
    """An API door open to anyone (the token call, registration, the schema, certificate checks)."""
    from django.urls import Resolver404, resolve
    from rest_framework.permissions import AllowAny

    try:
        match = resolve(path)
    except Resolver404:
        return False
    view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    return any(permission is AllowAny for permission in getattr(view, "permission_classes", None) or [])


class SecondFactorMiddleware:
    """A password alone opens no page and no endpoint for staff (security item 16, ASVS 6.3.3).

    The login asks for the code before it logs anyone in (accounts.views), so an authenticated session
    without a verified second factor comes only from a device reset while logged in, or from outside
    the login. Such a session ends here: a page answers with a redirect to the code step (the password
    step counts as done); ``/api/`` answers 401 ``{"detail", "code": "otp_required"}``, unless the
    request carries its own ``Authorization`` (a token is only issued after the code: it decides).
    """

    EXEMPT_PREFIXES = ("/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.path.startswith(self.EXEMPT_PREFIXES)
                and not user.is_verified() and session_otp_required(request, user)):
            response = self._refuse(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    @staticmethod
    def _refuse(request, user):
        from django.http import JsonResponse

        from accounts.views_otp import login_pending_start

        if request.path.startswith("/api/"):
            if request.META.get("HTTP_AUTHORIZATION") or _open_api(request.path_info):
                request.user = AnonymousUser()  # the session does not count; a token or an open door may
                return None
            return JsonResponse({"detail": _("请先完成动态口令验证。"), "code": "otp_required"}, status=401,
                                json_dumps_params={"ensure_ascii": False})
        return login_pending_start(request, user, next_url=request.get_full_path())


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY) on every HTML response (item 28).

    Files are left to their views (scans carry ``sandbox``; a PDF must open in the browser's viewer).
    A page a view marks framable by the portal (``xframe_options_sameorigin``) gets ``frame-ancestors
    'self'`` instead of ``'none'``, so the two headers never disagree.
    """

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if response.get("X-Frame-Options", "").upper() == "SAMEORIGIN":
            parts.replace = {**(parts.replace or {}), "frame-ancestors": [SELF]}
        return parts


class NoStoreForAuthenticatedMiddleware:
    """Authenticated responses must not be kept by the browser or a proxy (ASVS 14.3.2)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
