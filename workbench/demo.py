"""The dashboards' demo step (``load_demo``, after every other app): the decision tallies of the demo's stories.

The records and transfers demos walk each story through the real transitions, then move its times back
(submitted weeks ago, decided last month) with plain updates, around the services; the decision
tallies (:mod:`workbench.tallies`) counted those decisions at the moment they were taken. So they are
recomputed here from the stories' final rows, as ``stats_verify --fix`` would. The CE sums need no such
step: every demo credit goes through the ledger's one bulk path, which keeps them in step.
"""

from __future__ import annotations

from django.db import transaction

from workbench.selectors import QUEUE_MODELS
from workbench.tallies import decision_tallies_actual, decision_tallies_expected, decision_tallies_rebuild


def load(out) -> None:
    expected = decision_tallies_expected(QUEUE_MODELS.values())
    if expected != decision_tallies_actual():
        with transaction.atomic():
            decision_tallies_rebuild(expected)
    out.write(f"统计看板：{sum(expected.values())} 件办结申请计入办理用时统计；"
              "审核人员登录后进入“统计看板”可逐级查看各地办理和继续教育情况。\n")
