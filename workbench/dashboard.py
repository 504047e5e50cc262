"""The dashboard's tables and chart data, from :mod:`workbench.stats` (presentation only, no rule here).

The page, its Excel files and its charts show the same rows: each table is a list of dicts in the
page's words, and :func:`chart_data` is what ``static/js/dashboard.js`` draws (passed with
``json_script``, so the page has no inline script, CSP). Links: a region row goes one level down
(``?region=``), a kind of a region goes to the review queue filtered to that region and kind.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Region
from cpe.models import CreditForm
from workbench import stats
from workbench.selectors import QUEUE_MODELS


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def month_label(month: int) -> str:
    return f"{month // 100}-{month % 100:02d}"


def dashboard_url(region: Region | None = None, year: int | None = None) -> str:
    query = {key: value for key, value in (("region", region.pk if region else None), ("year", year)) if value}
    return reverse("accounts:dashboard") + (f"?{urlencode(query)}" if query else "")


def queue_url(region: Region, kind: str = "") -> str:
    query = {"region": region.pk, **({"kind": kind} if kind else {})}
    return reverse("accounts:workbench") + f"?{urlencode(query)}"


def breadcrumbs(user, scope: Region) -> list[tuple[str, str]]:
    """(label, url) from the caller's own region down to the one shown."""
    own = stats.require_scope(user)
    codes = [code for code in scope.path.strip("/").split("/")]
    codes = codes[codes.index(own.pk):] if own.pk in codes else [scope.pk]
    regions = {region.pk: region for region in Region.objects.filter(pk__in=codes).select_related("parent")}
    return [(regions[code].full_name if regions[code].level == Region.Level.COUNTY else regions[code].name,
             dashboard_url(regions[code] if code != own.pk else None)) for code in codes if code in regions]


def review_table(figures: stats.ReviewFigures, year: int | None = None) -> list[dict]:
    """One row per region: the sums over kinds, each kind's open count with its queue link."""
    rows = []
    for row in figures.rows:
        cell = row.total
        drill = None if row.own else dashboard_url(row.region, year)
        leaf = row.region.level == Region.Level.COUNTY
        kinds = [{"kind": kind, "label": str(QUEUE_MODELS[kind].KIND_LABEL), "open": kcell.open,
                  "overdue": kcell.overdue,
                  "url": queue_url(row.region, kind) if (leaf or not row.own) and kcell.open else None}
                 for kind, kcell in row.kinds.items() if kcell.open]
        rows.append({"code": row.region.pk, "label": row.label, "own": row.own, "url": drill, "open": cell.open,
                     "due_today": cell.due_today, "overdue": cell.overdue, "ages": cell.ages,
                     "decided": cell.decided, "on_time_rate": cell.on_time_rate,
                     "on_time_text": percent(cell.on_time_rate), "p90": cell.p90_working_days, "kinds": kinds,
                     "zero": cell.is_zero})
    return rows


def kind_table(figures: stats.ReviewFigures) -> list[dict]:
    """One row per kind over the whole region shown, each linking to the queue of that region and kind."""
    return [{"kind": kind, "label": str(QUEUE_MODELS[kind].KIND_LABEL), "url": queue_url(figures.scope, kind),
             "open": cell.open, "due_today": cell.due_today, "overdue": cell.overdue, "ages": cell.ages,
             "decided": cell.decided, "on_time_rate": cell.on_time_rate, "on_time_text": percent(cell.on_time_rate),
             "p90": cell.p90_working_days, "zero": cell.is_zero}
            for kind, cell in figures.kinds.items()]


def review_trend(figures: stats.ReviewFigures) -> list[dict]:
    return [{"month": month_label(month), "decided": cell.decided, "on_time_rate": cell.on_time_rate,
             "on_time_text": percent(cell.on_time_rate), "p90": cell.p90_working_days}
            for month, cell in figures.trend]


def cpe_table(figures: stats.CpeFigures) -> list[dict]:
    year = figures.policy.year
    return [{"code": row.region.pk, "label": row.label, "own": row.own,
             "url": None if row.own else dashboard_url(row.region, year),
             "obliged": row.cell.obliged, "completed": row.cell.completed, "rate": row.cell.rate,
             "rate_text": percent(row.cell.rate),
             "forms": [(label, row.cell.credits_by_form.get(form)) for form, label in CreditForm.choices],
             "zero": row.cell.is_zero}
            for row in figures.rows]


def cpe_trend(figures: stats.CpeFigures) -> list[dict]:
    obliged = figures.total.obliged
    return [{"month": month_label(month), "completed": completed,
             "rate": round(completed / obliged, 4) if obliged else None,
             "rate_text": percent(completed / obliged if obliged else None)} for month, completed in figures.trend]


def chart_data(review: list[dict], trend: list[dict], cpe: list[dict] | None, cpe_months: list[dict] | None,
               scope: Region) -> dict:
    """What dashboard.js draws: bars by region, trend lines, and the Shanxi map on the province's dashboard."""
    data = {
        "labels": {"open": _("待办"), "overdue": _("逾期"), "due_today": _("今日到期"), "decided": _("办结件数"),
                   "on_time": _("按期办结率"), "completed": _("已完成人数"), "rate": _("完成率"),
                   "obliged": _("应参加人数")},
        "regions": [{"label": row["label"], "url": row["url"], "open": row["open"], "overdue": row["overdue"],
                     "due_today": row["due_today"]} for row in review],
        "review_trend": [{"month": row["month"], "decided": row["decided"], "on_time_rate": row["on_time_rate"]}
                         for row in trend],
        "cpe": [{"label": row["label"], "url": row["url"], "obliged": row["obliged"], "completed": row["completed"],
                 "rate": row["rate"]} for row in cpe or []],
        "cpe_trend": [{"month": row["month"], "completed": row["completed"], "rate": row["rate"]}
                      for row in cpe_months or []],
        "map": None,
    }
    if scope.level == Region.Level.PROVINCE and cpe:
        data["map"] = [{"name": row["label"].split("（")[0], "code": row["code"], "url": row["url"],
                        "value": None if row["rate"] is None else round(row["rate"] * 100, 1)}
                       for row in cpe if not row["own"]]
    return data
