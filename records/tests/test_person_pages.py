"""The accountant's records pages: 信息采集 in steps, 我的档案, 档案变更登记 (R-COL-2…4a, R-CHG-1…4, R-DL-2,
R-ACL-2; drafts that never lose work, a collection a phone can finish)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from kjzx.workflow_views import CONFLICT_MESSAGE
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication
from records.services import archive_for_person, archive_update
from tests.factories import (
    PDF_BYTES,
    fill_archive,
    login_staff,
    make_active_archive,
    make_change,
    make_collection,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db

COLLECTION = "/me/collection/"
ARCHIVE = "/me/archive/"
CHANGES = "/me/changes/"


class _FormReader(HTMLParser):
    """What a browser would send for the page's (last) POST form, before the person types anything."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select = None
        self._select_value = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post":
            self.fields = []
        elif tag == "input" and a.get("name") and a.get("type") not in ("file", "submit"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            else:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._select_value = a.get("name"), None
        elif tag == "option" and self._select:
            if self._select_value is None or "selected" in a:
                self._select_value = (a.get("value", ""), "selected" in a)
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields.append((self._textarea, ""))

    def handle_data(self, data):
        if self._textarea:
            self.fields[-1] = (self._textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.append((self._select, self._select_value[0] if self._select_value else ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_of(response) -> dict:
    """The page's form as a POST payload: {name: value or [values]}."""
    reader = _FormReader()
    reader.feed(response.content.decode())
    data: dict = {}
    for name, value in reader.fields:
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
        else:
            data[name] = value
    return data


def page(response) -> str:
    return response.content.decode()


# --- access ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [COLLECTION, ARCHIVE, CHANGES, CHANGES + "new/", CHANGES + "1/"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    """The pages are the person's own (R-ACL-2): without a login they lead to the login page."""
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [COLLECTION, ARCHIVE, CHANGES, CHANGES + "new/"])
def test_bureau_staff_may_not_use_the_accountants_pages(client, county_reviewer, url):
    """A reviewer has no personal archive pages: the role gate answers 403."""
    login_staff(client, county_reviewer)
    assert client.get(url).status_code == 403


def test_another_persons_change_does_not_exist(client, accountant, other_accountant):
    """Another person's change is a 404 on every door, never a 403 (R-ACL-2)."""
    change = make_change(other_accountant, "submitted", jurisdiction="140521")
    client.force_login(accountant)
    assert client.get(f"{CHANGES}{change.pk}/").status_code == 404
    assert client.get(f"{CHANGES}{change.pk}/edit/").status_code == 404
    assert client.post(f"{CHANGES}{change.pk}/withdraw/").status_code == 404
    assert client.post(f"{CHANGES}{change.pk}/submit/").status_code == 404
    change.refresh_from_db()
    assert change.status == "submitted"


# --- 信息采集, in steps (R-COL-2…4a) --------------------------------------------------------

def step(client, slug):
    """The page of one step and what a browser would send from it."""
    response = client.get(f"{COLLECTION}?step={slug}")
    assert response.status_code == 200
    return response, form_of(response)


def post_step(client, slug, changes=None, go="next", **extra):
    """Send one step as a person would: the page's own values, with ``changes`` typed in."""
    _, data = step(client, slug)
    data.update(changes or {})
    if go:
        data["go"] = go
    return client.post(f"{COLLECTION}?step={slug}", {**data, **extra})


def test_collection_page_shows_identity_read_only_and_every_jurisdiction(client, accountant):
    """Identity comes from registration, masked; the 属地 list has 省直, 市直 and counties (R-COL-2)."""
    client.force_login(accountant)
    html = page(client.get(COLLECTION))  # the first step
    assert accountant.masked_id_number in html and accountant.id_number not in html
    assert "张三" in html and "1990-01-01" in html
    assert 'name="basic-name"' not in html  # not editable here
    html = page(step(client, "employer")[0])
    assert '<optgroup label="晋城市">' in html
    for label in ("省直（山西省）", "晋城市市直", "晋城市城区", "太原市小店区"):
        assert label in html
    html = page(step(client, "submit")[0])
    assert "会计人员信息采集承诺书" in html and 'name="pledge_accepted"' in html
    assert 'enctype="multipart/form-data"' in page(step(client, "scans")[0])


def test_the_collection_is_six_steps_with_progress_and_required_markers(client, accountant):
    """信息采集 is six steps with "第 n 步，共 6 步", the current one marked, required fields starred."""
    client.force_login(accountant)
    titles = ("身份信息", "学历", "资格", "工作单位与属地", "扫描件", "承诺与提交")
    for n, slug in enumerate(("identity", "education", "qualifications", "employer", "scans", "submit"), start=1):
        html = page(step(client, slug)[0])
        assert f"第 {n} 步，共 6 步：{titles[n - 1]}" in html
        assert f'href="?step={slug}" aria-current="step"' in html
        assert all(title in html for title in titles)  # every step is a link in the progress
    html = page(step(client, "identity")[0])
    assert "带 <span class=\"req\">*</span> 为必填" in html
    assert re.search(r'<label for="id_contact-address">通讯地址<span class="req" aria-hidden="true">\*</span>', html)
    assert re.search(r'name="contact-address"[^>]*aria-required="true"', html)
    assert not re.search(r'name="contact-email"[^>]*aria-required', html)  # e-mail is optional
    html = page(step(client, "education")[0])
    assert "（选填）" not in html and "学历 第1条" in html  # the one required entry is not "optional"
    assert re.search(r'name="education-0-school"[^>]*aria-required="true"', html)


def test_each_step_saves_and_moves_on_back_or_stays(client, accountant):
    """Each step is its own POST: it saves the draft, then goes on, back, or stays (R-COL-2)."""
    client.force_login(accountant)
    typed = {"basic-ethnicity": "回族", "contact-address": "山西省晋城市城区凤台东街1号"}
    response = post_step(client, "identity", typed)
    assert response.status_code == 302 and response["Location"] == f"{COLLECTION}?step=education&saved=identity"
    archive = Archive.objects.get(person=accountant)
    assert archive.ethnicity == "回族" and archive.address.startswith("山西省晋城市")
    html = page(client.get(response["Location"]))
    assert "“身份信息”已保存" in html and 'data-draft-clear="collection:' in html  # the browser forgets its copy
    response = post_step(client, "education", {"education-0-level": "bachelor", "education-0-school": "山西财经大学",
                                               "education-0-graduated_on": "2012-07-01"}, go="back")
    assert response["Location"] == f"{COLLECTION}?step=identity&saved=education"
    assert list(archive.education.values_list("school", "major")) == [("山西财经大学", "")]
    response = post_step(client, "employer", {"jurisdiction": "140502"}, go="stay")
    assert response["Location"] == f"{COLLECTION}?step=employer&saved=employer"
    assert "草稿已保存" in page(client.get(response["Location"]))
    archive.refresh_from_db()
    assert archive.jurisdiction_id == "140502" and archive.status == Archive.Status.DRAFT
    html = page(step(client, "education")[0])
    assert 'value="山西财经大学"' in html


def test_an_education_row_without_its_date_saves_as_a_draft(client, accountant):
    """A draft may be half-filled (R-COL-2), an education row too; submission names the missing date."""
    client.force_login(accountant)
    response = post_step(client, "education", {"education-0-level": "bachelor", "education-0-school": "山西财经大学"})
    assert response.status_code == 302


def test_a_draft_keeps_every_well_formed_value_and_names_the_rest(client, accountant):
    """One bad e-mail does not lose the rest: the others are saved, the e-mail is named "未保存此项" and
    shown as typed (R-COL-2)."""
    client.force_login(accountant)
    response = post_step(client, "identity", {"basic-ethnicity": "汉族", "contact-mobile": "13911112222",
                                              "contact-email": "zhang@", "contact-address": "凤台东街1号"})
    assert response.status_code == 200
    html = page(response)
    assert "邮箱格式不正确（应如 name@example.com），未保存此项。" in html
    assert 'href="#id_contact-email"' in html and "标出的 1 项未保存" in html
    assert 'value="zhang@"' in html and 'value="凤台东街1号"' in html  # nothing typed is lost
    archive = Archive.objects.get(person=accountant)
    assert (archive.ethnicity, archive.mobile, archive.address, archive.email) == (
        "汉族", "13911112222", "凤台东街1号", "")


def test_malformed_values_are_named_beside_their_fields_and_nothing_is_lost(client, accountant):
    """A wrong mobile or date comes back beside the field with what was typed; the rest of the step is
    saved, the wrong value is not (R-COL-2)."""
    client.force_login(accountant)
    html = page(post_step(client, "identity", {"contact-mobile": "12345", "contact-address": "凤台东街1号"}))
    assert "请修改以下" in html and 'href="#id_contact-mobile"' in html and "未保存此项" in html
    assert 'value="凤台东街1号"' in html and 'value="12345"' in html
    archive = Archive.objects.get(person=accountant)
    assert archive.address == "凤台东街1号" and archive.mobile == accountant.mobile  # the old mobile stays
    html = page(post_step(client, "education", {"education-0-school": "山西财经大学",
                                                "education-0-graduated_on": "2012-13-01"}))
    assert "日期格式应为 YYYY-MM-DD" in html and "学历信息第1条·毕业时间" in html and 'value="山西财经大学"' in html
    assert list(archive.education.values_list("school", "graduated_on")) == [("山西财经大学", None)]


def test_adding_a_row_without_javascript_saves_and_comes_back_with_one_more(client, accountant):
    """"添加一条" works without a script: the step is saved and shown again with a blank row."""
    client.force_login(accountant)
    response = post_step(client, "education", {"education-0-level": "bachelor", "education-0-school": "山西财经大学"},
                         go=None, add="education")
    assert response.status_code == 302 and "rows=1" in response["Location"]
    response = client.get(response["Location"])
    data = form_of(response)
    assert data["education-TOTAL_FORMS"] == "2" and data["education-0-school"] == "山西财经大学"
    assert "已保存，并添加了一条空白记录" in page(response)
    data["add"] = "education"  # a second press with the blank row still empty: one more again
    response = client.post(f"{COLLECTION}?step=education", data)
    assert form_of(client.get(response["Location"]))["education-TOTAL_FORMS"] == "3"
    html = page(client.get(f"{COLLECTION}?step=education"))
    assert '<template data-row-template="education">' in html and "education-__prefix__-school" in html


def test_submitting_an_incomplete_archive_names_every_missing_item_with_its_step(client, accountant):
    """提交审核 with gaps lists each missing item at the top, each a link to the step that mends it; the
    application stays a draft (R-COL-2, R-COL-4a)."""
    client.force_login(accountant)
    post_step(client, "identity", {"basic-ethnicity": "汉族"})
    html = page(step(client, "submit")[0])
    assert "提交审核前，还需补充以下" in html  # said before anything is tried
    response = post_step(client, "submit", go=None, submit="1")
    assert response.status_code == 200
    html = page(response)
    for message in ("草稿已保存，但信息尚不完整", "请至少填写一条学历信息。", "请选择管理属地", "请上传个人照片。",
                    "请上传身份证件扫描件。", "请阅读并确认承诺书。", "联系方式·通讯地址：请填写此项。",
                    "工作单位·工作单位：请填写此项。"):
        assert message in html, message
    for link in ('href="?step=identity#id_contact-address"', 'href="?step=education#section-education"',
                 'href="?step=employer#id_jurisdiction"', 'href="?step=scans#section-attachments"',
                 'href="?step=submit#id_pledge_accepted"'):
        assert link in html, link
    assert CollectionApplication.objects.get(applicant=accountant).status == "draft"
    assert Archive.objects.get(person=accountant).ethnicity == "汉族"


def test_the_steps_with_uploads_submit_to_first_review_with_its_due_date(client, accountant):
    """Step by step, with the scans and the pledge, the collection moves to 待初审 with its due date
    (R-COL-2, R-COL-4, R-COL-4a, R-DL-2)."""
    client.force_login(accountant)
    assert post_step(client, "identity", {"basic-ethnicity": "汉族", "contact-mobile": "13800000000",
                                          "contact-address": "山西省晋城市城区凤台东街1号"}).status_code == 302
    assert post_step(client, "education", {
        "education-0-level": "bachelor", "education-0-degree": "bachelor", "education-0-major": "会计学",
        "education-0-school": "山西财经大学", "education-0-graduated_on": "2012-07-01"}).status_code == 302
    assert post_step(client, "qualifications").status_code == 302  # none held: nothing to fill
    assert post_step(client, "employer", {"employer-name": "无", "jurisdiction": "140502"}).status_code == 302
    response = post_step(client, "scans", {
        "photo": upload("me.png"), "id_card": [upload("id-front.png"), upload("id-back.png", png_bytes((9, 9)))],
        "diploma": upload("diploma.pdf", PDF_BYTES, "application/pdf")})
    assert response["Location"] == f"{COLLECTION}?step=submit&saved=scans"
    response = post_step(client, "submit", {"pledge_accepted": "on"}, go=None, submit="1")
    assert response.status_code == 302 and response["Location"] == f"{COLLECTION}?saved=all"
    collection = CollectionApplication.objects.get(applicant=accountant)
    assert collection.status == "submitted" and collection.jurisdiction_id == "140502"
    assert Archive.objects.get(person=accountant).attachments.count() == 4
    html = page(client.get(response["Location"]))
    assert "待初审" in html and collection.due_date.isoformat() in html and "办理期限" in html
    assert f'data-draft-clear="collection:{accountant.pk}:"' in html  # every step's kept draft is forgotten
    assert "提交信息采集" in html  # the history
    assert 'name="submit"' not in html  # read-only while in review
    assert "id-front.png" in html and f'href="/files/{collection.archive.attachments.first().pk}/"' in html


def test_a_filled_archive_submits_with_the_pledge_already_given(client, accountant):
    """A person whose archive is complete submits straight from the last step (R-COL-4a, R-COL-5)."""
    fill_archive(accountant)
    client.force_login(accountant)
    response, data = step(client, "submit")
    assert data["pledge_accepted"] == "on" and "各步骤的信息已填写完整" in page(response)
    response = client.post(f"{COLLECTION}?step=submit", {**data, "submit": "1"})
    assert response.status_code == 302
    collection = CollectionApplication.objects.get(applicant=accountant)
    assert collection.status == "submitted" and collection.due_date
    assert "已提交审核" in page(client.get(COLLECTION))


def test_no_edits_while_in_review(client, accountant):
    """While the bureau reviews, the page is read-only and a POST changes nothing (R-COL-4)."""
    make_collection(accountant, "first_reviewed")
    client.force_login(accountant)
    html = page(client.get(COLLECTION))
    assert "待复审" in html and "保存草稿" not in html and "山西财经大学" in html
    response = client.post(COLLECTION, {"step": "identity", "go": "stay", "contact-address": "别处"}, follow=True)
    assert "不能修改" in page(response)
    assert Archive.objects.get(person=accountant).address != "别处"


def test_a_post_without_a_known_step_changes_nothing(client, accountant):
    """A POST from an old or forged page names no step: it is refused in words, nothing is blanked."""
    fill_archive(accountant)
    client.force_login(accountant)
    response = client.post(COLLECTION, {"go": "stay"}, follow=True)
    assert "页面已过期" in page(response)
    assert Archive.objects.get(person=accountant).address.startswith("山西省晋城市")


def test_a_returned_application_shows_the_reason_and_is_resubmitted(client, accountant):
    """已退回 shows the reason prominently and the steps again; correcting and resubmitting works (R-COL-4)."""
    make_collection(accountant, "returned")
    client.force_login(accountant)
    html = page(client.get(COLLECTION))
    assert "已退回" in html and "未通过原因" in html and "照片不清晰" in html and "第 1 步，共 6 步" in html
    assert post_step(client, "scans", {"photo": upload("clear.png", png_bytes((10, 10)))}).status_code == 302
    assert post_step(client, "submit", go=None, submit="1").status_code == 302
    collection = CollectionApplication.objects.get(applicant=accountant)
    assert collection.status == "submitted"
    photos = collection.archive.attachments.filter(kind="photo")
    assert [p.name for p in photos] == ["clear.png"]  # the new photo replaced the old one


def test_a_refused_file_is_named_beside_its_input_and_the_accepted_one_is_kept(client, accountant):
    """A file of the wrong type is refused (415) beside its input; a good one uploaded with it is saved
    at once (R-COL-2; a draft keeps every accepted file)."""
    client.force_login(accountant)
    response = post_step(client, "scans", {"photo": upload("me.png"),
                                           "id_card": upload("id.pdf", b"not a pdf at all", "application/pdf")})
    assert response.status_code == 200
    html = page(response)
    assert "id.pdf：只接受 PDF、JPG 或 PNG 文件" in html and "未保存此项" in html
    archive = Archive.objects.get(person=accountant)
    assert [a.name for a in archive.attachments.all()] == ["me.png"]
    assert "已上传，保存后生效" not in html  # it is saved already
    assert post_step(client, "scans", go="stay").status_code == 302  # and stays when the step is saved again
    assert [a.name for a in archive.attachments.all()] == ["me.png"]


def test_the_same_file_uploaded_again_is_recognised_and_not_stored_twice(client, accountant):
    """The same bytes again for the same kind reuse the stored file, and the page says so."""
    client.force_login(accountant)
    post_step(client, "scans", {"id_card": upload("身份证.png")}, go="stay")
    response = post_step(client, "scans", {"id_card": upload("身份证-再次.png")}, go="stay")
    assert response.status_code == 302
    assert "身份证-再次.png 与已上传的“身份证.png”是同一文件，未重复保存。" in page(client.get(response["Location"]))
    archive = Archive.objects.get(person=accountant)
    assert [a.name for a in archive.attachments.all()] == ["身份证.png"]
    assert Attachment.objects.filter(owner=accountant).count() == 1
    post_step(client, "scans", {"photo": upload("身份证.png")}, go="stay")  # the same bytes as another kind
    assert Attachment.objects.filter(owner=accountant).count() == 2
    assert sorted(archive.attachments.values_list("kind", flat=True)) == ["id_card", "photo"]


def test_the_scans_step_opens_the_phone_camera_for_documents(client, accountant):
    """A document's scan can be taken with the phone's camera (capture); the portrait is chosen."""
    client.force_login(accountant)
    html = page(step(client, "scans")[0])
    for kind in ("id_card", "diploma", "qualification"):
        assert re.search(rf'<input type="file" name="{kind}" id="id_{kind}_camera" accept="image/\*,application/pdf" '
                         r'capture="environment"', html), kind
    assert "拍照上传身份证件" in html and 'id="id_photo_camera"' not in html
    assert re.search(r'name="photo"[^>]*aria-required="true"', html)


def test_an_attachment_can_be_removed(client, accountant):
    """Ticking 删除 and saving takes a scan off the archive (R-COL-2)."""
    archive = fill_archive(accountant)
    diploma = archive.attachments.get(kind="diploma")
    client.force_login(accountant)
    assert post_step(client, "scans", {"remove": [str(diploma.pk)]}, go="stay").status_code == 302
    assert not archive.attachments.filter(kind="diploma").exists()


def test_the_text_steps_keep_a_draft_in_the_browser_until_saved(client, accountant):
    """The text steps carry a per-user, per-step key for static/js/collection.js; scans and pledge do not
    (files are never kept in the browser)."""
    client.force_login(accountant)
    for slug in ("identity", "education", "qualifications", "employer"):
        assert f'data-draft-key="collection:{accountant.pk}:{slug}"' in page(step(client, slug)[0])
    for slug in ("scans", "submit"):
        assert "data-draft-key" not in page(step(client, slug)[0])
    assert '<script src="/static/js/collection.js" defer>' in page(client.get(COLLECTION))


# --- 我的档案 ---------------------------------------------------------------------------------------

def test_archive_page_before_collection_points_to_it(client, accountant):
    """Before collection is approved the archive page sends the person to 信息采集."""
    client.force_login(accountant)
    html = page(client.get(ARCHIVE))
    assert "尚未完成信息采集" in html and f'href="{COLLECTION}"' in html


def test_archive_page_shows_the_archive_and_approved_changes_old_and_new(client, accountant):
    """The archive with its approved changes: number, items, date, old → new (R-CHG-2)."""
    change = make_change(accountant, "approved")
    client.force_login(accountant)
    html = page(client.get(ARCHIVE))
    assert "已采集" in html and "山西财经大学" in html and "晋城市城区" in html
    assert change.number in html and "联系方式" in html
    assert "手机号码：13800000000" in html and "手机号码：13911112222" in html
    assert "凤台东街1号" in html and "新市街9号" in html
    assert "变更前" in html and "变更后" in html


# --- 档案变更登记 -------------------------------------------------------------------------------------

def test_change_of_contact_with_evidence_submitted_then_withdrawn(client, accountant):
    """Pick 联系方式, enter new values, upload evidence, submit (待审核), then withdraw (R-CHG-1, R-CHG-3)."""
    make_active_archive(accountant)
    client.force_login(accountant)
    assert f'href="{CHANGES}new/"' in page(client.get(CHANGES))
    assert "请勾选要变更的事项" in page(client.get(CHANGES + "new/"))
    response = client.get(CHANGES + "new/?items=contact")
    data = form_of(response)
    assert data["items"] == "contact" and data["contact-mobile"] == "13800000000"
    data.update({"contact-mobile": "13911112222", "evidence": [upload("proof.pdf", PDF_BYTES, "application/pdf")],
                 "submit": "1"})
    response = client.post(CHANGES + "new/", data)
    change = ChangeRequest.objects.get(applicant=accountant)
    assert response.status_code == 302 and response["Location"] == f"{CHANGES}{change.pk}/"
    assert change.status == "submitted" and change.new_values["contact"]["mobile"] == "13911112222"
    html = page(client.get(response["Location"]))
    assert "待审核" in html and change.due_date.isoformat() in html
    assert "13800000000" in html and "13911112222" in html and "proof.pdf" in html
    assert "确定撤回" in html
    response = client.post(f"{CHANGES}{change.pk}/withdraw/", follow=True)
    assert "已撤回" in page(response)
    change.refresh_from_db()
    assert change.status == "withdrawn"
    assert Archive.objects.get(person=accountant).mobile == "13800000000"


def test_a_second_change_is_refused_while_one_is_open(client, accountant):
    """While a change is open no other can start: the button says why, the service refuses (R-CHG-4)."""
    open_change = make_change(accountant, "submitted")
    client.force_login(accountant)
    html = page(client.get(CHANGES))
    assert "disabled" in html and "尚未办结" in html and open_change.number in html
    response = client.get(CHANGES + "new/", follow=True)
    assert "尚未办结" in page(response)
    data = {"items": "contact", "contact-mobile": "13711112222", "contact-address": "新地址", "save": "1"}
    response = client.post(CHANGES + "new/", data, follow=True)
    assert response.status_code == 200 and "尚未办结" in page(response)
    assert ChangeRequest.objects.filter(applicant=accountant).count() == 1


def test_no_change_before_the_collection_is_approved(client, accountant):
    """A change needs an active archive; before that the page says so (R-CHG-1)."""
    client.force_login(accountant)
    html = page(client.get(CHANGES))
    assert "disabled" in html and "信息采集审核通过后" in html


def test_a_change_without_evidence_stays_draft_with_the_reason_on_the_form(client, accountant):
    """提交 without evidence saves the draft and names what is missing beside the upload (R-CHG-1)."""
    make_active_archive(accountant)
    client.force_login(accountant)
    data = form_of(client.get(CHANGES + "new/?items=contact"))
    data.update({"contact-address": "山西省晋城市城区新市街9号", "submit": "1"})
    response = client.post(CHANGES + "new/", data)
    assert response.status_code == 200
    html = page(response)
    assert "请上传证明材料。" in html and "已保存为草稿" in html and "新市街9号" in html
    change = ChangeRequest.objects.get(applicant=accountant)
    assert change.status == "draft"
    assert f'action="{CHANGES}{change.pk}/edit/"' in html  # the next POST edits this draft


def test_a_change_draft_keeps_every_well_formed_value_and_file(client, accountant):
    """保存草稿 of a change with one bad e-mail saves the rest and the evidence, names the e-mail "未保存此项",
    and the next POST edits that draft (R-CHG-1)."""
    make_active_archive(accountant)
    client.force_login(accountant)
    data = form_of(client.get(CHANGES + "new/?items=contact"))
    data.update({"contact-address": "山西省晋城市城区新市街9号", "contact-email": "zhang@",
                 "evidence": upload("proof.pdf", PDF_BYTES, "application/pdf"), "save": "1"})
    response = client.post(CHANGES + "new/", data)
    assert response.status_code == 200
    html = page(response)
    assert "邮箱格式不正确（应如 name@example.com），未保存此项。" in html and 'value="zhang@"' in html
    change = ChangeRequest.objects.get(applicant=accountant)
    assert change.status == "draft" and change.number in html
    assert change.new_values["contact"]["address"] == "山西省晋城市城区新市街9号"
    assert change.new_values["contact"]["email"] == "" and change.attachments.count() == 1
    assert f'action="{CHANGES}{change.pk}/edit/"' in html  # no second change on the next save
    assert 'data-add-row' not in html  # contact has no rows; the education form's button needs the script:
    html = page(client.get(f"{CHANGES}{change.pk}/edit/?items=education"))
    assert re.search(r'<button type="submit" name="add" value="education"[^>]*data-add-row="education" hidden>', html)


def test_a_change_with_nothing_new_is_refused_in_words(client, accountant):
    """New values equal to the archive's are named, not accepted (R-CHG-1)."""
    make_active_archive(accountant)
    client.force_login(accountant)
    data = form_of(client.get(CHANGES + "new/?items=contact"))
    data.update({"evidence": upload("proof.png"), "submit": "1"})
    html = page(client.post(CHANGES + "new/", data))
    assert "联系方式与档案现有信息相同，无需变更。" in html


def test_a_returned_change_shows_the_reason_and_is_resubmitted(client, accountant):
    """已退回 shows the reason; 修改 then 提交 moves it back to 待审核 (R-CHG-2)."""
    change = make_change(accountant, "returned")
    client.force_login(accountant)
    html = page(client.get(f"{CHANGES}{change.pk}/"))
    assert "已退回" in html and "证明材料不全" in html and f"{CHANGES}{change.pk}/edit/" in html
    data = form_of(client.get(f"{CHANGES}{change.pk}/edit/"))
    assert data["contact-mobile"] == "13911112222"  # the change's own new values
    data.update({"evidence": upload("more-proof.png", png_bytes((9, 9))), "submit": "1"})  # not the first scan again
    response = client.post(f"{CHANGES}{change.pk}/edit/", data)
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "submitted" and change.attachments.count() == 2


def test_education_change_lists_every_entry(client, accountant):
    """A change of 学历信息 carries the whole new list; an added row is kept (R-CHG-1)."""
    make_active_archive(accountant)
    client.force_login(accountant)
    data = form_of(client.get(CHANGES + "new/?items=education"))
    assert data["education-0-school"] == "山西财经大学" and data["education-TOTAL_FORMS"] == "2"
    data.update({"education-1-level": "master", "education-1-degree": "master", "education-1-major": "会计",
                 "education-1-school": "中国人民大学", "education-1-mode": "part_time",
                 "education-1-graduated_on": "2016-07-01", "save": "1"})
    assert client.post(CHANGES + "new/", data).status_code == 302
    change = ChangeRequest.objects.get(applicant=accountant)
    assert [e["school"] for e in change.new_values["education"]] == ["山西财经大学", "中国人民大学"]


def test_a_decided_change_cannot_be_edited_or_withdrawn(client, accountant):
    """An approved change is final: 修改 and 撤回 are refused with a message, not an error page."""
    change = make_change(accountant, "approved")
    client.force_login(accountant)
    response = client.get(f"{CHANGES}{change.pk}/edit/", follow=True)
    assert "只有草稿或已退回的变更申请可以修改" in page(response)
    response = client.post(f"{CHANGES}{change.pk}/withdraw/", follow=True)
    assert response.status_code == 200 and str(CONFLICT_MESSAGE) in page(response)  # the one refusal of every page
    assert "确定撤回" not in page(response)


def test_half_filled_archive_update_via_service_shows_on_the_page(client, accountant):
    """What the API saved, the page shows (one archive behind every door)."""
    archive_update(archive=archive_for_person(accountant), by=accountant,
                   data={"contact": {"mobile": "13800000000", "email": "zs@example.com", "address": ""}})
    client.force_login(accountant)
    assert 'value="zs@example.com"' in page(client.get(COLLECTION))


def test_picking_no_item_asks_for_one(client, accountant):
    """下一步 with nothing ticked says what to do instead of showing an empty form (R-CHG-1)."""
    make_active_archive(accountant)
    client.force_login(accountant)
    html = page(client.get(CHANGES + "new/?next=1"))
    assert "请至少勾选一项要变更的事项。" in html


def test_submitting_a_draft_from_its_page_shows_what_is_missing_on_the_form(client, accountant):
    """提交 on a draft's page with no evidence keeps it a draft and shows the form with the reason (R-CHG-1)."""
    change = make_change(accountant, "draft")
    change.attachments.clear()
    client.force_login(accountant)
    response = client.post(f"{CHANGES}{change.pk}/submit/")
    assert response.status_code == 200
    html = page(response)
    assert "请上传证明材料。" in html and 'value="13911112222"' in html
    assert f'action="{CHANGES}{change.pk}/edit/"' in html
    change.refresh_from_db()
    assert change.status == "draft"
