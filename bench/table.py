"""The one table of ``python -m bench``: a row per case, each a figure beside the baseline of the same run.

Every bench module returns its own rows (a NamedTuple, a dict, a tuple); :func:`row_of` reads them all into
:class:`Row`, and :func:`markdown` prints the table the README shows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass
class Row:
    group: str  # lists, queues, dashboards, sweeps, certificate, HTTP, database settings
    case: str
    figure: float | None  # in ``unit``; None: not run
    baseline: float | None
    unit: str = "ms"
    target: str = ""  # as printed: "≤ 3×, < 20 ms"; empty: reported, no target
    met: bool | None = None  # None: no target, or not run
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.figure is None or not self.baseline:
            return None
        return self.figure / self.baseline

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def ratio_row(group: str, case: str, figure: float, baseline: float, *, unit: str = "ms", most: float | None = None,
              under: float | None = None, note: str = "") -> Row:
    """A row whose target is a largest ratio (``most``) and/or a largest figure (``under``, in ``unit``)."""
    parts, met = [], None
    if most is not None:
        parts.append(f"≤ {most:g}×")
        met = baseline > 0 and figure / baseline <= most
    if under is not None:
        parts.append(f"< {under:g} {unit}")
        met = (met is not False) and figure < under
    return Row(group, case, figure, baseline, unit, ", ".join(parts), met, note)


def not_run(group: str, case: str, why: str) -> Row:
    return Row(group, case, None, None, "", "", None, f"not run: {why}")


def row_of(group: str, found, *, unit: str = "ms") -> Row:
    """A row from what a bench module returns: a ``Row``-like NamedTuple (case, figure, baseline, ratio, target,
    met) whose target is a largest ratio, a dict with the same keys (or ``figure_ms``/``baseline_ms``), or a tuple
    of (case, figure, baseline, ratio, target ms, met) as dashboard_bench's first version returned."""
    if isinstance(found, Row):
        return found
    if isinstance(found, dict):
        values = dict(found)
        figure = values.get("figure", values.get("figure_ms"))
        baseline = values.get("baseline", values.get("baseline_ms"))
        target, met = values.get("target"), values.get("met")
        unit = values.get("unit", unit)
        return Row(group, str(values["case"]), _number(figure), _number(baseline), unit, _target(target, unit), met,
                   str(values.get("note", "")))
    if hasattr(found, "_asdict"):
        values = found._asdict()
        target = values.get("target")
        text = "" if target is None or (isinstance(target, float) and math.isinf(target)) else f"≤ {target:g}×"
        return Row(group, values["case"], values["figure"], values["baseline"], unit, text,
                   values["met"] if text else None)
    case, figure, baseline, _ratio, target, met = found
    return Row(group, case, figure, baseline, unit, "" if target is None else f"< {target:g} {unit}", met)


def _number(value) -> float | None:
    return None if value is None else float(value)


def _target(target, unit: str) -> str:
    if target is None or target == "":
        return ""
    if isinstance(target, str):
        return target
    if isinstance(target, float) and math.isinf(target):
        return ""
    return f"< {target:g} {unit}"


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in {"s", "ms"} and value < 10:
        return f"{value:,.2f} {unit}"
    return f"{value:,.1f} {unit}" if value < 1000 else f"{value:,.0f} {unit}"


def markdown(rows: list[Row]) -> str:
    lines = ["| | case | figure | baseline | ratio | target | met |", "|---|---|---:|---:|---:|---|---|"]
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
        met = "—" if row.met is None else ("yes" if row.met else "**no**")
        case = f"{row.case} ({row.note})" if row.note else row.case
        lines.append(f"| {row.group} | {case} | {_figure(row.figure, row.unit)} | {_figure(row.baseline, row.unit)} "
                     f"| {ratio} | {row.target or '—'} | {met} |")
    return "\n".join(lines)
