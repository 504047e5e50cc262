"""The bureau's workbench pages: queue, application, decisions, scans (R-COL-4/5, R-CHG-2/3, R-ACL-1/3, R-DL-2)."""

from __future__ import annotations

import datetime as dt
import io
from itertools import count

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from kjzx.workflow import workflow_transition
from records.models import Archive, ChangeRequest
from records.services import archive_update
from records.uploads import attachment_create
from tests.factories import PDF_BYTES, login_staff, make_accountant, make_change, make_collection, upload

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
QUEUE = "/workbench/"
CONFLICT = "该申请已被他人处理或当前状态不能执行此操作，请查看最新状态。"
_sequence = count(501, 2)  # distinct valid ID numbers, clear of the personas' (101, 303)


def person(name: str, address: str = "140502"):
    return make_accountant(sequence=next(_sequence), address=address, name=name)


def at(day: int, hour: int = 9, month: int = 1):
    """Travel to a working morning of January 2025 (before the Spring Festival)."""
    return time_machine.travel(dt.datetime(2025, month, day, hour, 0, tzinfo=BEIJING), tick=False)


def detail_url(obj) -> str:
    return reverse(f"workbench_{obj.KIND}", kwargs={"pk": obj.pk})


def transition_url(obj, name: str) -> str:
    return reverse(f"workbench_{obj.KIND}_transition", kwargs={"pk": obj.pk, "name": name})


def queue_page(client, user, **params) -> str:
    """The queue as the reviewer sees it; a search is POSTed as the filter form does (the term stays out of
    the URL: the form redirects to the filters and an opaque search id)."""
    login_staff(client, user)
    if "q" in params:
        response = client.post(QUEUE, params, follow=True)
    else:
        response = client.get(QUEUE, params)
    assert response.status_code == 200
    return response.content.decode()


def listed(page: str, *objs) -> list[bool]:
    return [obj.number in page for obj in objs]


# --- the queue ----------------------------------------------------------------------------------

def test_queue_lists_oldest_submission_first_across_kinds(client, county_reviewer):
    """Applications are reviewed in the order they were submitted, whatever their kind (R-COL-4)."""
    with at(6, 9):
        first = make_collection(person("赵一"))
    with at(6, 10):
        second = make_change(person("钱二"))
    with at(7, 9):
        third = make_collection(person("孙三"))
    page = queue_page(client, county_reviewer)
    positions = [page.index(obj.number) for obj in (first, second, third)]
    assert positions == sorted(positions)
    assert "信息采集" in page and "档案变更" in page and "办理范围：" in page
    assert first.archive.id_number not in page and first.archive.masked_id_number in page  # masked in the list


def test_queue_shows_due_date_and_overdue_in_working_days(client, county_reviewer):
    """Each row shows its due date and the working days left; overdue ones say by how much (R-COL-5, R-DL-2)."""
    with at(6):  # Monday: due 5 working days later, Monday 13 January
        late = make_collection(person("赵一"))
    with at(15):  # due Wednesday 22 January
        fresh = make_collection(person("钱二"))
    with at(15, 15):
        page = queue_page(client, county_reviewer)
    assert "2025-01-13" in page and "逾期2个工作日" in page and "overdue-text" in page
    assert "2025-01-22" in page
    assert late.due_date == dt.date(2025, 1, 13) and fresh.due_date == dt.date(2025, 1, 22)
    with at(22, 15):
        assert "今日到期" in queue_page(client, county_reviewer)


def test_queue_filters_by_kind_status_region_and_overdue(client, city_reviewer, county_reviewer):
    """Filters narrow the queue within the reviewer's region (R-COL-4, R-DL-2)."""
    with at(6):
        old_collection = make_collection(person("赵一"))
        reviewed = make_collection(person("钱二"), "first_reviewed")
    with at(16):
        change = make_change(person("孙三"))
        qinshui = make_collection(person("李四", "140521"), jurisdiction="140521")
    with at(17, 15):
        assert listed(queue_page(client, city_reviewer, kind="change"), old_collection, change) == [False, True]
        assert listed(queue_page(client, city_reviewer, kind="collection"), old_collection, change) == [True, False]
        assert listed(queue_page(client, city_reviewer, status="first_reviewed"),
                      old_collection, reviewed) == [False, True]
        assert listed(queue_page(client, city_reviewer, region="140521"), old_collection, qinshui) == [False, True]
        assert listed(queue_page(client, city_reviewer, overdue="on"),
                      old_collection, reviewed, change, qinshui) == [True, True, False, False]
        # a region outside the reviewer's subtree is refused, never widened
        assert listed(queue_page(client, county_reviewer, region="140521"), old_collection, qinshui) == [True, False]


def test_queue_finds_by_name_id_number_or_application_number(client, county_reviewer):
    """The search box finds a person by name, by ID number (any case of x) or an application by its number."""
    with at(6):
        zhao = make_collection(person("赵一"))
        qian = make_change(person("钱二"))
    assert listed(queue_page(client, county_reviewer, q="赵一"), zhao, qian) == [True, False]
    assert listed(queue_page(client, county_reviewer, q=qian.archive.id_number.lower()), zhao, qian) == [False, True]
    assert listed(queue_page(client, county_reviewer, q=zhao.number), zhao, qian) == [True, False]
    assert listed(queue_page(client, county_reviewer, q="不存在的人"), zhao, qian) == [False, False]


def test_queue_is_scoped_to_the_reviewers_region(client, county_reviewer, other_county_reviewer, city_reviewer,
                                                 other_city_reviewer, province_staff):
    """A county sees its own, a city its counties, the province everything (R-ACL-1)."""
    chengqu = make_collection(person("赵一"))
    qinshui = make_collection(person("钱二", "140521"), jurisdiction="140521")
    xiaodian = make_change(person("孙三", "140105"), jurisdiction="140105")
    everything = (chengqu, qinshui, xiaodian)
    assert listed(queue_page(client, county_reviewer), *everything) == [True, False, False]
    assert listed(queue_page(client, other_county_reviewer), *everything) == [False, True, False]
    assert listed(queue_page(client, city_reviewer), *everything) == [True, True, False]
    assert listed(queue_page(client, other_city_reviewer), *everything) == [False, False, True]
    assert listed(queue_page(client, province_staff), *everything) == [True, True, True]


def test_accountant_cannot_open_the_workbench(client, accountant):
    """The workbench is for reviewers only (R-ACL-2): 403, and anonymous users go to the login page."""
    collection = make_collection(accountant)
    assert client.get(QUEUE).status_code == 302
    client.force_login(accountant)
    assert client.get(QUEUE).status_code == 403
    assert client.get(reverse("workbench_export")).status_code == 403
    assert client.get(detail_url(collection)).status_code == 403
    assert client.post(transition_url(collection, "approve_first")).status_code == 403
    collection.refresh_from_db()
    assert collection.status == "submitted"


def test_queue_page_is_a_fixed_number_of_queries(client, county_reviewer):
    """3 rows or 40 (both kinds), the queue page costs the same number of queries (R-COL-4)."""
    login_staff(client, county_reviewer)

    def queries() -> int:
        client.get(QUEUE)  # warm: one-time lookups (content types, the calendar) do not count
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE)
        assert response.status_code == 200
        return len(captured)

    made = [make_collection(person(f"甲{i}")) if i % 2 == 0 else make_change(person(f"乙{i}")) for i in range(3)]
    few = queries()
    made += [make_collection(person(f"甲{i}")) if i % 2 == 0 else make_change(person(f"乙{i}")) for i in range(3, 40)]
    assert len(made) == 40
    assert queries() == few
    page = client.get(QUEUE).content.decode()
    assert page.count('data-label="申请编号"') == 20 and "第1页，共2页" in page


def test_queue_export_is_the_filtered_queue_in_excel(client, county_reviewer):
    """The Excel export has the page's columns and scope, oldest first, the ID masked (R-COL-4, R-ACL-1)."""
    with at(6):
        zhao = make_collection(person("赵一"))
    with at(7):
        qian = make_change(person("钱二"))
    make_collection(person("李四", "140521"), jurisdiction="140521")
    login_staff(client, county_reviewer)
    response = client.get(reverse("workbench_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("申请编号", "类别", "姓名", "证件号码", "属地", "状态", "提交时间", "办理期限", "剩余工作日")
    assert [r[0] for r in rows[1:]] == [zhao.number, qian.number]
    assert rows[1][2] == "赵一" and rows[1][3] == zhao.archive.masked_id_number and rows[1][5] == "待初审"
    filtered = load_workbook(io.BytesIO(client.get(reverse("workbench_export"), {"kind": "change"}).content)).active
    assert [r[0] for r in filtered.iter_rows(min_row=2, values_only=True)] == [qian.number]


# --- one application ------------------------------------------------------------------------------

def test_detail_shows_the_whole_archive_scans_and_history(client, accountant, county_reviewer):
    """The reviewer sees every collected field, the ID number masked, the scans inline and the history (R-COL-2).

    The whole ID number needs an audited reveal (security item 46; records/tests/test_privacy.py).
    """
    collection = make_collection(accountant)
    login_staff(client, county_reviewer)
    page = client.get(detail_url(collection)).content.decode()
    archive = collection.archive
    assert archive.id_number not in page
    for text in (archive.masked_id_number, "显示完整号码", "汉族", "山西省晋城市城区凤台东街1号", "山西财经大学",
                 "大学本科", "中级", "Z2019140500123", archive.employer_credit_code, "2012-07-01", "晋城市城区",
                 "待初审", "办理期限", "提交信息采集", "初审通过", "未通过原因"):
        assert text in page, text
    for attachment in archive.attachments.all():
        assert f'<img src="/files/{attachment.pk}/"' in page


def test_detail_and_actions_outside_the_region_do_not_exist(client, accountant, other_accountant,
                                                            other_county_reviewer, other_city_reviewer):
    """Another county's or city's reviewer gets 404 for the page, the decision and the scans (R-ACL-1)."""
    collection = make_collection(accountant)
    change = make_change(person("钱二"))
    scan = collection.archive.attachments.first()
    evidence = change.attachments.first()
    for reviewer in (other_county_reviewer, other_city_reviewer):
        login_staff(client, reviewer)
        for obj in (collection, change):
            assert client.get(detail_url(obj)).status_code == 404
            assert client.post(transition_url(obj, "return"), {"reason": "x"}).status_code == 404
        assert client.get(f"/files/{scan.pk}/").status_code == 404
        assert client.get(f"/files/{evidence.pk}/").status_code == 404
    client.force_login(other_accountant)
    assert client.get(f"/files/{scan.pk}/").status_code == 404
    collection.refresh_from_db()
    assert collection.status == "submitted"


def test_two_reviewers_approve_a_collection_through_the_pages(client, accountant, county_reviewer,
                                                              second_reviewer):
    """初审 and 复审 by two different reviewers; the first one is told when trying both (R-COL-4, R-ACL-3)."""
    collection = make_collection(accountant)
    login_staff(client, county_reviewer)
    page = client.get(detail_url(collection)).content.decode()
    assert "初审通过" in page and transition_url(collection, "approve_first") in page
    response = client.post(transition_url(collection, "approve_first"), follow=True)
    assert response.redirect_chain[-1][0] == QUEUE
    assert "已办理：初审通过" in response.content.decode()

    response = client.post(transition_url(collection, "approve_second"), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(collection)
    page = response.content.decode()
    assert CONFLICT in page and "复审须由本属地另一名审核人员办理" in page
    assert transition_url(collection, "approve_second") not in page
    collection.refresh_from_db()
    assert collection.status == "first_reviewed" and collection.first_reviewed_by == county_reviewer

    login_staff(client, second_reviewer)
    response = client.post(transition_url(collection, "approve_second"), follow=True)
    assert "已办理：复审通过" in response.content.decode()
    collection.refresh_from_db()
    assert collection.status == "approved" and collection.approved_by == second_reviewer
    assert Archive.objects.get(pk=collection.archive_id).status == Archive.Status.ACTIVE
    # a late click on a decided application: a message, not an error
    response = client.post(transition_url(collection, "return"), {"reason": "迟到的退回"}, follow=True)
    assert CONFLICT in response.content.decode()


def test_return_needs_a_reason_and_keeps_what_was_typed(client, accountant, county_reviewer):
    """A return without a reason is refused with the message and changes nothing (R-ACL-3)."""
    collection = make_collection(accountant)
    login_staff(client, county_reviewer)
    page = client.get(detail_url(collection)).content.decode()
    assert '<label for="reason-return">未通过原因' in page
    response = client.post(transition_url(collection, "return"), {"reason": "   "})
    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写原因" in page and "autofocus>   </textarea>" in page
    collection.refresh_from_db()
    assert collection.status == "submitted" and collection.reason == ""


def test_return_with_a_reason_goes_back_to_the_person(client, accountant, county_reviewer):
    """Returned with its reason, which the applicant sees (R-COL-4, R-ACL-3)."""
    collection = make_collection(accountant)
    login_staff(client, county_reviewer)
    response = client.post(transition_url(collection, "return"), {"reason": "身份证扫描件不清晰"}, follow=True)
    assert "已退回" in response.content.decode()
    collection.refresh_from_db()
    assert collection.status == "returned" and collection.reason == "身份证扫描件不清晰"
    page = client.get(detail_url(collection)).content.decode()
    assert "身份证扫描件不清晰" in page and county_reviewer.name in page


def test_change_page_shows_before_and_after_then_approval_applies_it(client, accountant, county_reviewer):
    """The reviewer compares old and new values; approval puts the new ones in the archive (R-CHG-2)."""
    change = make_change(accountant)
    login_staff(client, county_reviewer)
    page = client.get(detail_url(change)).content.decode()
    assert "变更前" in page and "变更后" in page and "联系方式" in page
    assert '<td class="changed-old">13800000000</td>' in page
    assert '<td class="changed-new">13911112222</td>' in page
    assert '<td class="">—</td>' in page  # the unchanged (empty) e-mail is not marked
    assert f'<img src="/files/{change.attachments.get().pk}/"' in page  # the evidence, inline

    response = client.post(transition_url(change, "approve"), follow=True)
    assert "已办理：审核通过" in response.content.decode()
    archive = Archive.objects.get(pk=change.archive_id)
    assert archive.mobile == "13911112222" and archive.address == "山西省晋城市城区新市街9号"
    page = client.get(detail_url(change)).content.decode()  # afterwards: old values from the change itself
    assert '<td class="changed-old">13800000000</td>' in page and "已通过" in page


def test_change_with_a_list_section_compares_entry_by_entry(client, county_reviewer):
    """Education and qualifications are compared per entry and field, with their labels (R-CHG-2)."""
    values = {"qualifications": [
        {"level": "intermediate", "certificate_no": "Z2019140500123", "obtained_on": "2019-09-01"},
        {"level": "senior", "certificate_no": "G2024140500001", "obtained_on": "2024-10-01"}]}
    change = make_change(person("赵一"), values=values)
    login_staff(client, county_reviewer)
    page = client.get(detail_url(change)).content.decode()
    assert "第2条 资格级别" in page and '<td class="changed-new">高级</td>' in page
    assert '<td class="changed-old">—</td>' in page  # no second entry before


# --- scans --------------------------------------------------------------------------------------

def test_scan_is_served_inline_to_the_owner_and_reviewer_with_safe_headers(client, accountant, county_reviewer,
                                                                              city_reviewer):
    """The owner and the region's reviewers open a scan; it never runs as a page (R-ACL-1, R-ACL-2)."""
    collection = make_collection(accountant)
    scan = collection.archive.attachments.get(kind="photo")
    for user in (accountant, county_reviewer, city_reviewer):
        login_staff(client, user)
        response = client.get(f"/files/{scan.pk}/")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == "inline; filename*=UTF-8''photo.png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_pdf_scan_keeps_its_chinese_name_and_can_be_framed_by_the_portal(client, accountant, county_reviewer):
    """A PDF opens inline under its original (Chinese) name, embeddable only by the portal's own pages."""
    collection = make_collection(accountant, "draft")
    pdf = attachment_create(owner=accountant, kind="diploma",
                            upload=upload("学历证书.pdf", PDF_BYTES, "application/pdf"))
    scans = [*collection.archive.attachments.values_list("pk", flat=True), pdf.pk]
    archive_update(archive=collection.archive, by=accountant, data={"attachments": scans})
    collection = workflow_transition(collection, "submit", by=accountant)
    login_staff(client, county_reviewer)
    response = client.get(f"/files/{pdf.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "inline; filename*=UTF-8''%E5%AD%A6%E5%8E%86%E8%AF%81%E4%B9%A6.pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    page = client.get(detail_url(collection)).content.decode()
    assert f'<iframe src="/files/{pdf.pk}/" title="' in page  # an <object> would be blocked by object-src 'none'


def test_scan_needs_a_login(client, accountant):
    scan = make_collection(accountant).archive.attachments.first()
    response = client.get(f"/files/{scan.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_change_evidence_is_visible_to_the_reviewer_only_once_submitted(client, county_reviewer):
    """A draft is the person's own business: its evidence is not the bureau's to open (R-ACL-2)."""
    draft = make_change(person("赵一"), "draft")
    evidence = draft.attachments.first()
    login_staff(client, county_reviewer)
    assert client.get(f"/files/{evidence.pk}/").status_code == 404
    assert client.get(detail_url(draft)).status_code == 404
    assert ChangeRequest.objects.filter(pk=draft.pk, status="draft").exists()
