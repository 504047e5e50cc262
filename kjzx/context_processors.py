from django.conf import settings

from kjzx.workdays import calendar_gaps


def _unread(request) -> int:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    from kjzx.notifications import unread_count

    return unread_count(user=user)


def portal(request):
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PORTAL_SYSTEM_NAME": settings.PORTAL_SYSTEM_NAME,
        "calendar_gaps": _calendar_gaps_for(request),
        "exam_period": lambda: _exam_period_for(request),  # called only where the banner is drawn
        # A callable: the template calls it only where the count is shown (one indexed COUNT).
        "unread_notifications": lambda: _unread(request),
    }


def _calendar_gaps_for(request) -> list[int]:
    """Years missing from the working-day calendar, for provincial staff and the system administrator,
    who enters them (R-DL-1, 三权分立).

    Everyone else gets an empty list without a query; staff pay at most one small query, and
    none while the library knows every year in the horizon.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "role", "") not in ("province_staff",
                                                                                       "system_admin"):
        return []
    return calendar_gaps()


def _exam_period_for(request):
    """The exam registration period under way, for reviewers only (R-TRF-5); one small query for them."""
    from accounts.models import REVIEWER_ROLES
    from kjzx.models import ExamRegistrationPeriod

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "role", "") not in REVIEWER_ROLES:
        return None
    from django.utils import timezone

    return ExamRegistrationPeriod.active_on(timezone.localdate())
