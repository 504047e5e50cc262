"""Demo data of records (演示数据): archives, collections and changes in every state, in several bureaus.

Each person's story is walked through the real services (archive_update, collection_open,
change_open, workflow_transition), so histories, notifications and due dates are what a real
portal would have; then the stories are moved back in time with queryset updates, so that the
queues show overdue and due-soon work, and the deadline sweeps (kjzx.deadlines) run once so the
reviewers' inboxes have their reminders. Safe to load twice: a person who already has an archive
is left as they are (whatever a demo user did since stays).

Any day of the year: a story's "N working days ago" counts back from the last working day up to
today (:func:`demo_working_day`), so on a weekend or a holiday the queues look as they did at the
end of the last working day (a step due "next working day" is still due soon, R-DL-2), and every
submission and decision of the demo happened on a working day.

Bureaus: 城区 140502 (chengqu1, chengqu2), 沁水 140521 (qinshui1, qinshui2), 小店 140105
(xiaodian1, xiaodian2), 晋城市直 140500 (jincheng, jincheng2), 省直 140000 (sheng, sheng2). First and
second review are always two different people (R-COL-4).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from functools import cache

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.demo import ACCOUNTANTS, DEMO_PASSWORD, demo_id_number
from accounts.models import Role, User, accountant_username
from accounts.validators import uscc_check_char
from kjzx.audit import events_shift
from kjzx.deadlines import due_steps_remind, overdue_steps_escalate
from kjzx.models import AuditEvent, Notification
from kjzx.workdays import is_working_day, working_day_set
from kjzx.workflow import STEP_FIELDS, WorkflowModel, workflow_transition
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication
from records.services import archive_data, archive_for_person, archive_update, change_open, collection_open
from records.uploads import attachment_create

# first and second reviewer of each bureau (usernames of accounts.demo)
REVIEWERS = {
    "140502": ("chengqu1", "chengqu2"),
    "140521": ("qinshui1", "qinshui2"),
    "140105": ("xiaodian1", "xiaodian2"),
    "140500": ("jincheng", "jincheng2"),
    "140000": ("sheng", "sheng2"),
}
ADDRESSES = {
    "140502": "山西省晋城市城区凤台东街{}号",
    "140521": "山西省晋城市沁水县龙港镇梅杏路{}号",
    "140105": "山西省太原市小店区龙城大街{}号",
    "140500": "山西省晋城市城区泽州路{}号",
    "140000": "山西省太原市迎泽区文源巷{}号",
}
# name, first 17 characters of the unified social credit code, unit type
EMPLOYERS = {
    "fengtai": ("晋城市凤台会计服务有限公司", "91140502MA0GR1234", "enterprise"),
    "hospital": ("晋城市城区人民医院", "12140502MB1957640", "institution"),
    "qinshui_finance": ("沁水县财政局", "11140521012345678", "government"),
    "qinshui_energy": ("山西沁水新能源有限公司", "91140521MA0HC2468", "enterprise"),
    "xiaodian_service": ("太原市小店区晋阳街道社区服务中心", "12140105MB0412358", "institution"),
    "jinshang": ("山西晋商连锁超市股份有限公司", "91140105MA0K7Q3X2", "enterprise"),
    "society": ("晋城市会计学会", "51140500MJ1234567", "social_org"),
    "transport": ("晋城市交通运输局", "11140500012003456", "government"),
    "province_service": ("山西省财政厅机关服务中心", "12140000MB1234567", "institution"),
    "student": ("无", "", ""),
}
LOCAL_EMPLOYERS = {  # where a person of each bureau moves to, in a change of employer
    "140502": ("hospital", "fengtai"),
    "140521": ("qinshui_finance", "qinshui_energy"),
    "140105": ("xiaodian_service", "jinshang"),
    "140500": ("society", "transport"),
}
SCHOOLS = {
    "bachelor": ("bachelor", "bachelor", "会计学", "山西财经大学", 22),
    "finance": ("bachelor", "bachelor", "财务管理", "山西大学", 22),
    "audit": ("bachelor", "bachelor", "审计学", "太原理工大学", 22),
    "college": ("junior_college", "none", "会计", "山西省财政税务专科学校", 21),
    "vocational": ("junior_college", "none", "大数据与会计", "晋城职业技术学院", 21),
    "master": ("master", "master", "会计", "山西财经大学", 25),
}
QUALIFICATION_CODES = {"junior": "C", "intermediate": "Z", "senior": "G"}


@dataclass(frozen=True)
class Story:
    """One demo accountant and where their collection and change stand."""

    name: str
    born: dt.date
    sequence: int  # odd: a man (GB 11643)
    jurisdiction: str
    employer: str
    school: str = "bachelor"
    qualification: str = ""  # a QualificationLevel, or none held
    collection: str = "approved"  # "", draft, submitted, first_reviewed, returned, approved
    change: str = ""  # "", draft, submitted, approved, returned, withdrawn
    change_item: str = "contact"  # contact, employer, qualifications
    working_days_ago: int = 0  # when the open step was submitted (0: now)
    reason: str = ""  # a return's reason
    id_region: str = ""  # the ID number's address code (default: the jurisdiction, or 140502)
    ethnicity: str = "汉族"


# The six logins of accounts.demo, one journey each (see load()'s printout).
DEMO_LOGINS = {
    "张伟": Story("张伟", dt.date(1990, 3, 15), 101, "140502", "fengtai", collection=""),
    "王芳": Story("王芳", dt.date(1988, 7, 2), 202, "140502", "hospital", qualification="junior",
                collection="returned", reason="身份证件扫描件不清晰，请重新上传身份证正反面。"),
    "李强": Story("李强", dt.date(1992, 11, 20), 303, "140521", "qinshui_energy", qualification="junior",
                change="submitted", working_days_ago=2),
    "刘敏": Story("刘敏", dt.date(1985, 12, 31), 2, "140502", "fengtai", school="college",
                qualification="intermediate", collection="submitted", working_days_ago=4, id_region="140581"),
    "陈杰": Story("陈杰", dt.date(1995, 5, 8), 405, "140105", "jinshang", change="returned", change_item="employer",
                working_days_ago=3,
                reason="新单位的工作证明未加盖公章，请补充后重新提交。"),
    "杨丽": Story("杨丽", dt.date(1993, 9, 9), 506, "140105", "xiaodian_service", qualification="junior",
                change="approved", change_item="qualifications", working_days_ago=12),
}
LOGIN_STATES = {
    "张伟": "尚未建档：可从头体验“我的信息—信息采集”",
    "王芳": "信息采集已退回（身份证件不清晰）：修改后重新提交",
    "李强": "已采集；档案变更（联系方式）待沁水县审核",
    "刘敏": "信息采集待初审（城区，下一个工作日到期）",
    "陈杰": "已采集；档案变更（工作单位）被退回：修改后重新提交",
    "杨丽": "已采集，变更已办结：可发起新的档案变更",
}

EXTRA = [
    # 城区 140502
    Story("赵磊", dt.date(1987, 4, 12), 111, "140502", "hospital", collection="submitted", working_days_ago=8),
    Story("孙丽娟", dt.date(1991, 6, 23), 122, "140502", "fengtai", qualification="junior",
          collection="first_reviewed", working_days_ago=3),
    Story("冯志刚", dt.date(1996, 1, 30), 131, "140502", "fengtai", school="vocational", collection="draft"),
    Story("周建国", dt.date(1979, 10, 5), 141, "140502", "hospital", school="audit", qualification="senior",
          change="submitted", working_days_ago=13),
    Story("吴静", dt.date(1994, 2, 17), 152, "140502", "fengtai", qualification="junior", change="draft"),
    Story("郑海燕", dt.date(1985, 8, 8), 162, "140502", "hospital", qualification="intermediate",
          change="withdrawn", change_item="employer", working_days_ago=5),
    Story("董立新", dt.date(1982, 12, 1), 171, "140502", "fengtai", school="finance", qualification="intermediate",
          change="approved", change_item="employer", working_days_ago=20),
    # 沁水 140521
    Story("何晓明", dt.date(1993, 3, 3), 211, "140521", "qinshui_energy", collection="submitted", working_days_ago=1),
    Story("高红梅", dt.date(1989, 5, 19), 222, "140521", "qinshui_finance", school="college", collection="returned",
          reason="个人照片不符合要求：请上传近期免冠正面证件照（白底或蓝底）。"),
    Story("罗婷", dt.date(1995, 9, 27), 232, "140521", "qinshui_energy", qualification="junior",
          collection="first_reviewed", working_days_ago=7, ethnicity="回族"),
    Story("田甜", dt.date(1999, 7, 14), 242, "140521", "qinshui_energy", school="vocational", collection="draft"),
    Story("马俊", dt.date(1983, 11, 11), 251, "140521", "qinshui_finance", qualification="intermediate",
          change="approved", change_item="qualifications", working_days_ago=6),
    Story("彭飞", dt.date(1990, 1, 6), 261, "140521", "qinshui_energy", qualification="junior",
          change="returned", change_item="qualifications", working_days_ago=2,
          reason="证明材料与变更事项不符，请上传新取得的资格证书扫描件。"),
    Story("石磊", dt.date(1988, 4, 4), 271, "140521", "qinshui_finance", change="draft", change_item="employer"),
    # 小店 140105
    Story("梁晨", dt.date(2002, 10, 10), 311, "140105", "student", school="vocational", collection="submitted",
          working_days_ago=4),
    Story("唐磊", dt.date(1986, 6, 6), 321, "140105", "jinshang", school="finance", qualification="intermediate",
          collection="first_reviewed", working_days_ago=2),
    Story("范雨", dt.date(1997, 12, 24), 332, "140105", "xiaodian_service", collection="returned",
          reason="学历证书与填写的毕业院校不一致，请核对后重新提交。"),
    Story("宋雪", dt.date(1990, 8, 18), 342, "140105", "jinshang", qualification="junior", change="submitted",
          change_item="qualifications", working_days_ago=9),
    Story("蒋涛", dt.date(1984, 3, 28), 351, "140105", "jinshang", school="audit", qualification="intermediate",
          change="withdrawn", working_days_ago=8),
    # 晋城市直 140500
    Story("曹宇", dt.date(1992, 2, 2), 411, "140500", "transport", collection="submitted", working_days_ago=9),
    Story("袁梦", dt.date(1998, 5, 5), 422, "140500", "society", school="finance", collection="draft"),
    Story("韩冰", dt.date(1988, 9, 9), 432, "140500", "society", qualification="intermediate", change="returned",
          reason="手机号码变更需上传本人身份证件，请补充。"),
    Story("许娜", dt.date(1984, 1, 21), 442, "140500", "transport", school="master", qualification="senior",
          change="draft", change_item="employer", ethnicity="蒙古族"),
    Story("潘志强", dt.date(1980, 6, 30), 451, "140500", "transport", qualification="intermediate",
          change="withdrawn", change_item="qualifications", working_days_ago=4),
    # 省直 140000
    Story("邓文博", dt.date(1981, 7, 7), 511, "140000", "province_service", school="master",
          qualification="senior", collection="submitted", working_days_ago=3, id_region="140105"),
]


# --- scans: small real images and PDFs made in memory ------------------------------------------

@cache
def _scan_bytes(kind: str) -> tuple[str, bytes, str]:
    """(file name, bytes, content type) of a believable scan of ``kind``."""
    if kind == "photo":
        image = Image.new("RGB", (120, 160), (66, 133, 214))
        draw = ImageDraw.Draw(image)
        draw.ellipse((38, 28, 82, 76), fill=(238, 205, 180))
        draw.rectangle((24, 84, 96, 160), fill=(40, 40, 48))
        return "个人照片.png", _encode(image, "PNG"), "image/png"
    if kind == "id_card":
        image = Image.new("RGB", (342, 216), (236, 240, 246))
        draw = ImageDraw.Draw(image)
        draw.rectangle((4, 4, 337, 211), outline=(150, 160, 180), width=3)
        draw.rectangle((232, 40, 316, 148), fill=(200, 210, 225))
        for y in (40, 70, 100, 130, 176):
            draw.line((24, y, 200 if y < 176 else 316, y), fill=(120, 120, 130), width=4)
        return "身份证.png", _encode(image, "PNG"), "image/png"
    names = {"diploma": "毕业证书.pdf", "qualification": "资格证书.pdf", "evidence": "证明材料.pdf"}
    image = Image.new("RGB", (420, 297), (252, 250, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 409, 286), outline=(170, 40, 40), width=4)
    draw.ellipse((300, 190, 380, 270), outline=(200, 30, 30), width=4)  # the seal
    for y in range(70, 190, 24):
        draw.line((50, y, 370, y), fill=(90, 90, 90), width=3)
    return names[kind], _encode(image, "PDF"), "application/pdf"


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _attach(user: User, kind: str) -> Attachment:
    name, content, content_type = _scan_bytes(kind)
    return attachment_create(owner=user, kind=kind, upload=SimpleUploadedFile(name, content, content_type))


# --- the archive's data ----------------------------------------------------------------------

def _years_after(day: dt.date, years: int, month: int, dom: int = 1) -> dt.date:
    return dt.date(day.year + years, month, dom)


def _employer(key: str) -> dict:
    name, first17, unit_type = EMPLOYERS[key]
    return {"name": name, "credit_code": first17 + uscc_check_char(first17) if first17 else "",
            "unit_type": unit_type}


def _archive_data(story: Story, user: User, *, complete: bool) -> dict:
    level, degree, major, school, age = SCHOOLS[story.school]
    graduated = _years_after(story.born, age, 7)
    data = {
        "basic": {"name": story.name, "ethnicity": story.ethnicity},
        "contact": {"mobile": user.mobile, "email": "",
                    "address": ADDRESSES[story.jurisdiction].format(story.sequence % 97 + 1)},
        "education": [{"level": level, "degree": degree, "major": major, "school": school, "mode": "full_time",
                       "graduated_on": graduated.isoformat()}],
        "employer": _employer(story.employer),
        "career": {"began_accounting_on": None if story.employer == "student"
                   else _years_after(graduated, 0, 8).isoformat()},
        "jurisdiction": story.jurisdiction,
    }
    if story.qualification:
        obtained = _years_after(graduated, 3, 9, 20)
        data["qualifications"] = [{"level": story.qualification, "obtained_on": obtained.isoformat(),
                                   "certificate_no": f"{QUALIFICATION_CODES[story.qualification]}{obtained.year}"
                                                     f"{story.jurisdiction}{story.sequence:05d}"}]
    if complete:
        kinds = ["photo", "id_card", "diploma"] + (["qualification"] if story.qualification else [])
        data["attachments"] = [_attach(user, kind).pk for kind in kinds]
        data["pledge_accepted"] = True
    else:  # a draft half-way: identity and contact saved, the rest still to do
        data = {key: data[key] for key in ("basic", "contact", "education", "jurisdiction")}
    return data


def _change_values(story: Story, archive: Archive) -> dict:
    """New values for the story's change item: always different from what the archive holds."""
    if story.change_item == "employer":
        key = next(key for key in LOCAL_EMPLOYERS[story.jurisdiction] if key != story.employer)
        return {"employer": _employer(key)}
    if story.change_item == "qualifications":
        held = archive_data(archive)["qualifications"]
        year = timezone.localdate().year - 1
        new = {"level": "intermediate" if story.qualification == "junior" else "senior",
               "certificate_no": f"Z{year}{story.jurisdiction}{story.sequence:05d}",
               "obtained_on": f"{year}-09-20"}
        return {"qualifications": [*held, new]}
    return {"contact": {"mobile": f"139{story.born:%m%d}{story.sequence:04d}", "email": "",
                        "address": ADDRESSES[story.jurisdiction].format(story.sequence % 89 + 100)}}


# --- walking a story through the services ------------------------------------------------------

def _reviewers(jurisdiction: str) -> tuple[User, User]:
    first, second = REVIEWERS[jurisdiction]
    users = {u.username: u for u in User.objects.filter(username__in=[first, second])}
    return users[first], users[second]


def _walk_collection(story: Story, user: User) -> CollectionApplication | None:
    if not story.collection:
        return None
    archive = archive_for_person(user)
    archive_update(archive=archive, by=user, data=_archive_data(story, user, complete=story.collection != "draft"))
    collection = collection_open(person=user)
    if story.collection == "draft":
        return collection
    collection = workflow_transition(collection, "submit", by=user)
    first, second = _reviewers(story.jurisdiction)
    if story.collection == "returned":
        return workflow_transition(collection, "return", by=first, reason=story.reason)
    if story.collection == "submitted":
        return collection
    collection = workflow_transition(collection, "approve_first", by=first)
    if story.collection == "first_reviewed":
        return collection
    return workflow_transition(collection, "approve_second", by=second)


def _walk_change(story: Story, user: User) -> ChangeRequest | None:
    if not story.change:
        return None
    archive = Archive.objects.get(person=user)
    values = _change_values(story, archive)
    change = change_open(person=user, items=list(values), values=values,
                         attachments=[_attach(user, "evidence").pk])
    if story.change == "draft":
        return change
    change = workflow_transition(change, "submit", by=user)
    reviewer = _reviewers(story.jurisdiction)[0]
    if story.change == "approved":
        return workflow_transition(change, "approve", by=reviewer)
    if story.change == "returned":
        return workflow_transition(change, "return", by=reviewer, reason=story.reason)
    if story.change == "withdrawn":
        return workflow_transition(change, "withdraw", by=user)
    return change


# --- moving a story back in time (demo only: a real history is never rewritten) -----------------

def _last_working_day(day: dt.date) -> dt.date:
    """``day`` if it is a working day, else the last working day before it (R-DL-1)."""
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def demo_working_day(n: int) -> dt.date:
    """The working day ``n`` working days before the last working day up to today (``n == 0``: that day).

    The demo's clock: on a Saturday "submitted 4 working days ago" is 4 before Friday, so a 5-day
    step falls due on Monday, the next working day, exactly as it would on a weekday; counted from
    the Saturday it would fall due on Tuesday and nothing in the queue would be due soon.
    """
    today, span = timezone.localdate(), 2 * n + 30  # covers a Spring Festival; doubled if not
    while True:
        working = sorted(working_day_set(today - dt.timedelta(days=span), today), reverse=True)
        if len(working) > n:
            return working[n]
        span *= 2


def demo_moment(day: dt.date, minute: int) -> dt.datetime:
    """A time on ``day`` in office hours (9:00–10:59); on today before that, a few minutes ago, but today."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(9 + minute // 60 % 2, minute % 60)))
    now = timezone.now()
    start_of_today = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))
    return min(moment, max(now - dt.timedelta(minutes=5), start_of_today))


def _backdate(objects: list, delta: dt.timedelta) -> None:
    """Move these objects' times, their history and their applicant's messages back by ``delta``."""
    for obj in objects:
        model = type(obj)
        fields = [f.name for f in model._meta.concrete_fields if f.get_internal_type() == "DateTimeField"]
        model.objects.filter(pk=obj.pk).update(**{name: F(name) - delta for name in fields})
        events_shift(AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(model),
                                               target_id=str(obj.pk)), -delta)
        if isinstance(obj, WorkflowModel):
            Notification.objects.filter(user_id=obj.applicant_id, title__contains=obj.number).update(
                created_at=F("created_at") - delta)


def _set_due_date(obj: WorkflowModel, key: str) -> None:
    obj.refresh_from_db()
    if obj.in_review:  # the step began on the (moved) submission day (R-DL-1)
        obj.step_begin(key, timezone.localdate(obj.submitted_at))
        type(obj).objects.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in STEP_FIELDS})


def _move_back(story: Story, user: User, collection, change) -> None:
    """The open step was submitted ``working_days_ago``; the collection before a change ~2 months ago."""
    now = timezone.now()
    ago = demo_working_day(story.working_days_ago)
    open_start = demo_moment(ago, 30 + story.sequence % 29)
    archive = Archive.objects.get(person=user)
    files = list(Attachment.objects.filter(owner=user))
    if change is None:
        _backdate([collection, archive, *files], now - open_start)
        _set_due_date(collection, "collection.review")
        return
    collected_on = _last_working_day(ago - dt.timedelta(days=60 + story.sequence % 30))
    collected = demo_moment(collected_on, 60 + story.sequence % 50)
    _backdate([collection, archive, *[a for a in files if a.kind != "evidence"]], now - collected)
    _backdate([change, *[a for a in files if a.kind == "evidence"]], now - open_start)
    # the change's effect on the archive happened with the change, not with the collection
    events_shift(AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(Archive),
                                           target_id=str(archive.pk), event_type="archive.changed"),
                 open_start - collected)
    _set_due_date(change, "change.review")


# --- load ---------------------------------------------------------------------------------------

def _extra_user(story: Story) -> User:
    number = demo_id_number(story.id_region or story.jurisdiction, story.born, story.sequence)
    user, created = User.objects.get_or_create(username=accountant_username(number), defaults={
        "role": Role.ACCOUNTANT, "name": story.name, "id_type": "resident_id", "id_number": number,
        "sex": "M" if story.sequence % 2 else "F", "birth_date": story.born,
        "mobile": f"135{story.born:%y%m}{story.sequence:04d}"})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _login_user(story: Story) -> User:
    address, born, sequence = next((a, b, s) for a, b, s, name, _m in ACCOUNTANTS if name == story.name)
    return User.objects.get(username=accountant_username(demo_id_number(address, born, sequence)))


def _play(story: Story, user: User) -> None:
    if not story.collection or Archive.objects.filter(person=user).exists():
        return  # loaded before (or the person's own journey): leave it as it is
    collection = _walk_collection(story, user)
    change = _walk_change(story, user)
    if story.working_days_ago or change is not None or story.collection in ("approved", "returned"):
        _move_back(story, user, collection, change)  # a bureau's decision is dated on a working day


def load(out) -> None:
    for story in DEMO_LOGINS.values():
        _play(story, _login_user(story))
    for story in EXTRA:
        _play(story, _extra_user(story))
    reminded, escalated = due_steps_remind(), overdue_steps_escalate()
    _report(out, reminded, escalated)


def _report(out, reminded: int, escalated: int) -> None:
    out.write("信息采集与档案变更（演示会计人员密码同上）：")
    for name, state in LOGIN_STATES.items():
        story = DEMO_LOGINS[name]
        out.write(f"  {_login_user(story).login_name}  {name}：{state}")
    out.write(f"  另有 {len(EXTRA)} 名演示会计人员，分布在城区、沁水、小店、晋城市直和省直，"
              "信息采集与档案变更的各个状态都有，其中部分已逾期或即将到期。")
    for code, (first, second) in REVIEWERS.items():
        collections = CollectionApplication.objects.filter(jurisdiction_id=code, status__in=["submitted",
                                                                                            "first_reviewed"])
        changes = ChangeRequest.objects.filter(jurisdiction_id=code, status="submitted")
        overdue = (collections.filter(due_date__lt=timezone.localdate()).count()
                   + changes.filter(due_date__lt=timezone.localdate()).count())
        reviewers = first if first == second else f"{first}/{second}"
        out.write(f"  属地 {code}（{reviewers}）：待审信息采集 {collections.count()} 件、档案变更 "
                  f"{changes.count()} 件，其中逾期 {overdue} 件")
    if reminded or escalated:
        out.write(f"  本次发出到期提醒 {reminded} 件、逾期报上级 {escalated} 件（见审核人员的站内消息）。")
