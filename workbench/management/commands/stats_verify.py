"""python manage.py stats_verify [--fix]: recompute the dashboards' kept figures and report any difference.

The dashboards (统计看板) read figures kept in step with the data they come from: the CE sums
(:mod:`cpe.ledger.summaries`: per person and year, per region) and the decision tallies
(:mod:`workbench.tallies`). This command recomputes both from the ledger, the archives, the
credit-information file and the applications, and prints every table that differs with a few of its
rows; it exits 1 when something differs. ``--fix`` writes the recomputation (one transaction, audited
as ``stats.rebuilt``). At a million people it takes minutes (11 on a loaded 2-core machine) and holds
the summary tables' rows meanwhile: run it at a quiet hour, after restoring a backup, or after loading
data around the services.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from cpe.ledger.summaries import credit_summaries_differences
from kjzx.audit import record_event, register_event_labels
from workbench.selectors import QUEUE_MODELS
from workbench.tallies import decision_tallies_actual, decision_tallies_expected, decision_tallies_rebuild

register_event_labels({"stats.rebuilt": "统计数据重算（stats_verify --fix）"})


def tally_differences(expected, actual, samples: int = 3) -> list[str]:
    wrong = sorted(key for key in set(expected) | set(actual) if expected.get(key, 0) != actual.get(key, 0))
    if not wrong:
        return []
    shown = "; ".join(f"{key}: 应为{expected.get(key, 0)}，现为{actual.get(key, 0)}" for key in wrong[:samples])
    return [f"workbench_decisiontally: {len(wrong)} 行与重算结果不符（属地, 类别, 月份, 工作日）：{shown}"]


class Command(BaseCommand):
    help = "重算统计看板所用的汇总数据（继续教育学分汇总、办结用时统计），报告与现存数据的差异；--fix 以重算结果更正。"

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="以重算结果替换现存汇总数据（写入审计日志）")

    def handle(self, *args, fix, **options):
        with transaction.atomic():
            found = credit_summaries_differences(fix=fix)
            expected, actual = decision_tallies_expected(QUEUE_MODELS.values()), decision_tallies_actual()
            tallies = tally_differences(expected, actual)
            found += tallies
            if fix and found:
                if tallies:
                    decision_tallies_rebuild(expected)
                record_event(None, "stats.rebuilt", by=None, extra={"differences": len(found)})
        for line in found:
            self.stdout.write(line)
        if not found:
            self.stdout.write("统计汇总与原始数据一致。")
            return
        if fix:
            self.stdout.write(f"已按重算结果更正 {len(found)} 处差异。")
            return
        self.stderr.write(f"发现 {len(found)} 处差异；运行 stats_verify --fix 以重算结果更正。")
        raise SystemExit(1)
