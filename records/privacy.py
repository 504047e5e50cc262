"""ID numbers: masked by default, shown in full only through an audited reveal (security item 46).

Pages and the API show ``archive.masked_id_number`` (``140***********0022``). A reviewer who needs
the whole number (to check it against the ID scan) asks for it with a reason;
:func:`archive_reveal_id_number` checks the reviewer may see the archive, writes one audit row
``archive.id_revealed`` (actor, archive, reason; never the number itself, item 47) and only then
returns the number. The reveal is not stored anywhere: the next page view is masked again.

The event is written on the archive, not on an application, so it stays out of the applicant's
workflow history (:func:`kjzx.workflow.history_rows` reads the application's own events); the
audit log and "who saw person X's ID" queries (item 54) find it by the archive.
"""

from __future__ import annotations

from django.http import Http404

from kjzx.api import DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.workflow import WorkflowModel
from records import selectors
from records.models import Archive, ChangeRequest, CollectionApplication

REVEAL_EVENT = "archive.id_revealed"
# The reviewer types the reason: the form is not pre-filled and offers no one-click choice,
# and a reason is at least 4 characters ("核对扫描件"), so "ok" or "查" do not pass.
REASON_MIN, REASON_MAX = 4, 200
REASON_SUGGESTIONS = ("核对证件扫描件", "核实申请人身份", "答复申请人咨询")  # examples in help texts only

register_event_labels({REVEAL_EVENT: "查看完整证件号码"})


def archive_visible_to_reviewer(user, archive: Archive) -> bool:
    """True if ``user`` is a reviewer who may read ``archive``: through the archive itself, or an
    application of it in their region that they may open (the workbench's own scope, R-ACL-1)."""
    if not getattr(user, "is_reviewer", False):
        return False
    try:
        selectors.archive_get_for_reviewer(user, archive.pk)
        return True
    except Http404:
        pass
    return any(selectors.application_list(model, user).filter(archive_id=archive.pk).exists()
               for model in (CollectionApplication, ChangeRequest))


def clean_reveal_reason(reason) -> str:
    """The reason as stored: trimmed, 4–200 characters, no NUL; otherwise a DomainError on ``reason``.

    PostgreSQL stores no NUL character (U+0000) in text or jsonb: one in the reason was a 500 (found by
    schemathesis' stateful phase, tests/surface/test_fuzz_stateful.py); it is a 400 like any bad reason.
    """
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise DomainError({"reason": ["请填写查看完整证件号码的原因。"]})
    if "\x00" in text:
        raise DomainError({"reason": ["查看原因中不能含有空字符。"]})
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise DomainError({"reason": [f"查看原因应为{REASON_MIN}至{REASON_MAX}个字。"]})
    return text


def archive_reveal_id_number(*, archive: Archive, by, reason, via: WorkflowModel | None = None,
                             ip: str | None = None) -> str:
    """The full ID number of ``archive`` for a reviewer in scope, with one audit row (security item 46).

    Outside the caller's scope, or for anyone who is not a reviewer (the accountant has their own
    ``/me/archive/``), Http404 before the reason is looked at (R-ACL-1); no reason, or one shorter
    than 4 or longer than 200 characters, a DomainError on ``reason``. Nothing is written then.
    ``via`` is the application the reviewer was looking at; its number goes into the audit row.
    """
    if not archive_visible_to_reviewer(by, archive):
        raise Http404
    text = clean_reveal_reason(reason)
    extra = {"application": via.number, "kind": via.KIND} if via is not None else {}
    record_event(archive, REVEAL_EVENT, by=by, reason=text, ip=ip, extra=extra)
    return archive.id_number
