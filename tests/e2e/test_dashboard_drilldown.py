"""统计看板 on a phone, in Debian's Chromium: provincial staff open the province's
dashboard at 390×844, see the ECharts charts drawn from the page's data (a canvas with data, the Shanxi
map too), follow a city, then a county, then a kind to the review queue filtered to that county and kind."""

from __future__ import annotations

import os

import pytest

from accounts.models import Role
from cpe.ledger.services import credit_register
from tests.e2e.test_collection_journey import log_in
from tests.factories import make_accountant, make_active_archive, make_collection, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def charts_drawn(page) -> dict:
    """Each chart container: whether ECharts drew a canvas into it, and how many data points its series have."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-chart]')).reduce((found, el) => {
        const chart = window.echarts && window.echarts.getInstanceByDom(el);
        const series = chart ? chart.getOption().series : [];
        found[el.dataset.chart] = {canvas: !!el.querySelector('canvas'), hidden: el.hidden,
                                   points: series.reduce((n, s) => n + (s.data || []).length, 0)};
        return found; }, {})""")


def test_province_to_county_queue_on_a_phone(page, live_server):
    province = make_staff("sheng_dash", Role.PROVINCE_STAFF, "140000")
    waiting = make_accountant(name="待审人", sequence=731)
    make_collection(waiting, "submitted")
    done = make_active_archive(make_accountant(name="学完人", sequence=733))
    credit_register(archive=done, year=2026, subject_kind="professional", form="online", credits=95,
                    source_type="province", source_id="e2e", source_label="省厅登记")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    log_in(page, live_server, province)
    page.goto(f"{live_server.url}/dashboard/")
    page.locator("[data-chart='regions'][data-rendered='1']").wait_for()
    drawn = charts_drawn(page)
    for name in ("regions", "review-trend", "cpe", "cpe-trend", "map"):
        assert drawn[name]["canvas"] and drawn[name]["points"] > 0, (name, drawn)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, height  # was 7,800 px on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if os.environ.get("KJZX_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["KJZX_SCREENSHOTS"], "dashboard_phone.png"), full_page=True)

    page.get_by_role("link", name="晋城市（含所辖县区）").first.click()
    page.wait_for_url("**/dashboard/?region=140500*")
    page.get_by_role("link", name="晋城市城区").first.click()
    page.wait_for_url("**/dashboard/?region=140502*")
    page.locator("#table-kinds").get_by_role("link", name="信息采集").click()
    page.wait_for_url("**/workbench/?region=140502&kind=collection")
    page.get_by_text("待审人").first.wait_for()
    assert not [e for e in errors if "Content Security Policy" in e or "echarts" in e.lower()], errors
