"""The two refusals every credit source shares, written once (R-CE-12, R-CE-13).

- **Collection approved** (R-CE-12): a person's credits register only once their information
  collection is approved and their archive is in Shanxi — :func:`collection_approved` for one
  archive, :data:`COLLECTION_APPROVED` for a queryset of archives (the bulk case), and
  :data:`NOT_COLLECTED`, the one message.
- **Frozen year** (R-CE-13): once a year's registration has closed nothing registers in it, from any
  source, and :func:`frozen_refusal` is the one message.

The ledger (:func:`cpe.ledger.services.credits_register`) enforces both; online learning, claims,
face-to-face lists and exam lists ask the same predicates early (to grey a button, to sort a row
into "待信息采集完成后登记") and answer with the same words.
"""

from __future__ import annotations

from django.db.models import Q

from records.models import Archive

COLLECTION_APPROVED = Q(status=Archive.Status.ACTIVE, collected_at__isnull=False)
NOT_COLLECTED = "信息采集审核通过后才能登记学分，请先完成信息采集。"


def collection_approved(archive: Archive | None) -> bool:
    """R-CE-12 for one archive: active in Shanxi and its information collection approved."""
    return archive is not None and archive.status == Archive.Status.ACTIVE and archive.collected_at is not None


def frozen_refusal(year: int, consequence: str = "不能再登记或更正该年度学分") -> str:
    """R-CE-13: what every source answers for a year whose registration has closed (the policy's edit
    names its own consequence: its numbers and dates no longer change)."""
    return f"{year}年度学分登记已结束并纳入信用信息档案，{consequence}。"
