"""python manage.py otp_code USERNAME: the code an authenticator app would show now (development only).

For the embedded default (``scripts/run.sh``, DEBUG on): a newcomer logs in as a demo staff account
without an authenticator app, ``bash scripts/manage.sh otp_code sheng``. Refused unless DEBUG is on: in
production the code comes only from the person's own device.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import otp
from accounts.models import User, login_names


class Command(BaseCommand):
    help = "（仅开发环境）打印某账号当前的动态口令，供没有身份验证器App时登录演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("otp_code 仅用于开发环境（DEBUG=1）；生产环境的动态口令只能来自本人的身份验证器App。")
        user = User.objects.filter(username__in=login_names(username)).first()
        device = otp.totp_device(user) if user is not None else None
        if device is None:
            raise CommandError(f"账号 {username} 不存在或尚未绑定动态口令。")
        self.stdout.write(otp.totp_code_now(device))
