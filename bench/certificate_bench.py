"""How long one credit certificate (学分证明) PDF takes, and whether HarfBuzz's subsetter is there (issue 5).

    .venv/bin/python bench/certificate_bench.py             # 30 renders of each page
    .venv/bin/python bench/certificate_bench.py -n 100      # more
    .venv/bin/python bench/certificate_bench.py --fonttools # also time WeasyPrint's fallback (seconds a page)

WeasyPrint embeds only the glyphs a PDF uses. With Debian's ``libharfbuzz-subset0`` it cuts them out of
the 20 MB Noto CJK collection in C; without it, it falls back to fontTools in Python, and a page with
Chinese text takes seconds. This renders the real certificate template (the same code as the
download: :func:`cpe.certificates.certificate_html` and :func:`~cpe.certificates.html_to_pdf`) for a
person held in memory — no database needed — and reports the median against a baseline rendered in
the same run: the same page with every non-ASCII character replaced by "X" in a Latin-only font
(DejaVu Sans), so the figure compares across machines. ``--fonttools`` also times the CJK page with
the subsetter switched off, to show what a machine without the library would see.
"""

from __future__ import annotations

import argparse
import ctypes.util
import datetime as dt
import os
import re
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kjzx.settings_test")

import django  # noqa: E402

django.setup()

from cpe.certificates import CertificateStatement, certificate_html, html_to_pdf  # noqa: E402
from cpe.ledger import YearStatus  # noqa: E402
from cpe.models import Certificate  # noqa: E402
from records.models import Archive  # noqa: E402

SITE = "https://kjzx.czt.shanxi.gov.cn"
CJK_FONTS = re.compile(r'font-family: "Noto Sans CJK SC"[^;]*;')


def statement() -> CertificateStatement:
    """A completed 2024 with credits in four forms: a full page, nothing read from the database."""
    archive = Archive(name="欧阳明华", id_type="resident_id", id_number="14050219900101101X")
    status = YearStatus(2024, True, Decimal("90"), Decimal("60"), Decimal("96.5"), Decimal("66.5"), Decimal("30"),
                        {"online": Decimal("54.5"), "face_to_face": Decimal("24"), "exam": Decimal("12"),
                         "paper": Decimal("6")}, True, dt.date(2025, 3, 31), True)
    certificate = Certificate(archive=archive, year_id=2024, code="7KQ2M9XW4HT8PZ3R",
                              issued_at=dt.datetime(2025, 4, 2, 9, 30, tzinfo=dt.UTC))
    return CertificateStatement(certificate, archive.name, archive.masked_id_number, status)


def latin_only(html: str) -> str:
    """The same page, every non-ASCII character an "X", in DejaVu Sans: no CJK font is touched."""
    html = CJK_FONTS.sub('font-family: "DejaVu Sans", sans-serif;', html)
    return re.sub(r"[^\x00-\x7f]", "X", html)


def median_ms(render, runs: int) -> tuple[float, int]:
    render()  # fonts, caches and the template loaded once
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(render())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), size


def without_subsetter(render):
    """Render with WeasyPrint's HarfBuzz subsetter switched off (its fontTools fallback)."""
    from weasyprint.pdf import fonts

    saved = fonts.harfbuzz_subset
    fonts.harfbuzz_subset = None
    try:
        return render()
    finally:
        fonts.harfbuzz_subset = saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=30)
    parser.add_argument("--fonttools", action="store_true", help="also time the page without the subsetter")
    args = parser.parse_args()

    import weasyprint

    library = ctypes.util.find_library("harfbuzz-subset")
    missing = "NOT FOUND (apt-get install libharfbuzz-subset0)"
    print(f"WeasyPrint {weasyprint.__version__}; libharfbuzz-subset: {library or missing}")
    html = certificate_html(statement(), site_url=SITE)
    baseline_html = latin_only(html)
    rows = [("baseline: the same page, Latin-only (DejaVu Sans)", *median_ms(lambda: html_to_pdf(baseline_html),
                                                                              args.runs))]
    rows.append(("certificate, Noto Sans CJK SC", *median_ms(lambda: html_to_pdf(html), args.runs)))
    if args.fonttools:
        runs = max(3, args.runs // 10)
        rows.append(("certificate, CJK, subsetter off (fontTools)",
                     *median_ms(lambda: without_subsetter(lambda: html_to_pdf(html)), runs)))
    base = rows[0][1]
    print("\n| case | median ms | × baseline | PDF KB |\n|---|---:|---:|---:|")
    for label, ms, size in rows:
        print(f"| {label} | {ms:.0f} | {ms / base:.1f} | {size / 1024:.0f} |")
    return 0 if library else 1


if __name__ == "__main__":
    sys.exit(main())
