"""django.contrib.admin with the portal's site (kjzx/admin_site.py): second factor and 三权分立.

Kept apart from kjzx/apps.py (one AppConfig per module) and from the site itself (which imports models).
"""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "kjzx.admin_site.KjzxAdminSite"
