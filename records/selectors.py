"""Records reads, always scoped to the caller (R-ACL-1, R-ACL-2; STYLE §5).

- An accountant sees their own archive, applications and attachments.
- A reviewer sees applications of their region's subtree once submitted (``submitted_at`` set; a
  draft, or a change withdrawn before it was ever submitted, is the person's own business),
  archives once their collection was first submitted, and the attachments of what they may see.
  Anything else is a 404.
- One open change or transfer per archive (R-CHG-4): :func:`archive_open_refusal` is the one answer
  every door gives.

The review queue over every kind lives above the apps it reads, in the workbench app.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import get_scoped_or_404, region_filter, scope_queryset
from kjzx.workflow import WorkflowModel
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication

# Plug-in points, filled in the AppConfig.ready() of the apps above records (which records cannot
# import): the same rule must hold for applications records does not know.
# - Functions user → a queryset of objects (with an ``attachments`` M2M) that reviewer may see; an
#   attachment on any of them may be opened (transfers, claims, an institution's lists…).
ATTACHMENT_HOLDERS: list[Callable[[object], QuerySet]] = []
# - Functions archive → the open application that blocks a new change or transfer (R-CHG-4; transfers).
OPEN_APPLICATION_CHECKS: list[Callable[[Archive], WorkflowModel | None]] = []


def archive_open_application(archive: Archive) -> WorkflowModel | None:
    """The change or transfer still open on ``archive``, if any (R-CHG-4)."""
    change = archive.changes.filter(status__in=ChangeRequest.OPEN_STATES).first()
    if change is not None:
        return change
    for check in OPEN_APPLICATION_CHECKS:
        found = check(archive)
        if found is not None:
            return found
    return None


def archive_open_refusal(archive: Archive) -> str:
    """Why a new change or transfer cannot start on ``archive`` now, or "" (R-CHG-4).

    The one refusal of every door: the services raise it as a Conflict (409 in the API) under the
    archive's row lock; the pages say it before the person fills a form or uploads a file.
    """
    busy = archive_open_application(archive)
    if busy is None:
        return ""
    return _("您有尚未办结的%(kind)s申请（%(number)s），办结或撤回后才能再次申请。") % {
        "kind": busy.KIND_LABEL, "number": busy.number}


# --- applications -----------------------------------------------------------------------------

def application_list(model: type[WorkflowModel], user) -> QuerySet:
    """The applications of one kind that ``user`` may see."""
    qs = model.objects.select_related("applicant", "jurisdiction__parent", "archive")
    if getattr(user, "role", None) == Role.ACCOUNTANT:
        return scope_queryset(qs, user, owner_field="applicant")
    return scope_queryset(qs.filter(submitted_at__isnull=False), user)


def application_get(model: type[WorkflowModel], user, pk) -> WorkflowModel:
    """One application inside the caller's scope; anything else is a 404 (R-ACL-1, R-ACL-2)."""
    if getattr(user, "role", None) == Role.ACCOUNTANT:
        return get_scoped_or_404(model.objects.select_related("archive", "jurisdiction__parent"), user,
                                 owner_field="applicant", pk=pk)
    qs = model.objects.filter(submitted_at__isnull=False).select_related("applicant", "archive",
                                                                          "jurisdiction__parent")
    return get_scoped_or_404(qs, user, pk=pk)


def collection_list(user) -> QuerySet:
    return application_list(CollectionApplication, user)


def change_list(user) -> QuerySet:
    return application_list(ChangeRequest, user)


def archive_history(archive: Archive) -> QuerySet:
    """The archive's approved changes, newest first (R-CHG-2)."""
    return archive.changes.filter(status="approved").select_related("approved_by").order_by("-decided_at", "-id")


def archive_get_for_reviewer(user, pk) -> Archive:
    """An archive a reviewer may read: in their region, and its collection submitted at least once."""
    qs = Archive.objects.exclude(status=Archive.Status.DRAFT).select_related("jurisdiction__parent")
    return get_scoped_or_404(qs, user, pk=pk)


def raise_404():
    from django.http import Http404

    raise Http404


# --- attachments ------------------------------------------------------------------------------

def attachments_own(user, pks, *, kinds) -> list[Attachment]:
    """The caller's own uploads among ``pks``, of ``kinds``, in the order of ``pks`` (one query): the files
    uploaded with a form that then failed, which the page offers again."""
    if not pks or not getattr(user, "is_authenticated", False):
        return []
    found = {a.pk: a for a in Attachment.objects.filter(owner=user, pk__in=pks, kind__in=list(kinds))}
    return [found[pk] for pk in dict.fromkeys(pks) if pk in found]


def attachment_get(user, pk) -> Attachment:
    """A scan the caller may open: their own, or one attached to something they may see.

    Reviewers: the archives and applications of their region; anyone: what a registered holder
    (transfers, claims, an institution's lists…) lets them see.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise_404()
    qs = Attachment.objects.filter(pk=pk)
    visible = Q(owner=user)
    if getattr(user, "role", None) != Role.ACCOUNTANT:
        condition = region_filter(user, "jurisdiction")
        if condition is not None:
            # A collected archive is its bureau's; one still being collected is the bureau's its
            # submitted collection went to (the person may pick another jurisdiction after a return).
            archives = Archive.objects.filter(status__in=[Archive.Status.ACTIVE, Archive.Status.TRANSFERRED_OUT]
                                              ).filter(condition)
            collections = CollectionApplication.objects.filter(submitted_at__isnull=False).filter(condition)
            changes = ChangeRequest.objects.filter(submitted_at__isnull=False).filter(condition)
            visible |= (Exists(archives.filter(attachments=OuterRef("pk")))
                        | Exists(collections.filter(archive__attachments=OuterRef("pk")))
                        | Exists(changes.filter(attachments=OuterRef("pk"))))
        for holders in ATTACHMENT_HOLDERS:
            visible |= Exists(holders(user).filter(attachments=OuterRef("pk")))
    found = qs.filter(visible).first()
    if found is None:
        raise_404()
    return found
