"""python manage.py create_staff --role R --region CODE --username U --password P (API.md §3).

Prints the new account's TOTP secret once, on its own line as ``TOTP: <base32 secret>``, and the
``otpauth://`` URI beside it: the person adds it to an authenticator app (or scans the URI as a QR
code) and logs in with password and code. The secret is not shown again; a lost one is a device reset
by the security administrator (管理后台 → 工作人员账号 → 重置动态口令), after which the person binds a
new app at the next login.

The three administrators of 三权分立 are made the same way: ``--role system_admin|security_admin|
audit_admin --region 140000``.

An employer administrator (``--role employer``) names the units it oversees with ``--credit-code CODE``,
repeatable (at least one; each 18 characters with the GB 32100 check character): the account and its
units are made together or not at all (:func:`employers.services.employer_account_create`).
"""

from django.core.management.base import BaseCommand, CommandError

from accounts import otp, services
from accounts.models import ROLE_REGION_LEVEL, Role
from kjzx.api import DomainError


class Command(BaseCommand):
    help = ("创建工作人员账号（审核人员、省厅、培训机构、用人单位，或系统/安全/审计管理员），限定在一个属地，"
            "并打印其动态口令密钥（仅显示一次）。")

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, choices=sorted(str(r) for r in ROLE_REGION_LEVEL))
        parser.add_argument("--region", required=True, help="GB/T 2260 区划代码，如 140502；三个管理员角色为 140000")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="", help="姓名或单位名称（可选）")
        parser.add_argument("--credit-code", dest="credit_codes", action="append", default=[], metavar="CODE",
                            help="用人单位管理员所辖单位的统一社会信用代码（18位），可重复指定多个；仅 --role employer")

    def handle(self, *args, role, region, username, password, name, credit_codes, **options):
        if credit_codes and role != Role.EMPLOYER:
            raise CommandError("只有用人单位管理员（--role employer）可以指定 --credit-code。")
        try:
            if role == Role.EMPLOYER:
                from employers.services import employer_account_create

                user = employer_account_create(username=username, password=password, region_code=region,
                                               credit_codes=credit_codes, name=name)
            else:
                user = services.staff_create(role=role, region_code=region, username=username,
                                             password=password, name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        region = user.region
        device = otp.totp_device(user)
        self.stdout.write(self.style.SUCCESS(
            f"已创建 {user.get_role_display()} 账号 {user.username}，属地 {region.code} {region.jurisdiction_label}。"))
        if role == Role.EMPLOYER:
            units = "、".join(user.employer_units.values_list("credit_code", flat=True))
            self.stdout.write(f"所辖单位（统一社会信用代码）：{units}")
        self.stdout.write("动态口令（TOTP，SHA-1，30秒，6位）密钥仅显示这一次，请交本人录入身份验证器App：")
        self.stdout.write(f"TOTP: {otp.totp_secret(device)}")
        self.stdout.write(otp.totp_uri(device))
