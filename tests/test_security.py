"""Cross-cutting security promises of the foundation (docs/security.md)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import as_admin, login_staff

ROOT = Path(__file__).resolve().parent.parent
# Routes anyone may open: the front door, login and registration (with the agreement and the privacy
# statement it asks one to accept), reset, health, the API docs, and the check of a credit
# certificate (R-CE-15).
PUBLIC = {"home", "notice_detail", "health", "accounts:register", "accounts:agreement", "accounts:privacy",
          "accounts:login", "accounts:password_reset",
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
    """8 characters, three classes, lockout after 5 for 30 minutes, 30 idle minutes."""
    names = [v["NAME"] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert "accounts.validators.CharacterClassesValidator" in names
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME.total_seconds() == 1800
    assert settings.SESSION_COOKIE_AGE == 1800 and settings.SESSION_TOUCH_SECONDS == 60  # renewed once a minute


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
    as_admin(province_staff, "audit_admin")  # the audit log is the audit administrator's (三权分立)
    login_staff(client, province_staff)
    assert client.get("/manage/kjzx/auditevent/").status_code == 200
    assert client.get("/manage/kjzx/auditevent/add/").status_code == 403
    assert client.post(f"/manage/kjzx/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/").status_code == 404  # the admin is not at the well-known address


# --- Content-Security-Policy (security issue, "No Content-Security-Policy on any page"; item 28) --------

STRICT_CSP = {
    "default-src": {"'self'"}, "script-src": {"'self'"}, "style-src": {"'self'"}, "img-src": {"'self'", "data:"},
    "object-src": {"'none'"}, "base-uri": {"'none'"}, "frame-ancestors": {"'none'"}, "form-action": {"'self'"},
}


def parse_csp(header: str) -> dict[str, set[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: set(sources) for name, *sources in directives}


def crawl(client) -> list:
    """GET every named route (sample kwargs as in the default-deny test), the admin and a missing page."""
    responses = []
    for name, pattern in named_routes():
        kwargs = {key: 1 for key in pattern.pattern.regex.groupindex}
        responses.append((name, client.get(reverse(name, kwargs=kwargs))))
    responses += [("admin", client.get("/manage/")), ("missing", client.get("/no-such-page/"))]
    return responses


@pytest.mark.django_db
def test_every_html_page_carries_the_strict_policy(accountant, county_reviewer, province_staff):
    """Every HTML response of every route, anonymous and as three roles, carries the strict policy.

    Only the API docs relax it (inline styles of Swagger UI); scripts need a nonce everywhere.
    """
    checked = 0
    for user in (None, accountant, county_reviewer, province_staff):
        client = Client(raise_request_exception=False)
        if user is not None:
            login_staff(client, user)
        for name, response in crawl(client):
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            policy = parse_csp(response.get("Content-Security-Policy", ""))
            expected = dict(STRICT_CSP, **({"style-src": {"'self'", "'unsafe-inline'"}} if name == "api-docs" else {}))
            assert policy == expected, (user, name, response.status_code)
            checked += 1
    assert checked >= 100


def test_templates_hold_no_inline_script_and_no_style_attribute():
    """What the strict policy would block is not in the pages: no <script> without a nonce, no style=,
    no on…= handlers. The certificate template is WeasyPrint's input for a PDF, never served as a page."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if path.relative_to(ROOT / "templates").as_posix() == "cpe/certificate.html":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path}: {tag}" for tag in re.findall(r"<script\b[^>]*>", text)
                      if "src=" not in tag and "csp_nonce" not in tag and "CSP_NONCE" not in tag]
        offenders += [f"{path}: {attr}" for attr in re.findall(r"""\s(?:style|on[a-z]+)\s*=\s*["'][^"']*""", text)]
    assert offenders == []


@pytest.mark.django_db
def test_api_docs_serve_their_script_as_a_file(client):
    """Swagger UI's start-up script comes from the same view (?script), so script-src needs no 'unsafe-inline'."""
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200 and "<script>" not in page.content.decode()
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def _middleware_response(content_type: str, **headers):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from kjzx.middleware import ContentSecurityPolicyMiddleware

    def view(request):
        response = HttpResponse(b"x", content_type=content_type)
        for key, value in headers.items():
            response[key.replace("_", "-")] = value
        return response

    middleware = ContentSecurityPolicyMiddleware(view)
    request = RequestFactory().get("/files/1/")
    middleware.process_request(request)
    return middleware.process_response(request, view(request))


def test_files_keep_the_policy_their_view_gives_them():
    """A PDF opens in the browser's viewer (no page policy added); a scan keeps its "sandbox"."""
    assert "Content-Security-Policy" not in _middleware_response("application/pdf", X_Frame_Options="SAMEORIGIN")
    png = _middleware_response("image/png", Content_Security_Policy="sandbox")
    assert png["Content-Security-Policy"] == "sandbox"


def test_a_page_the_portal_may_frame_says_so_in_both_headers():
    """xframe_options_sameorigin → frame-ancestors 'self' (never 'none' beside X-Frame-Options: SAMEORIGIN)."""
    framed = parse_csp(_middleware_response("text/html; charset=utf-8", X_Frame_Options="SAMEORIGIN")[
        "Content-Security-Policy"])
    assert framed == dict(STRICT_CSP, **{"frame-ancestors": {"'self'"}})


def test_an_inline_script_runs_only_with_the_requests_nonce():
    """A template that asks for {{ CSP_NONCE }} gets it in the header of that response only."""
    from django.http import HttpResponse
    from django.template import engines
    from django.test import RequestFactory

    from kjzx.middleware import ContentSecurityPolicyMiddleware

    template = engines["django"].from_string('<script nonce="{{ request.csp_nonce }}">1</script>')

    def view(request):
        return HttpResponse(template.render({}, request))

    middleware = ContentSecurityPolicyMiddleware(view)
    request = RequestFactory().get("/")
    middleware.process_request(request)
    response = middleware.process_response(request, view(request))
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert parse_csp(response["Content-Security-Policy"])["script-src"] == {"'self'", f"'nonce-{nonce}'"}


# --- Under /api/ every error is JSON (security issue, "a malformed id answers an HTML 404") ------------

@pytest.mark.django_db
@pytest.mark.parametrize("path", [
    "/api/v1/collections/abc/", "/api/v1/collections/1.5/", "/api/v1/collections/-1/", "/api/v1/nope/",
    "/api/v1/attachments/9223372036854775808/", "/api/v1/collections/99999999999999999999/", "/api/",
    "/api/exchange/v1/outbound/", "/api/docs/x",
])
def test_malformed_paths_under_api_answer_json(client, accountant, path):
    client.force_login(accountant)
    response = client.get(path)
    assert response.status_code in (401, 403, 404)
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.json()["detail"], str)


@pytest.mark.django_db
def test_a_missing_page_outside_the_api_is_still_a_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_the_api_500_is_json_too():
    from django.test import RequestFactory

    from kjzx.api import server_error

    response = server_error(RequestFactory().get("/api/v1/me/"))
    assert (response.status_code, response["Content-Type"]) == (500, "application/json")
    assert "服务器内部错误" in json.loads(response.content)["detail"]


# --- Database connections (security issue, "a DB_CONN_MAX_AGE of 60 leaked connections") ----------------

def _conn_max_age(*argv: str, **env: str) -> str:
    code = ("import sys; sys.argv = " + repr(["manage.py", *argv]) + "; import kjzx.settings as s; "
            "d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])")
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DB_CONN_MAX_AGE", "DJANGO_SETTINGS_MODULE"}}
    base.update({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "SECRET_KEY": "k" * 50, **env})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True,  # noqa: S603
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_connections_are_not_kept_under_the_threaded_dev_server(tmp_path):
    """runserver starts a thread per request: a kept connection per thread leaked until PostgreSQL refused
    new ones. There, and by default with DEBUG, each request closes its connection; gunicorn keeps 60 s."""
    var = {"KJZX_VAR_DIR": str(tmp_path)}
    assert _conn_max_age("runserver", DEBUG="1", **var) == "0 False"
    assert _conn_max_age("runserver", DEBUG="1", DB_CONN_MAX_AGE="60", **var) == "0 False"
    assert _conn_max_age("check", DEBUG="1", **var) == "0 False"
    assert _conn_max_age("check", **var) == "60 True"
    assert _conn_max_age("check", DB_CONN_MAX_AGE="0", **var) == "0 False"
