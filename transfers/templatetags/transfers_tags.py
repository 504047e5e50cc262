"""Template tags for pages outside the transfers app (个人中心), so their views need not know about transfers."""

from django import template
from django.db import connections
from django.db.models import Value

from transfers import selectors
from transfers.models import Transfer

register = template.Library()


@register.simple_tag
def home_transfers(user) -> dict:
    """For 个人中心, in one query: ``claimable``, the inbound records approved for this person and not claimed
    yet (R-TRF-4, the first five), and ``latest``, the person's most recent transfer request (R-TRF-1)."""
    if not getattr(user, "is_accountant", False):
        return {"claimable": [], "latest": None}
    # The person's own requests, a subset of what selectors.transfer_list shows them (R-ACL-1), without the
    # list's joins: the page shows the transfer's own fields only. One UNION ALL: each branch on its index.
    latest = (Transfer.objects.filter(applicant=user).annotate(home_part=Value("latest"))
              .order_by("-created_at", "-id")[:1])
    claimable = (selectors.claimable_inbound(user).annotate(home_part=Value("claimable"))
                 .order_by("created_at", "id")[:5])
    if connections[latest.db].features.supports_slicing_ordering_in_compound:
        found = list(latest.union(claimable, all=True))
    else:  # SQLite (the embedded default) refuses LIMIT inside a UNION's branches: two queries there
        found = [*latest, *claimable]
    return {"claimable": sorted((t for t in found if t.home_part == "claimable"), key=lambda t: (t.created_at, t.pk)),
            "latest": next((t for t in found if t.home_part == "latest"), None)}
