"""The request's part of the audit history ("Refused requests … wrote no audit row").

:class:`AuditMiddleware` makes the request being served known to :func:`kjzx.audit.record_event`
(so every row written meanwhile — a decision, a reveal, a login — carries the client's address and
User-Agent without the caller passing them), and after the response writes the rows the request
itself deserves:

- ``authz.denied`` for every 403 (pages, API, CSRF), except in the admin site, which writes its own
  ``admin.denied`` (kjzx.admin_site);
- ``scope.not_found`` for a 404 on an object that exists outside the caller's scope
  (``accounts.scoping`` notes it; the answer stays the same 404);
- ``data.exported`` for a file sent as a download (``Content-Disposition: attachment``);
- ``audit.viewed`` when the audit log is read in the admin (security promise 61).

Refusals are rate-limited in :func:`kjzx.audit.record_denial`. The rows are written after the view,
outside its transaction: a refusal is recorded even though the view's work rolled back.
"""

from __future__ import annotations

from kjzx import audit

AUDIT_ADMIN_VIEWS = ("admin:kjzx_auditevent_changelist", "admin:kjzx_auditevent_change")


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit.serving(request):
            response = self.get_response(request)
            self.after(request, response)
        return response

    @staticmethod
    def after(request, response) -> None:
        status = response.status_code
        match = getattr(request, "resolver_match", None)
        in_admin = match is not None and "admin" in match.namespaces
        if status in (403, 404) and not in_admin:
            audit.record_denial(request, response)
        elif status == 200 and response.get("Content-Disposition", "").lower().startswith("attachment"):
            audit.record_download(request, response)
        elif status == 200 and in_admin and match.view_name in AUDIT_ADMIN_VIEWS:
            audit.record_audit_read(request)
