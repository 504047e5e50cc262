"""python manage.py load_demo (API.md §3): a believable demo province, safe to run again."""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app that has demo data contributes a ``demo.load(out)``; order matters (people first).
DEMO_APPS = ["accounts", "records", "transfers", "cpe"]


class Command(BaseCommand):
    help = "载入演示数据（多个县区的工作人员和会计人员、通知公告等），并打印演示账号。"

    def handle(self, *args, **options):
        with transaction.atomic():
            for app in DEMO_APPS:
                try:
                    module = import_module(f"{app}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo":
                        raise
                    continue
                module.load(self.stdout)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
