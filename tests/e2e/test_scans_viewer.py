"""Scans are readable, in Debian's Chromium: on a reviewer's page a PDF diploma shows as page images,
the ID card sits beside the typed fields, and static/js/scans.js zooms and turns a scan under the portal's
Content-Security-Policy (no inline script, no style attributes)."""

from __future__ import annotations

import os

import pytest

from records.tests.test_scans import pdf_bytes, submitted_with_pdf
from tests.e2e.test_collection_journey import log_in
from tests.factories import make_accountant, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def box(page, selector: str) -> dict:
    return page.evaluate("""(selector) => { const r = document.querySelector(selector).getBoundingClientRect();
        return {width: Math.round(r.width), height: Math.round(r.height)}; }""", selector)


def test_a_reviewer_zooms_and_turns_a_pdf_page(page, live_server):
    reviewer = make_staff("chengqu_scan", "county_reviewer", "140502")
    collection, pdf = submitted_with_pdf(make_accountant(name="扫描人", sequence=741), pdf_bytes(2))
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 900})

    log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/workbench/collections/{collection.pk}/")
    first = f'img[src="/files/{pdf.pk}/pages/1/"]'
    page.locator(first).wait_for()
    page.wait_for_function("(s) => document.querySelector(s).naturalWidth > 0", arg=first)
    assert page.locator(f'img[src="/files/{pdf.pk}/pages/2/"]').count() == 1
    assert page.locator(".identity-with-scans img.scan-image").count() >= 1  # the ID card beside the fields

    view = page.locator(".scan-view", has=page.locator(first))
    before = box(page, first)
    view.get_by_role("button", name="放大").click()
    zoomed = box(page, first)
    assert zoomed["width"] > before["width"] * 1.4, (before, zoomed)

    view.get_by_role("button", name="还原").click()
    view.get_by_role("button", name="向右旋转").click()
    turned = box(page, first)  # the bounding box of the turned page: wider than tall would be wrong
    assert turned["width"] > turned["height"], turned  # a portrait page lies on its side
    stage = view.locator(".scan-stage")
    assert abs(stage.bounding_box()["width"] - turned["width"]) <= 2
    if os.environ.get("KJZX_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["KJZX_SCREENSHOTS"], "scans_turned.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e or "scans" in e], errors
