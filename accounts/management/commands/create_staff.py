"""python manage.py create_staff --role R --region CODE --username U --password P (API.md §3)."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import ROLE_REGION_LEVEL
from kjzx.api import DomainError


class Command(BaseCommand):
    help = "创建工作人员账号（审核人员、省厅、培训机构、用人单位），限定在一个属地。"

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, choices=sorted(str(r) for r in ROLE_REGION_LEVEL))
        parser.add_argument("--region", required=True, help="GB/T 2260 区划代码，如 140502")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="", help="姓名或单位名称（可选）")

    def handle(self, *args, role, region, username, password, name, **options):
        try:
            user = services.staff_create(role=role, region_code=region, username=username,
                                         password=password, name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        region = user.region
        self.stdout.write(self.style.SUCCESS(
            f"已创建 {user.get_role_display()} 账号 {user.username}，属地 {region.code} {region.jurisdiction_label}。"))
