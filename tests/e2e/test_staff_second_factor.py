"""A new staff member binds an authenticator app at the first login, in Debian's Chromium.

Password; then the binding page shows the QR code (an inline SVG image, allowed by the strict CSP) and
the secret; the code computed from the secret *as shown on the page* (RFC 6238, like an app) logs in;
the ten recovery codes are shown once; the workbench opens. Logging in again asks for the code.
"""

from __future__ import annotations

import os
import time
from base64 import b32decode

import pytest
from django_otp.oath import hotp

from accounts.models import Role, User
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def app_code(secret: str, at: float | None = None) -> str:
    """What an authenticator app shows for ``secret`` (RFC 6238: SHA-1, 30 s, 6 digits)."""
    key = b32decode(secret + "=" * (-len(secret) % 8))
    return f"{hotp(key, int(time.time() if at is None else at) // 30, 6):06d}"


def test_a_new_reviewer_binds_an_app_by_qr_code_and_logs_in(page, live_server):
    User.objects.create_user(username="xinren_e2e", password=PASSWORD, role=Role.COUNTY_REVIEWER,
                             region_id="140502", name="新人审核员")
    page.goto(f"{live_server.url}/accounts/login/?next=/workbench/")
    page.get_by_label("证件号码/用户名").fill("xinren_e2e")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="绑定动态口令").wait_for()
    qr = page.get_by_role("img", name="动态口令二维码（otpauth 链接）")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the data: image loaded under the CSP
    secret = page.locator("#otp-secret").inner_text().strip()
    if os.environ.get("KJZX_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["KJZX_SCREENSHOTS"], "otp_setup.png"), full_page=True)
    page.get_by_label("动态口令").fill(app_code(secret))
    page.get_by_role("button", name="完成绑定").click()
    page.get_by_role("heading", name="请保存您的恢复码").wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url(f"{live_server.url}/workbench/")

    # The next login asks for the code (a new step of 30 s: a code verifies only once).
    page.get_by_label("展开菜单").check()
    page.get_by_role("button", name="退出").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("证件号码/用户名").fill("xinren_e2e")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="动态口令验证").wait_for()
    page.get_by_label("动态口令").fill("000000" if app_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="验证并登录").click()
    page.get_by_text("动态口令不正确").wait_for()
    time.sleep(2.1)  # django-otp waits 1 s after a wrong code before it checks the next
    page.get_by_label("动态口令").fill(app_code(secret, time.time() + 30))  # the next step: one step of drift
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_url(f"{live_server.url}/workbench/")  # staff land on their workbench, counts at the top
    page.get_by_role("heading", name="审核工作台").wait_for()
    page.get_by_role("list", name="我的待办").wait_for()
