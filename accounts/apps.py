from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People and their rooms: the jurisdiction tree, users, roles and who may see what (R-ACL-*)."""

    name = "accounts"
    verbose_name = "账号与属地"

    def ready(self):
        from accounts import signals  # noqa: F401
