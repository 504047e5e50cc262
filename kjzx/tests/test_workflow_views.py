"""The one HTML door of the workflow kinds (kjzx.workflow_views) and the one pager.

Every reviewer page — collections, changes, transfers — answers a decision the same way: a move that is
not the reviewer's now, or that someone else made first, becomes CONFLICT_MESSAGE (or the Conflict's own
words) and a redirect to the page; a missing reason comes back beside the field with a 400 and changes
nothing (R-ACL-3); a decision leads back to the queue with what was done (R-COL-4).
"""

from __future__ import annotations

import html
import re
from itertools import count
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from kjzx.notifications import notification_send
from kjzx.workflow_views import CONFLICT_MESSAGE
from records.services import archive_for_person
from tests.factories import (
    inbound_body,
    login_staff,
    make_accountant,
    make_active_archive,
    make_change,
    make_collection,
    make_transfer,
)
from transfers.services import inbound_receive

pytestmark = pytest.mark.django_db

QUEUE = "/workbench/"
_sequence = count(701, 2)


def someone(name="赵一"):
    return make_accountant(sequence=next(_sequence), name=name)


KINDS = {
    "collection": lambda person: make_collection(person),
    "change": lambda person: make_change(person),
    "transfer": lambda person: make_transfer(person, "submitted"),
}


def page_url(obj) -> str:
    return reverse(f"workbench_{obj.KIND}", kwargs={"pk": obj.pk})


def move_url(obj, name: str) -> str:
    return reverse(f"workbench_{obj.KIND}_transition", kwargs={"pk": obj.pk, "name": name})


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_answers_a_decision_the_same_way(client, accountant, county_reviewer, kind):
    """Not theirs → the one message and the page; no reason → 400 beside the field; done → the queue (R-ACL-3)."""
    obj = KINDS[kind](accountant)
    login_staff(client, county_reviewer)
    shown = client.get(page_url(obj)).content.decode()
    assert obj.number in shown and move_url(obj, "return") in shown and "办理记录" in shown

    for name in ("withdraw", "no-such-move"):  # the applicant's move, and a name nobody has
        response = client.post(move_url(obj, name), follow=True)
        assert response.redirect_chain == [(page_url(obj), 302)]
        assert str(CONFLICT_MESSAGE) in response.content.decode()

    response = client.post(move_url(obj, "return"), {"reason": "  "})
    assert response.status_code == 400 and "请填写原因" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == "submitted"

    response = client.post(move_url(obj, "return"), {"reason": "请补充证明材料"}, follow=True)
    assert response.redirect_chain == [(QUEUE, 302)]
    assert f"已办理：退回（{obj.number}）" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == "returned" and obj.reason == "请补充证明材料"


def test_a_conflict_says_its_own_words(client, county_reviewer):
    """An effect that refuses (an inbound person who already has an archive here) is a message, not a 500 (R-TRF-4)."""
    person = someone("钱二")
    make_active_archive(person)
    body = inbound_body(id_number=person.id_number, name=person.name, to_region="140502")
    body["person"]["sex"], body["person"]["birth_date"] = person.sex, person.birth_date.isoformat()
    transfer, _created = inbound_receive(body=body)
    login_staff(client, county_reviewer)
    response = client.post(move_url(transfer, "approve"), follow=True)
    assert response.redirect_chain == [(page_url(transfer), 302)]
    assert "该人员在本省已有有效档案" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == "received" and archive_for_person(person).status == "active"


def test_outside_the_region_the_door_does_not_exist(client, accountant, other_county_reviewer):
    """The selector answers before any rule: another county's reviewer gets 404 for the page and the move (R-ACL-1)."""
    obj = make_collection(accountant)
    login_staff(client, other_county_reviewer)
    assert client.get(page_url(obj)).status_code == 404
    assert client.post(move_url(obj, "return"), {"reason": "越权"}).status_code == 404
    assert client.get(move_url(obj, "return")).status_code == 405  # a decision is a POST, never a link


def test_the_pager_keeps_the_filters(client, county_reviewer):
    """One pager for every list: page 2 of a filtered queue is still filtered (R-COL-4)."""
    for i in range(21):
        make_collection(someone(f"孙{i}"))
    login_staff(client, county_reviewer)
    shown = client.get(QUEUE, {"kind": "collection"}).content.decode()
    assert "第1页，共2页" in shown
    # the queue pages by keyset (?after=<the last row>): the next link keeps the filter and counts the page
    next_href = re.search(r'href="(\?kind=collection&amp;after=[^"]+&amp;page=2)"', shown)
    assert next_href, "the next page's link lost the filter"
    second = client.get(QUEUE + html.unescape(next_href.group(1))).content.decode()
    assert "第2页，共2页" in second and 'href="?kind=collection"' in second
    assert len(set(re.findall(r"孙\d+", shown))) == 20 and len(set(re.findall(r"孙\d+", second))) == 1


def test_the_pager_of_my_messages(client, accountant):
    """The same include on 我的消息: 20 a page."""
    for i in range(21):
        notification_send(user=accountant, title=f"消息{i}", body="", link="")
    client.force_login(accountant)
    shown = client.get(reverse("notifications")).content.decode()
    assert "第1页，共2页" in shown and 'href="?page=2"' in shown


def test_the_refusal_lives_in_one_place():
    """no page module outside kjzx/workflow_views.py catches TransitionNotAllowed or words a refusal."""
    apps = ("kjzx", "records", "transfers", "workbench", "cpe")
    root = Path(settings.BASE_DIR)
    found = []
    for app in apps:
        for path in (root / app).rglob("*.py"):
            if "tests" in path.parts or path.name == "workflow_views.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"except[^\n]*TransitionNotAllowed", text) or "该申请已被他人处理" in text:
                found.append(str(path.relative_to(root)))
    assert found == []
