"""The one way to write the audit history (STYLE §3; security promises 55–59).

Services call :func:`record_event` inside their transaction, so a business change and its audit
row commit together or not at all. Event types are dotted names with a Chinese label here.

Every row says who (``actor``, ``actor_role``), what (``event_type``, the target, states, reason,
``extra``), when (``at``) and from where (``ip_address`` by :func:`kjzx.http.client_ip`, and
``user_agent``, cut to 200 characters): during a request the address and the client come from it
(:class:`kjzx.audit_middleware.AuditMiddleware` makes it known), so no caller has to pass them. No
full ID number or mobile number goes into ``extra`` (nor an ID number into ``reason``): they are
masked here, whoever wrote them. Rows join a keyed hash chain and are never changed
(:mod:`kjzx.audit_chain`, ``manage.py audit_verify``).

Events of the request itself, written by the middleware: ``authz.denied`` (a 403), ``scope.not_found``
(a 404 for an object that exists outside the caller's scope: :func:`note_out_of_scope`, called by
``accounts.scoping``), ``data.exported`` (a file download: Excel, CSV, PDF) and ``audit.viewed`` (the
audit log read in the admin). Refusals are rate-limited per (user or address, route, kind):
``AUDIT_DENIALS_PER_MINUTE`` rows a minute, the rest counted into the next row's ``suppressed_before``.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
import time

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F

from kjzx import audit_chain
from kjzx.http import client_ip
from kjzx.models import AuditEvent

EVENT_LABELS: dict[str, str] = {
    "account.registered": "注册账号",
    "account.login": "登录",
    "account.login_failed": "登录失败",
    "account.locked_out": "账号锁定",
    "account.logout": "退出登录",
    "account.password_changed": "修改密码",
    "account.password_reset_requested": "申请重置密码",
    "account.password_reset": "重置密码",
    "account.staff_created": "创建工作人员账号",
    "account.token_created": "签发接口令牌",
    "authz.denied": "拒绝访问（无权限）",
    "scope.not_found": "拒绝访问（不在管辖范围内）",
    "data.exported": "导出或下载文件",
    "audit.viewed": "查阅审计记录",
    "admin.added": "管理后台新增",
    "admin.changed": "管理后台修改",
    "admin.deleted": "管理后台删除",
}

USER_AGENT_MAX = 200


def register_event_labels(labels: dict[str, str]) -> None:
    """Apps add their own event labels at import time (records, transfers, cpe)."""
    EVENT_LABELS.update(labels)


def event_label(event_type: str) -> str:
    return EVENT_LABELS.get(event_type, event_type)


# --- the request being served (set by kjzx.audit_middleware) -----------------------------------------

_REQUEST: contextvars.ContextVar = contextvars.ContextVar("kjzx_audit_request", default=None)


@contextlib.contextmanager
def serving(request):
    """While ``request`` is served, audit rows take its address and client unless told otherwise."""
    token = _REQUEST.set(request)
    try:
        yield
    finally:
        _REQUEST.reset(token)


def current_request():
    return _REQUEST.get()


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def user_agent_of(request) -> str:
    """The client's User-Agent, control characters replaced (no log injection), cut to 200 characters."""
    return _CONTROL.sub("?", request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]


# --- no ID or mobile number in an audit row ---------------------------------------------------------

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def _mask_id_numbers(text: str) -> str:
    from accounts.models import mask_id_number
    from accounts.validators import gb11643_check_char

    def mask(match):
        number = match.group()
        return mask_id_number(number) if gb11643_check_char(number[:17]) == number[17].upper() else number

    return _ID_NUMBER.sub(mask, text)


def mask_personal(text: str, *, mobiles: bool = True) -> str:
    """``text`` with every resident ID number (valid check digit) and, unless told, mobile number masked."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text = _mask_id_numbers(text)
    return _MOBILE.sub(lambda m: f"{m.group()[:3]}****{m.group()[-4:]}", text) if mobiles else text


def _scrub(value):
    if isinstance(value, str):
        return mask_personal(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


# --- writing ----------------------------------------------------------------------------------------

def record_event(
    target: models.Model | None,
    event_type: str,
    *,
    by=None,
    before: str = "",
    after: str = "",
    reason: str = "",
    ip: str | None = None,
    extra: dict | None = None,
    request=None,
) -> AuditEvent:
    """Append one audit row; ``by`` is None for the system (a Celery sweep, the exchange).

    ``request`` (or, when not given, the request being served) supplies the address when ``ip`` is not
    given, and the client. The row joins the hash chain: the chain's lock and head, then the INSERT.
    """
    actor = by if getattr(by, "pk", None) else None
    request = request if request is not None else current_request()
    if ip is None and request is not None:
        ip = client_ip(request)
    return AuditEvent.objects.create(
        actor=actor,
        actor_role=getattr(actor, "role", "") if actor else "system",
        event_type=event_type,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        from_state=before or "",
        to_state=after or "",
        reason=mask_personal(reason or "", mobiles=False),
        ip_address=ip,
        user_agent=user_agent_of(request) if request is not None else "",
        extra=_scrub(extra) if extra else {},
    )


def record_events(rows, event_type: str, *, by=None) -> list[AuditEvent]:
    """Append one audit row per ``(target, fields)`` in one INSERT, for a change that touches many objects
    at once (a calendar correction moving due dates); ``fields`` takes record_event's before, after,
    reason, ip and extra. All targets are of one model."""
    actor = by if getattr(by, "pk", None) else None
    rows = list(rows)
    if not rows:
        return []
    target_type = ContentType.objects.get_for_model(rows[0][0])
    request = current_request()
    ip = client_ip(request) if request is not None else None
    agent = user_agent_of(request) if request is not None else ""
    return AuditEvent.objects.bulk_create([
        AuditEvent(actor=actor, actor_role=getattr(actor, "role", "") if actor else "system", event_type=event_type,
                   target_type=target_type, target_id=str(target.pk), from_state=fields.get("before", ""),
                   to_state=fields.get("after", ""), reason=mask_personal(fields.get("reason", ""), mobiles=False),
                   ip_address=fields.get("ip") or ip, user_agent=agent, extra=_scrub(fields.get("extra", {})))
        for target, fields in rows], batch_size=1000)


def history_for(target: models.Model):
    """The history of one object, oldest first, with actors loaded in the same query."""
    return (
        AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk))
        .select_related("actor")
        .order_by("at", "id")
    )


# --- the request's own events: refusals, downloads, reading the audit log ---------------------------

def _route(request) -> tuple[str, str]:
    """The route pattern and view name (never the path itself: it may hold a number)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return mask_personal(request.path[:200]), ""
    return match.route[:200], (match.view_name or "")[:200]


def _query(request) -> str:
    return mask_personal(request.META.get("QUERY_STRING", ""))[:300]


def _actor(request):
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def note_out_of_scope(qs: models.QuerySet, lookup: dict) -> None:
    """A lookup in the caller's scope found nothing: if the object exists outside it, say so for the audit.

    Called by ``accounts.scoping`` before its 404 (the answer stays a 404: R-ACL-1). Costs one query,
    on that path only, and only while a request is served.
    """
    request = current_request()
    if request is None:
        return
    try:
        pk = qs.filter(**lookup).values_list("pk", flat=True).first()
    except (ValueError, TypeError, ValidationError):
        return
    if pk is not None:
        request._kjzx_out_of_scope = (qs.model, pk)


def out_of_scope_noted(request):
    return getattr(request, "_kjzx_out_of_scope", None)


def _denials_allowed(request, event_type: str, route: str) -> tuple[bool, int]:
    """Whether this refusal gets a row of its own this minute; and how many went unrecorded before."""
    actor = _actor(request)
    who = f"u{actor.pk}" if actor else f"a{client_ip(request) or '-'}"
    digest = hashlib.blake2b(f"{event_type}|{who}|{route}".encode(), digest_size=10).hexdigest()
    counter, overflow = f"kjzx:audit:deny:{digest}:{int(time.time() // 60)}", f"kjzx:audit:deny-over:{digest}"
    try:
        cache.add(counter, 0, 120)
        count = cache.incr(counter)
        if count > settings.AUDIT_DENIALS_PER_MINUTE:
            cache.add(overflow, 0, 86_400)
            cache.incr(overflow)
            return False, 0
        suppressed = cache.get(overflow) or 0
        if suppressed:
            cache.delete(overflow)
        return True, suppressed
    except Exception:  # the cache is down: record every refusal rather than none
        return True, 0


def record_denial(request, response) -> AuditEvent | None:
    """``authz.denied`` for a 403, ``scope.not_found`` for a 404 on an object outside the caller's scope."""
    noted = out_of_scope_noted(request) if response.status_code == 404 else None
    if response.status_code == 403:
        event_type, target = "authz.denied", None
    elif noted is not None:
        model, pk = noted
        event_type, target = "scope.not_found", model(pk=pk)
    else:
        return None
    route, view = _route(request)
    allowed, suppressed = _denials_allowed(request, event_type, route)
    if not allowed:
        return None
    extra = {"route": route, "view": view, "method": request.method, "status": response.status_code}
    if target is not None:
        extra["object"] = target._meta.label_lower
    if suppressed:
        extra["suppressed_before"] = suppressed
    return record_event(target, event_type, by=_actor(request), extra=extra, request=request)


def record_download(request, response) -> AuditEvent:
    """``data.exported``: a file sent as a download (an Excel or CSV list, a dashboard, a PDF)."""
    route, view = _route(request)
    extra = {"route": route, "view": view, "query": _query(request),
             "content_type": response.get("Content-Type", "")[:100]}
    if not getattr(response, "streaming", False):
        extra["bytes"] = len(response.content)
    return record_event(None, "data.exported", by=_actor(request), extra=extra, request=request)


def record_audit_read(request) -> AuditEvent:
    """``audit.viewed``: the audit log was read or searched in the admin (security promise 61)."""
    _route_pattern, view = _route(request)
    return record_event(None, "audit.viewed", by=_actor(request), extra={"view": view, "query": _query(request)},
                        request=request)


# --- the demo's past ----------------------------------------------------------------------------------

def events_shift(events: models.QuerySet, delta) -> int:
    """Demo data only: move these events' times by ``delta`` and re-chain from the first one moved.

    The demo loader builds a believable past (``records.demo``); nothing else changes audit rows. Needs
    the table owner's rights (the append-only trigger is switched off inside this transaction only).
    """
    first = events.order_by("id").values_list("id", flat=True).first()
    if first is None:
        return 0
    with audit_chain.rewriting():
        moved = events.update(at=F("at") + delta)
        audit_chain.rechain(AuditEvent, first)
    return moved
