"""python manage.py close_cpe_year YEAR [--force] (API.md §3): close a CE year's registration now, R-CE-13.

What the daily beat task (``cpe.tasks.close_due_cpe_years``) does the day after a year's
``registration_closes_on``, on demand: every obliged person's result goes into their
credit-information file and the year no longer changes. Before that date it refuses unless
``--force`` (then the early close is audited as such). The audit rows are the system's.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cpe.ledger.services import ce_year_close
from cpe.models import CEYear
from kjzx.audit import record_event, register_event_labels

register_event_labels({"cpe.year_close_forced": "提前结束年度学分登记（close_cpe_year --force）"})


class Command(BaseCommand):
    help = "结束某一年度的继续教育学分登记，将每人的结果纳入会计人员信用信息档案（此后该年度不再变化）。"

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="年度，如 2025")
        parser.add_argument("--force", action="store_true",
                            help="学分登记截止日期未到也立即结束（慎用：该年度此后不能再登记学分）")

    def handle(self, *args, year, force, **options):
        policy = CEYear.objects.filter(pk=year).first()
        if policy is None:
            raise CommandError(f"{year}年度的继续教育政策不存在：请先在管理后台“继续教育年度”中设置。")
        if policy.is_frozen:
            self.stdout.write(f"{year}年度已于{timezone.localtime(policy.frozen_at):%Y-%m-%d %H:%M}结束学分登记"
                              "并纳入信用信息档案，无需再次结束。")
            return
        today = timezone.localdate()
        early = policy.registration_closes_on >= today
        if early and not force:
            raise CommandError(
                f"{year}年度学分登记截止日期为{policy.registration_closes_on:%Y-%m-%d}（含当日），尚未到期，未作任何改动。"
                "如确需提前结束，请加 --force（结束后该年度不能再登记或更正学分）。")
        with transaction.atomic():
            count = ce_year_close(year=year)
            if early:
                record_event(policy, "cpe.year_close_forced", extra={
                    "registration_closes_on": policy.registration_closes_on.isoformat(),
                    "closed_on": today.isoformat()})
        self.stdout.write(self.style.SUCCESS(
            f"{year}年度学分登记已结束：{count}条继续教育结果已纳入会计人员信用信息档案。"))
