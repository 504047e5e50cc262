"""Cross-cutting security promises of the foundation (docs/security.md)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROOT = Path(__file__).resolve().parent.parent
# Routes anyone may open: the front door, login and registration, reset, health, the API docs, and the
# check of a credit certificate (R-CE-15).
PUBLIC = {"home", "notice_detail", "health", "accounts:register", "accounts:login", "accounts:password_reset",
          "accounts:password_reset_confirm", "accounts:logout", "api-register", "api-token", "api-schema", "api-docs",
          "cpe_verify_form", "cpe_verify", "api-verify", "public_institutions", "api-cpe-institutions"}


def named_routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            if entry.namespace == "admin":
                continue
            yield from named_routes(entry, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", entry


@pytest.mark.django_db
def test_every_route_needs_login_except_the_public_ones(client):
    """Default deny (ASVS 8.2.1): an anonymous visitor is sent to login (pages) or refused (API)."""
    checked = 0
    for name, pattern in named_routes():
        if name in PUBLIC:
            continue
        kwargs = {key: 1 for key in pattern.pattern.regex.groupindex}
        url = reverse(name, kwargs=kwargs)
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), url
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
        checked += 1
    assert checked >= 4


@pytest.mark.django_db
def test_csrf_is_enforced_on_login_and_registration(accountant):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("accounts:login"), {"username": "x", "password": "y"}).status_code == 403
    assert client.post(reverse("accounts:register"), {}).status_code == 403


@pytest.mark.django_db
def test_logout_is_post_only(client, accountant):
    client.force_login(accountant)
    assert client.get(reverse("accounts:logout")).status_code == 405


def test_api_defaults_are_safe():
    """DRF: authenticated by default; Basic auth not enabled (ASVS 8.2.1, 6.3.4)."""
    assert settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] == ["rest_framework.permissions.IsAuthenticated"]
    assert not any("Basic" in cls for cls in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"])


def test_password_and_session_policy():
    """8 characters, three classes, lockout after 5 for 30 minutes, 30 idle minutes (issue 2)."""
    names = [v["NAME"] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert "accounts.validators.CharacterClassesValidator" in names
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME.total_seconds() == 1800
    assert settings.SESSION_COOKIE_AGE == 1800 and settings.SESSION_SAVE_EVERY_REQUEST


@pytest.mark.django_db
def test_pages_are_zh_hans_and_authenticated_ones_are_not_cached(client, accountant):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<html lang="zh-Hans">' in response.content.decode()
    assert "登录" in response.content.decode()
    client.force_login(accountant)
    assert client.get(reverse("accounts:home"))["Cache-Control"] == "no-store"


def test_no_asset_comes_from_another_host():
    """Everything is served from the project's own static files: no CDN, no external fonts."""
    offenders = []
    for folder in ("templates", "static"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".html", ".css", ".js"}:
                text = path.read_text(encoding="utf-8")
                found = re.findall(r"(?:src|href|url)\(?=?[\"']?(?:https?:)?//[^\"' )]+", text)
                offenders += [f"{path}: {match}" for match in found]
    assert offenders == []


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    """manage.py check --deploy reports nothing with DEBUG off and production variables (ASVS 13.4.2)."""
    dropped = {"DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"SECRET_KEY": "p" * 20 + "Q9r8S7t6U5v4W3x2Y1z0a9B8c7D6e5F4g3H2i1J0",
                "ALLOWED_HOSTS": "kjzx.example.gov.cn", "DJANGO_SETTINGS_MODULE": "kjzx.settings",
                "KJZX_VAR_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_audit_history_cannot_be_edited_in_the_admin(client, province_staff, accountant):
    """The admin shows audit rows but offers no add, change or delete (STYLE §3)."""
    from kjzx.audit import record_event

    event = record_event(accountant, "account.registered", by=accountant)
    province_staff.is_staff = province_staff.is_superuser = True
    province_staff.save()
    client.force_login(province_staff)
    assert client.get("/manage/kjzx/auditevent/").status_code == 200
    assert client.get("/manage/kjzx/auditevent/add/").status_code == 403
    assert client.post(f"/manage/kjzx/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/").status_code == 404  # the admin is not at the well-known address
