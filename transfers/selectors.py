"""Transfer reads, scoped to the caller (R-ACL-1, R-ACL-2).

- A person sees the transfers they applied for, and an inbound record bearing their ID number once
  the destination bureau approved it (to claim it, R-TRF-4); one who already had an account when the
  record arrived is its applicant from the start and follows it from ``received`` on.
- A reviewer sees a submitted transfer that leaves from, goes to, or waits in their region: the
  origin follows it after acceptance and the destination sees what is coming (R-TRF-1).
- Provincial staff see the whole province, which is also the exchange's view.

Seeing a transfer is not seeing the archive it moves (:func:`transfer_archive_for`): every door — the
page, ``GET /api/v1/transfers/{id}/`` — asks that one function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils import timezone

from accounts.models import Role
from accounts.scoping import can_act_in, not_found, region_scope
from records.models import Archive
from transfers.models import TRANSFER_NO_RE, TRANSFER_OPEN, ExchangePolicy, Transfer, TransferType


def _reviewer_q(user) -> Q | None:
    region = region_scope(user)
    if region is None:
        return None
    if region.level == region.Level.PROVINCE:
        return Q()
    return (Q(jurisdiction__path__startswith=region.path) | Q(from_region__path__startswith=region.path)
            | Q(to_region__path__startswith=region.path))


def transfer_list(model=Transfer, user=None) -> QuerySet[Transfer]:
    qs = Transfer.objects.select_related("applicant", "archive", "jurisdiction__parent", "from_region__parent",
                                         "to_region__parent")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.role == Role.ACCOUNTANT:
        claimable = Q(type="inbound", status__in=["approved", "claimed"], person_id_type=user.id_type,
                      person_id_number=user.id_number) if user.id_number else Q(pk__in=[])
        return qs.filter(Q(applicant=user) | claimable)
    condition = _reviewer_q(user)
    if condition is None:
        return qs.none()
    return qs.filter(condition, submitted_at__isnull=False)


def transfer_get(model=Transfer, user=None, pk=None) -> Transfer:
    """One transfer inside the caller's scope; anything else is a 404."""
    found = transfer_list(model, user).filter(pk=pk).first()
    if found is None:
        raise not_found(model.objects.all(), pk=pk)  # audited when it exists outside the caller's scope
    return found


def transfer_archive_for(transfer: Transfer, user) -> Archive | None:
    """The archive ``transfer`` moves, if ``user`` may read it now; else None (R-ACL-1).

    The person reads the archive of every transfer :func:`transfer_list` shows them (their own, or the
    inbound record bearing their ID). A bureau reads it while its region holds the archive, or while it
    is the bureau whose step it is (the destination of an intra transfer once the origin accepted: it
    must judge it). Everyone else in the transfer's scope — the destination before acceptance or after
    a rejection, the origin after the archive moved — reads the transfer (number, person, masked ID,
    route, proof, history: R-ACL-3's record of who decided what) but not the archive's contents.
    """
    archive = transfer.archive if transfer.archive_id else None
    if archive is None or not getattr(user, "is_authenticated", False):
        return None
    if user.role != Role.ACCOUNTANT:
        holds_it = can_act_in(user, archive.jurisdiction)
        judges_it = transfer.in_review and can_act_in(user, transfer.jurisdiction)
        if not (holds_it or judges_it):
            return None
    prefetch_related_objects([archive], "education", "qualifications")
    return archive


def transfers_visible_to_reviewer(user) -> QuerySet[Transfer]:
    """For records.selectors.attachment_get: the transfers whose evidence a reviewer may open."""
    condition = _reviewer_q(user)
    if condition is None:
        return Transfer.objects.none()
    return Transfer.objects.filter(condition, submitted_at__isnull=False)


def archive_open_transfer(archive) -> Transfer | None:
    """The open transfer of an archive, which blocks a change or another transfer (R-CHG-4)."""
    return archive.transfers.filter(status__in=TRANSFER_OPEN).first()


def claimable_inbound(user) -> QuerySet[Transfer]:
    """Inbound records approved for this person and not claimed yet (R-TRF-4)."""
    if not user.id_number:
        return Transfer.objects.none()
    return Transfer.objects.filter(type="inbound", status="approved", person_id_type=user.id_type,
                                   person_id_number=user.id_number)


def outbox(limit: int, after: tuple | None = None) -> list[Transfer]:
    """Outbound transfers accepted and not yet acknowledged by the platform, oldest first (API.md §2)."""
    qs = Transfer.objects.filter(type="outbound", status="accepted").select_related("from_region", "archive")
    if after is not None:
        accepted_at, pk = after
        qs = qs.filter(Q(accepted_at__gt=accepted_at) | Q(accepted_at=accepted_at, pk__gt=pk))
    return list(qs.order_by("accepted_at", "pk")[:limit])


def inbound_get(transfer_no: str) -> Transfer:
    """The inbound record the platform sent under this number (API.md §2); anything else is a 404."""
    found = None
    if TRANSFER_NO_RE.match(transfer_no):
        found = Transfer.objects.filter(type="inbound", transfer_no=transfer_no).first()
    if found is None:
        raise Http404
    return found


# --- the outbound answer period (R-TRF-3) -----------------------------------------------------------

@dataclass(frozen=True)
class OutboundTimeout:
    """The province's answer period for an uploaded outbound record: calendar days from the upload
    (``ExchangePolicy.outbound_timeout_days``), after which the record returns to its origin by itself.
    The sweep, the pages and the demo all count it here."""

    days: int

    def returns_at(self, uploaded_at: dt.datetime) -> dt.datetime:
        return uploaded_at + dt.timedelta(days=self.days)

    def returns_on(self, uploaded_at: dt.datetime | None) -> dt.date | None:
        """The day shown to people: 调入地如在此日前仍未接收，将自动退回."""
        return timezone.localdate(self.returns_at(uploaded_at)) if uploaded_at else None

    def uploaded_before(self, now: dt.datetime) -> dt.datetime:
        """A record uploaded before this moment and still unanswered is due to return at ``now``."""
        return now - dt.timedelta(days=self.days)


def outbound_timeout() -> OutboundTimeout:
    return OutboundTimeout(ExchangePolicy.current().outbound_timeout_days)


def transfer_return_by(transfer: Transfer, timeout: OutboundTimeout | None = None) -> dt.date | None:
    """The day an uploaded outbound record comes back by itself if the destination does not answer (R-TRF-3)."""
    if transfer.type != TransferType.OUTBOUND or transfer.status != "uploaded" or not transfer.uploaded_at:
        return None
    return (timeout or outbound_timeout()).returns_on(transfer.uploaded_at)


# --- the exchange monitor (跨省调转交换监控), provincial staff ---------------------------------------

OUTBOUND = Q(type="outbound")
INBOUND = Q(type="inbound")


def _groups(since: dt.datetime) -> dict[str, Q]:
    """The monitor's groups: what waits for the platform, for the destination, and what came back."""
    return {
        "waiting_platform": OUTBOUND & Q(status="accepted"),
        "waiting_destination": OUTBOUND & Q(status="uploaded"),
        # returned after it reached the platform: by the destination province or by the period (R-TRF-3)
        "returned": OUTBOUND & Q(status="returned", uploaded_at__isnull=False, decided_at__gte=since),
        "inbound_received": INBOUND & Q(status="received"),
        "inbound_approved": INBOUND & Q(status="approved"),
        "inbound_rejected": INBOUND & Q(status="rejected", decided_at__gte=since),
    }


ORDER = {
    "waiting_platform": ("accepted_at", "pk"),
    "waiting_destination": ("uploaded_at", "pk"),
    "returned": ("-decided_at", "-pk"),
    "inbound_received": ("submitted_at", "pk"),
    "inbound_approved": ("decided_at", "pk"),
    "inbound_rejected": ("-decided_at", "-pk"),
}


def exchange_overview(since, *, rows: int) -> dict[str, dict]:
    """Each monitor group's first ``rows`` transfers and its full count: one query per group plus one."""
    groups = _groups(since)
    counts = Transfer.objects.aggregate(**{key: Count("pk", filter=q) for key, q in groups.items()})
    base = Transfer.objects.select_related("archive", "from_region__parent", "to_region__parent")
    return {key: {"rows": list(base.filter(q).order_by(*ORDER[key])[:rows]), "count": counts[key]}
            for key, q in groups.items()}
