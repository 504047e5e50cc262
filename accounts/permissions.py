"""Role gates for pages and API views (function-level access, R-ACL-*).

Object-level access is accounts.scoping's job; these only say which *kind* of user may open
a door at all. A role that may not use a page gets 403; an object outside one's scope, 404.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from accounts.models import REVIEWER_ROLES, Role


def role_required(*roles):
    """Page decorator: logged in, and one of ``roles``."""
    allowed = {str(role) for role in roles}

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if request.user.role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


accountant_required = role_required(Role.ACCOUNTANT)
reviewer_required = role_required(*REVIEWER_ROLES)
province_staff_required = role_required(Role.PROVINCE_STAFF)


class HasRole(BasePermission):
    """API permission: ``HasRole.of(Role.ACCOUNTANT)`` as a permission class."""

    roles: frozenset = frozenset()
    message = "您的角色不能执行该操作。"

    @classmethod
    def of(cls, *roles):
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": frozenset(str(r) for r in roles)})

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.role in self.roles)


IsAccountant = HasRole.of(Role.ACCOUNTANT)
IsReviewer = HasRole.of(*REVIEWER_ROLES)
IsExchangeClient = HasRole.of(Role.EXCHANGE_CLIENT)
