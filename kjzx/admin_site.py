"""The admin site (管理后台, /manage/): only the three administrators, only after the second factor.

- Who: ``User.role`` in ADMIN_ROLES (系统管理员, 安全管理员, 审计管理员), with a verified second factor
  (django-otp's ``OTPAdminSite``); every other account, reviewers and provincial staff included, gets
  403. What each may see and do is :data:`accounts.backends.ADMIN_PERMISSIONS` (三权分立).
- Logging in is the portal's own two-step login (password, then the code): the site's login page
  sends there.
- Every refusal inside the site (a model the role may not open, a change or deletion it may not
  make) is an audit row ``admin.denied`` with who, what and from where (security promise 4, 9); every
  add, change and deletion an ``admin.added`` / ``admin.changed`` / ``admin.deleted`` row.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

# The index (/manage/) in the order provincial staff look for things: the policy they edit, grouped
# whatever app keeps it, first; then the portal's own sections; then login security and the audit trail,
# which include the libraries' lists (django-axes, knox) under Chinese names. Each role still sees only what
# accounts.backends grants it; a section it may open nothing in is not shown.
ADMIN_SECTIONS = (
    ("policy", _("政策参数"),
     _("工作日历、办理时限、考试报名期间、继续教育年度与学分标准、跨省调转设置：修改后按各项说明生效。"),
     ("kjzx.calendaryear", "kjzx.calendarday", "kjzx.stepdeadline", "kjzx.examregistrationperiod", "cpe.ceyear",
      "cpe.creditstandard", "transfers.province", "transfers.exchangepolicy")),
    ("security", _("登录与接口安全"), _("登录失败锁定的解除、接口令牌的吊销。"),
     ("axes.accessattempt", "knox.authtoken")),
    ("audit", _("审计"), _("全部操作的审计记录与登录失败日志，只读。"),
     ("kjzx.auditevent", "axes.accessfailurelog", "axes.accesslog")),
)
# The portal's apps, in this order, between the policy section and the security ones; anything else after.
PORTAL_APPS = ("records", "transfers", "cpe", "kjzx", "accounts")


class KjzxAdminSite(OTPAdminSite):
    site_header = _("会计之星 管理后台")
    site_title = _("会计之星 管理后台")
    index_title = _("系统管理")

    def __init__(self, name="admin"):
        super().__init__(name)

    def get_app_list(self, request, app_label=None):
        """The index and the side menu in :data:`ADMIN_SECTIONS` order; an app's own page stays the app."""
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        return admin_sections(app_list)

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin mirrors its adds, changes and deletions into the audit history (kjzx.audit_admin)."""
        from django.contrib.admin import ModelAdmin

        from kjzx.audit_admin import audited

        super().register(model_or_iterable, audited(admin_class or ModelAdmin), **options)

    def has_permission(self, request):
        from accounts.models import ADMIN_ROLES

        user = request.user
        return bool(user.is_active and user.is_authenticated and user.role in ADMIN_ROLES
                    and getattr(user, "is_verified", lambda: False)())

    def login(self, request, extra_context=None):
        """The portal's login (password, then the code); a logged-in non-administrator gets 403."""
        index = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(request.GET.get("next") or index)
            admin_denied(request)
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next") or index, reverse("accounts:login"))

    def admin_view(self, view, cacheable=False):
        def audited(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied:
                admin_denied(request)
                raise

        return super().admin_view(audited, cacheable)


def admin_denied(request) -> None:
    """One audit row for a refusal in the admin site: who, which address, what they tried."""
    from kjzx.audit import record_event
    from kjzx.http import client_ip

    user = request.user if request.user.is_authenticated else None
    record_event(None, "admin.denied", by=user, ip=client_ip(request),
                 extra={"path": request.path[:200], "method": request.method})


def admin_sections(app_list: list[dict]) -> list[dict]:
    """Regroup Django's per-app list (:meth:`AdminSite.get_app_list`) into :data:`ADMIN_SECTIONS`."""
    models = {f"{app['app_label']}.{model['object_name'].lower()}": (app, model)
              for app in app_list for model in app["models"]}
    taken: set[str] = set()

    def section(key, name, description, labels) -> dict | None:
        found = [models[label][1] for label in labels if label in models]
        taken.update(label for label in labels if label in models)
        return {"name": str(name), "app_label": key, "app_url": "", "has_module_perms": True, "models": found,
                "description": str(description)} if found else None

    policy, *tail = [section(*spec) for spec in ADMIN_SECTIONS]
    by_label = {app["app_label"]: app for app in app_list}
    ordered = [*(by_label[label] for label in PORTAL_APPS if label in by_label),
               *(app for app in app_list if app["app_label"] not in PORTAL_APPS)]
    rest = []
    for app in ordered:
        left = [m for m in app["models"] if f"{app['app_label']}.{m['object_name'].lower()}" not in taken]
        if left:
            rest.append({**app, "models": left})
    portal = [app for app in rest if app["app_label"] in PORTAL_APPS]
    others = [app for app in rest if app["app_label"] not in PORTAL_APPS]
    return [app for app in (policy, *portal, *tail, *others) if app]
