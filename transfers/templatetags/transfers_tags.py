"""Template tags for pages outside the transfers app (个人中心), so their views need not know about transfers."""

from django import template

from transfers import selectors
from transfers.models import Transfer

register = template.Library()


@register.simple_tag
def claimable_transfers(user) -> list[Transfer]:
    """Inbound records approved for this person and not claimed yet (R-TRF-4)."""
    if not getattr(user, "is_accountant", False):
        return []
    return list(selectors.claimable_inbound(user).order_by("created_at")[:5])


@register.simple_tag
def latest_transfer(user) -> Transfer | None:
    """The person's most recent transfer request, for its status on 个人中心 (R-TRF-1)."""
    if not getattr(user, "is_accountant", False):
        return None
    # The person's own requests, a subset of what selectors.transfer_list shows them (R-ACL-1), without the
    # list's joins: the page shows the transfer's own fields only.
    return Transfer.objects.filter(applicant=user).order_by("-created_at", "-id").first()
