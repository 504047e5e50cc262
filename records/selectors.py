"""Records reads, always scoped to the caller (R-ACL-1, R-ACL-2; STYLE §5).

- An accountant sees their own archive, applications and attachments.
- A reviewer sees applications of their region's subtree once submitted (``submitted_at`` set; a
  draft, or a change withdrawn before it was ever submitted, is the person's own business),
  archives once their collection was first submitted, and the attachments of what they may see.
  Anything else is a 404.
- The review queue (:func:`review_queue`) spans every kind registered in :data:`QUEUE_MODELS`
  (collections, changes; transfers and claims add theirs), oldest submission first (R-COL-4), at a
  fixed number of queries per page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.fields import CharField
from django.utils import timezone

from accounts.models import Region, Role
from accounts.scoping import get_scoped_or_404, region_filter, regions_visible_to, scope_queryset
from kjzx.workflow import WorkflowModel, annotate_days_left
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication

# kind → model of every workflow whose open items sit in a bureau's queue; transfers and claims
# register theirs in their AppConfig.ready().
QUEUE_MODELS: dict[str, type[WorkflowModel]] = {"collection": CollectionApplication, "change": ChangeRequest}

# Functions user → a queryset of objects (with an ``attachments`` M2M) that reviewer may see; an
# attachment on any of them may be opened. Transfers and claims register theirs.
ATTACHMENT_HOLDERS: list[Callable[[object], QuerySet]] = []

# Functions archive → the open application that blocks a new change or transfer (R-CHG-4).
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


# --- the review queue -------------------------------------------------------------------------

@dataclass
class QueueFilters:
    kind: str = ""
    status: str = ""
    region: str = ""  # a region code inside the caller's scope: its subtree
    overdue: bool = False
    q: str = ""  # a name, an ID number or an application number


def _queue_queryset(kind: str, model, user, filters: QueueFilters, today: dt.date) -> QuerySet:
    qs = scope_queryset(model.objects.filter(model.review_q()), user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.region:
        region = regions_visible_to(user).filter(pk=filters.region).first()
        qs = qs.filter(jurisdiction__path__startswith=region.path) if region else qs.none()
    if filters.overdue:
        qs = qs.filter(due_date__lt=today)
    if filters.q:
        q = filters.q.strip()
        pk = model.pk_from_number(q)
        by_number = Q(pk=pk) if pk else Q(pk__in=[])
        if any(field.name == "archive" for field in model._meta.fields):
            # the person first (two small index lookups), then their applications by the archive FK index
            people = Archive.objects.filter(Q(name=q) | Q(id_number=q.upper())).values("pk")
            qs = qs.filter(Q(archive_id__in=people) | by_number)
        else:  # an institution's filing: by its number only
            qs = qs.filter(by_number)
    return qs.annotate(kind=Value(kind, output_field=CharField())).values("kind", "pk", "submitted_at")


def review_queue(user, filters: QueueFilters | None = None) -> QuerySet:
    """Rows ``{"kind", "pk", "submitted_at"}`` of open work in the caller's region, oldest first (R-COL-4).

    One UNION ALL of index-driven selects; page it, then :func:`queue_page_objects` loads the rows.
    """
    filters = filters or QueueFilters()
    today = timezone.localdate()
    kinds = [filters.kind] if filters.kind in QUEUE_MODELS else list(QUEUE_MODELS)
    parts = [_queue_queryset(kind, QUEUE_MODELS[kind], user, filters, today) for kind in kinds]
    qs = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return qs.order_by("submitted_at", "pk")


def queue_page_objects(rows) -> list[WorkflowModel]:
    """The applications of one queue page, in queue order: one query per kind, whatever the page size."""
    by_kind: dict[str, list[int]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["pk"])
    loaded = {}
    for kind, pks in by_kind.items():
        model = QUEUE_MODELS[kind]
        related = getattr(model, "QUEUE_RELATED", ("archive", "jurisdiction__parent"))
        for obj in model.objects.filter(pk__in=pks).select_related(*related):
            loaded[(kind, obj.pk)] = obj
    objects = [loaded[(row["kind"], row["pk"])] for row in rows if (row["kind"], row["pk"]) in loaded]
    return annotate_days_left(objects)


def queue_status_choices() -> list[tuple[str, str]]:
    """The statuses a queue can be filtered by, across kinds, without repeats."""
    seen: dict[str, str] = {}
    for model in QUEUE_MODELS.values():
        for value, label in model._meta.get_field("status").choices:
            if value in model.REVIEW_STATES and value not in seen:
                seen[value] = str(label)
    return list(seen.items())


def queue_region_choices(user) -> QuerySet[Region]:
    """The regions a reviewer may filter by: their own subtree."""
    return regions_visible_to(user).select_related("parent")
