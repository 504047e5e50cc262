"""python manage.py unlock_login USERNAME: lift a login lockout at once (audited).

django-axes keys its rows by a keyed hash of the login name (accounts.lockout), so its own
``axes_reset_username`` no longer finds them by the plain name: this command hashes the name first.
"""

from django.core.management.base import BaseCommand

from accounts.lockout import login_unlock


class Command(BaseCommand):
    help = "立即解除某账号的登录锁定（连续登录失败5次后锁定30分钟），并记入审计日志。"

    def add_arguments(self, parser):
        parser.add_argument("username", help="用户名（会计人员为证件号码）")

    def handle(self, *args, username, **options):
        count = login_unlock(username=username)
        if count:
            self.stdout.write(self.style.SUCCESS(f"已解除 {count} 条登录锁定记录。"))
        else:
            self.stdout.write("该账号当前没有登录失败或锁定记录。")
