"""Reads of other-form credit claims (学分登记申请), R-CE-11, R-ACL-1, R-ACL-2.

Scoped like every application's (:func:`records.selectors.application_list`): the person sees their
own claims, a bureau the submitted claims of its region; anything else is a 404.
"""

from __future__ import annotations

from django.db.models import QuerySet

from cpe.models import CEYear, CreditClaim
from records import selectors as records_selectors


def claim_list(user) -> QuerySet[CreditClaim]:
    """The claims ``user`` may see: their own, or a bureau's region's once submitted (R-ACL-1, R-ACL-2)."""
    return records_selectors.application_list(CreditClaim, user).select_related("year")


def claim_get(user, pk) -> CreditClaim:
    """One claim inside the caller's scope; anything else is a 404."""
    return records_selectors.application_get(CreditClaim, user, pk)


def claims_visible_to_reviewer(user) -> QuerySet[CreditClaim]:
    """An attachment holder (``records.selectors.ATTACHMENT_HOLDERS``): the claims whose evidence a reviewer
    may open."""
    return records_selectors.application_list(CreditClaim, user)


def open_years() -> QuerySet[CEYear]:
    """The years a claim may name: those not frozen yet (R-CE-13), newest first."""
    return CEYear.objects.filter(frozen_at__isnull=True).order_by("-year")
