"""The review figures kept as decisions happen: a histogram of handling times.

One row per region, kind, month of the decision and handling time in working days, counting the
decided applications (R-DL-1): on-time rate and the 90th percentile come from the histogram, so the
dashboard never sorts a year's decisions. Written only by :func:`workbench.tallies.decision_tally_update`,
which :func:`kjzx.workflow.workflow_transition` calls in each transition's transaction; checked
against the applications by ``manage.py stats_verify``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DecisionTally(models.Model):
    """How many applications of ``kind`` in ``region`` were decided in ``month`` after ``days`` working days."""

    region = models.ForeignKey("accounts.Region", verbose_name=_("属地"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=20)
    month = models.PositiveIntegerField(_("办结月份"), help_text=_("yyyymm"))
    days = models.IntegerField(_("办理用时（工作日）"))
    count = models.IntegerField(_("件数"), default=0)

    class Meta:
        verbose_name = _("办结用时统计")
        verbose_name_plural = _("办结用时统计")
        constraints = [models.UniqueConstraint(fields=["region", "kind", "month", "days"],
                                               name="decision_tally_unique")]
        indexes = [models.Index(fields=["month", "region"], name="decision_tally_month_region")]

    def __str__(self):
        return f"{self.region_id} {self.kind} {self.month} {self.days}: {self.count}"
