"""python manage.py create_exchange_token NAME (API.md §3): a national-platform client and its token."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from kjzx.api import DomainError


class Command(BaseCommand):
    help = "为全国会计人员管理服务平台创建接口客户端，并打印其令牌（仅显示一次）。"

    def add_arguments(self, parser):
        parser.add_argument("name", help="客户端名称，如 national-platform")

    def handle(self, *args, name, **options):
        try:
            token = services.exchange_token_create(name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"已创建接口客户端 {name}。令牌（请妥善保存，仅显示一次）：")
        self.stdout.write(token)
