"""Figures kept in step with the ledger for the dashboards (统计看板); R-CE-1, R-CE-3, R-CE-13.

The ledger (``CreditEntry``) stays the truth and :func:`cpe.ledger.selectors.year_status` still reads it;
these tables are derived from it, written only by :mod:`cpe.ledger.summaries` in the same transaction
as the change they follow, and checked against a recomputation by ``manage.py stats_verify``:

- :class:`CreditSummary`: one person's credits of one year (total, professional, general, by form), the
  region their archive is in, whether they owe the year and have completed it;
- :class:`ArchiveObligation`: one archive's region, whether it is active and the first year it owes
  (R-CE-1), as counted in :class:`RegionObligation`;
- :class:`RegionObligation`: active archives per region and first year owed — the obliged people of an
  open year ``Y`` are those with ``start_year <= Y``;
- :class:`RegionCreditSummary`: the person rows summed per region and year (a few thousand rows);
- :class:`RegionCompletionMonth`: obliged people who completed a year, per region and the month they
  completed it (the dashboard's trend).

A region here is the archive's own jurisdiction (a county, a city's 市直 or the province's 省直); the
dashboards add them up to the regions below the caller with the region tree.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from cpe.models.ledger import CEYear, CreditForm
from records.models import Archive

__all__ = ["FORM_COLUMNS", "ArchiveObligation", "CreditSummary", "RegionCompletionMonth", "RegionCreditSummary",
           "RegionObligation"]

FORM_COLUMNS = tuple(CreditForm.values)  # one credits column per form, named as the form


def _credits(label: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=12, decimal_places=1, default=Decimal(0))


class CreditSummary(models.Model):
    """A person's credits of one year (个人年度学分汇总), in step with the ledger."""

    # A registered list writes a row here per person (bench/README.md, lists), so the row costs no more than it
    # must: no index of its own for a column that leads another index (credit_summary_unique: the archive;
    # credit_summary_year_region: the year, with the region), and no foreign-key check at commit — the rows are
    # derived, written only from ledger rows and archives that exist (which are never deleted), and
    # ``manage.py stats_verify`` compares them with the ledger; Django still cascades and protects.
    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="+",
                                db_index=False, db_constraint=False)
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+",
                             db_index=False, db_constraint=False)
    region = models.ForeignKey("accounts.Region", verbose_name=_("属地"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    obliged = models.BooleanField(_("应参加"), default=False)
    completed = models.BooleanField(_("已完成"), default=False)
    completed_month = models.PositiveIntegerField(_("完成月份"), null=True, blank=True,
                                                  help_text=_("yyyymm；未完成为空"))
    total = _credits(_("总学分"))
    professional = _credits(_("专业科目学分"))
    general = _credits(_("公需科目学分"))

    class Meta:
        verbose_name = _("个人年度学分汇总")
        verbose_name_plural = _("个人年度学分汇总")
        constraints = [models.UniqueConstraint(fields=["archive", "year"], name="credit_summary_unique")]
        indexes = [models.Index(fields=["year", "region"], name="credit_summary_year_region")]

    def __str__(self):
        return f"{self.year_id}年度 {self.total}学分"


class ArchiveObligation(models.Model):
    """One archive as the obliged counts see it: its region, active or not, the first year it owes (R-CE-1)."""

    archive = models.OneToOneField(Archive, verbose_name=_("档案"), primary_key=True, on_delete=models.CASCADE,
                                   related_name="+")
    region = models.ForeignKey("accounts.Region", verbose_name=_("属地"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(_("有效档案"), default=False)
    start_year = models.PositiveSmallIntegerField(_("起始年度"), null=True, blank=True)

    class Meta:
        verbose_name = _("档案继续教育义务")
        verbose_name_plural = _("档案继续教育义务")

    def __str__(self):
        return f"{self.archive_id}: {self.start_year or '—'}"


class RegionObligation(models.Model):
    """Active archives of one region whose obligation starts in ``start_year`` (应参加人数的来源)."""

    region = models.ForeignKey("accounts.Region", verbose_name=_("属地"), on_delete=models.PROTECT, related_name="+")
    start_year = models.PositiveSmallIntegerField(_("起始年度"))
    people = models.IntegerField(_("人数"), default=0)

    class Meta:
        verbose_name = _("属地应参加人数")
        verbose_name_plural = _("属地应参加人数")
        constraints = [models.UniqueConstraint(fields=["region", "start_year"], name="region_obligation_unique")]

    def __str__(self):
        return f"{self.region_id} {self.start_year}: {self.people}"


class RegionCreditSummary(models.Model):
    """The person rows of one region and year, summed (属地年度继续教育汇总)."""

    region = models.ForeignKey("accounts.Region", verbose_name=_("属地"), on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    people = models.IntegerField(_("有学分记录人数"), default=0)
    obliged = models.IntegerField(_("应参加人数（有记录者）"), default=0)
    completed = models.IntegerField(_("已完成人数"), default=0)
    total = _credits(_("总学分"))
    professional = _credits(_("专业科目学分"))
    general = _credits(_("公需科目学分"))

    class Meta:
        verbose_name = _("属地年度继续教育汇总")
        verbose_name_plural = _("属地年度继续教育汇总")
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="region_credit_summary_unique")]

    def __str__(self):
        return f"{self.region_id} {self.year_id}: {self.completed}/{self.obliged}"


class RegionCompletionMonth(models.Model):
    """Obliged people of one region who completed ``year`` in ``month`` (yyyymm): the completion trend."""

    region = models.ForeignKey("accounts.Region", verbose_name=_("属地"), on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    month = models.PositiveIntegerField(_("月份"))
    completed = models.IntegerField(_("完成人数"), default=0)

    class Meta:
        verbose_name = _("属地月度完成人数")
        verbose_name_plural = _("属地月度完成人数")
        constraints = [models.UniqueConstraint(fields=["region", "year", "month"],
                                               name="region_completion_month_unique")]

    def __str__(self):
        return f"{self.region_id} {self.year_id} {self.month}: {self.completed}"


for _model in (CreditSummary, RegionCreditSummary):  # one credits column per form, named as the form
    for _form, _label in CreditForm.choices:
        _model.add_to_class(_form, _credits(_label))
