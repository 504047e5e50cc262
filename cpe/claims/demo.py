"""Demo of other-form credit claims (演示数据：学分登记申请), R-CE-11: a conference claim waiting for 城区,
a paper claim already registered. Through the real services; safe to load twice (skipped when claims exist).
"""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from cpe.claims import services
from cpe.ledger.demo import scan_upload
from cpe.models import CreditClaim
from kjzx.api import DomainError
from records.models import Archive
from records.uploads import attachment_create


def load() -> str:
    if CreditClaim.objects.exists():
        return ""
    bureau = User.objects.filter(username="chengqu1").first()
    people = [a.person for a in Archive.objects.filter(status="active", jurisdiction_id="140502",
                                                        person__isnull=False).select_related("person")
              .order_by("-pk")[:2]]
    if len(people) < 2 or bureau is None:
        return ""
    year = timezone.localdate().year
    made = []
    for person, form, details, approve in (
            (people[0], "conference", {"days": 2}, False),
            (people[1], "paper", {"authorship": "first", "cn_number": "CN14-1021/F"}, True)):
        evidence = attachment_create(owner=person, kind="evidence", upload=scan_upload("证明材料.png"))
        try:
            claim = services.claim_open(person=person, year=year, form=form, details=details, attachments=[evidence.pk])
            claim = services.claim_transition(claim, "submit", by=person)
            if approve:
                services.claim_transition(claim, "approve", by=bureau)
        except DomainError:
            continue
        state = "已登记" if approve else "待城区审核"
        made.append(f"{person.login_name} {person.name}：{claim.get_form_display()}{state}")
    return "学分登记申请：" + "；".join(made) if made else ""
