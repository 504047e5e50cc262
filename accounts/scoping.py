"""The one place that decides what a user may see (R-ACL-1, R-ACL-2).

Every selector that returns people, applications, credits or files passes its queryset through
:func:`scope_queryset`. A record outside the caller's scope is indistinguishable from a missing
one: views answer 404, never 403 (STYLE §5).

- An accountant sees only what they own (R-ACL-2).
- A county reviewer sees its county; a city reviewer its city-level units (市直) and all its
  counties; provincial staff the province-level units (省直) and everything in Shanxi (R-ACL-1).
- Other roles see nothing through this door; their own apps give them narrower selectors.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import REVIEWER_ROLES, Region, Role


def region_scope(user) -> Region | None:
    """The region whose subtree a reviewer works in, or None for anyone else."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.role in REVIEWER_ROLES and user.region_id:
        return user.region
    return None


def regions_visible_to(user) -> QuerySet[Region]:
    """The jurisdictions a reviewer may act on, as one indexed prefix query."""
    region = region_scope(user)
    if region is None:
        return Region.objects.none()
    return region.subtree()


def region_filter(user, region_field: str) -> Q | None:
    """A Q limiting ``region_field`` (a FK to Region) to the user's subtree; None if no scope."""
    region = region_scope(user)
    if region is None:
        return None
    if region.level == Region.Level.PROVINCE:
        return Q()  # the whole province: no filter keeps the queries simple and index-friendly
    return Q(**{f"{region_field}__path__startswith": region.path})


def scope_queryset(qs: QuerySet, user, *, region_field: str = "jurisdiction", owner_field: str | None = None
                   ) -> QuerySet:
    """Limit ``qs`` to what ``user`` may see: own records for accountants, own region for reviewers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.role == Role.ACCOUNTANT:
        return qs.filter(**{owner_field: user.pk}) if owner_field else qs.none()
    condition = region_filter(user, region_field)
    return qs.none() if condition is None else qs.filter(condition)


def get_scoped_or_404(qs: QuerySet, user, *, region_field: str = "jurisdiction", owner_field: str | None = None,
                      **lookup):
    """Fetch one object inside the caller's scope; anything else is a 404 (R-ACL-1)."""
    try:
        return scope_queryset(qs, user, region_field=region_field, owner_field=owner_field).get(**lookup)
    except qs.model.DoesNotExist:
        raise not_found(qs, **lookup) from None


def not_found(qs: QuerySet, **lookup) -> Http404:
    """The 404 for a lookup outside the caller's scope; if ``qs`` (unscoped) holds the object, the audit
    row ``scope.not_found`` says so — the answer is the same 404 either way."""
    from kjzx.audit import note_out_of_scope

    note_out_of_scope(qs, lookup)
    return Http404()


def can_act_in(user, region: Region | None) -> bool:
    """True if ``region`` lies inside the reviewer's own region."""
    scope = region_scope(user)
    return scope is not None and scope.contains(region)
