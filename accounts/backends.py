"""Who may do what in the admin site (管理后台): by the administrator's one role, nothing else (三权分立).

Django's ``ModelBackend`` grants permissions from groups, per-user permissions and the superuser flag;
here every right comes from :data:`ADMIN_PERMISSIONS` by ``User.role``, so no group, no ticked
permission and no superuser can give one account the rights of two roles (security promise 9;
等保 8.1.4.2 d, 8.1.5.1–8.1.5.3). Each ModelAdmin's ``has_*_permission`` asks ``user.has_perm`` and so
this table; a ModelAdmin may refuse more (read-only admins), never grant more.

- 系统管理员 (system administrator): the policy data — calendar, review periods, exam registration
  periods, notices, the CE policy, the exchange policy — and, read only and masked, the archives,
  applications and ledgers it may have to explain. Not the audit log, not accounts.
- 安全管理员 (security administrator): staff accounts and their roles, a lost device's reset, login
  lockouts and API tokens. Not the archives, not the policy, not the audit log.
- 审计管理员 (audit administrator): reads the audit log and the failed-login log. Changes nothing.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from accounts.models import Role

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
EDIT = (VIEW, ADD, CHANGE, DELETE)

ADMIN_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.SYSTEM_ADMIN: {
        "kjzx.calendarday": EDIT, "kjzx.calendaryear": EDIT, "kjzx.stepdeadline": EDIT,
        "kjzx.examregistrationperiod": EDIT, "kjzx.notice": EDIT,
        "cpe.ceyear": EDIT, "cpe.creditstandard": EDIT, "cpe.course": EDIT, "cpe.traininginstitution": EDIT,
        "cpe.learningpolicy": (VIEW, CHANGE),  # 网络学习计时规则: one row, changed only
        "cpe.certificateseal": (VIEW, ADD),  # the issuing bureau's seal: uploaded, never changed or deleted
        "transfers.province": EDIT, "transfers.exchangepolicy": EDIT,
        "accounts.region": (VIEW,),
        # Read only, ID numbers masked (their ModelAdmins refuse every write).
        "records.archive": (VIEW,), "records.collectionapplication": (VIEW,), "records.changerequest": (VIEW,),
        "records.attachment": (VIEW,), "transfers.transfer": (VIEW,),
        "cpe.creditentry": (VIEW,), "cpe.integrityrecord": (VIEW,), "cpe.certificate": (VIEW,),
        "cpe.enrolment": (VIEW,), "cpe.learningrefusal": (VIEW,),
    },
    Role.SECURITY_ADMIN: {
        "accounts.staffaccount": (VIEW, CHANGE), "accounts.accountantaccount": (VIEW, CHANGE),
        "accounts.region": (VIEW,),
        "axes.accessattempt": (VIEW, DELETE),  # deleting a lockout row lifts it (audited)
        "knox.authtoken": (VIEW, DELETE),
    },
    Role.AUDIT_ADMIN: {
        "kjzx.auditevent": (VIEW,),
        "axes.accessfailurelog": (VIEW,), "axes.accessattempt": (VIEW,),
    },
}


def role_permissions(role: str) -> set[str]:
    """``{"app_label.action_model", …}`` of a role; empty for everyone who is not an administrator."""
    table = ADMIN_PERMISSIONS.get(role, {})
    return {f"{label.split('.')[0]}.{action}_{label.split('.')[1]}" for label, actions in table.items()
            for action in actions}


class RoleBackend(ModelBackend):
    """Django's password check, with permissions from the role table only (never groups or flags)."""

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return role_permissions(user_obj.role)
