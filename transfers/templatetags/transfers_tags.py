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
    return selectors.transfer_list(Transfer, user).filter(applicant=user).order_by("-created_at", "-id").first()
