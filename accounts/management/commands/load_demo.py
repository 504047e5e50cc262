"""python manage.py load_demo (API.md §3): a believable demo province, safe to run again.

Each app that has demo data contributes a ``demo.load(out)``, which prints what its demo users can
try; the table of demo logins comes last, where a newcomer looks. ``--logins`` prints only that table
(``scripts/run.sh`` does, just before it starts serving).
"""

from importlib import import_module

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import demo as accounts_demo

# Order matters: people first.
DEMO_APPS = ["accounts", "records", "transfers", "cpe", "workbench", "employers"]


class Command(BaseCommand):
    help = "载入演示数据（多个县区的工作人员和会计人员、各状态的业务、继续教育等），最后打印演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("--logins", action="store_true", help="只打印演示账号（须已载入演示数据），不载入。")

    def handle(self, *args, logins: bool = False, **options):
        if logins:
            if not accounts_demo.loaded():
                raise CommandError("尚未载入演示数据：请先运行 bash scripts/manage.sh load_demo。")
        else:
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
        accounts_demo.logins(self.stdout)
