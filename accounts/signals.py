"""Login, logout, failed logins and lockouts go to the audit history (等保 8.1.4.3)."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.otp import otp_required
from accounts.services import sessions_end_all
from kjzx.audit import record_event
from kjzx.http import client_ip
from kjzx.middleware import OTP_REQUIRED, session_start


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_start(request)  # the 12 hours start now (kjzx.middleware)
        request.session[OTP_REQUIRED] = otp_required(user)  # read by SecondFactorMiddleware
    record_event(user, "account.login", by=user, ip=client_ip(request) if request else None)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        sessions_end_all(user)  # logging out here ends the user's sessions everywhere (docs/security.md)
        record_event(user, "account.logout", by=user, ip=client_ip(request) if request else None)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    if credentials.get("second_factor"):
        return  # a wrong code: accounts.otp wrote account.otp_failed on the account already
    # The username typed is not stored: it may be someone's ID number (no PII in the audit rows).
    record_event(None, "account.login_failed", ip=client_ip(request) if request else None)


@receiver(user_locked_out)
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    record_event(None, "account.locked_out", ip=ip_address)
