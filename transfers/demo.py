"""Demo data of transfers (演示数据：档案调转): every intra, outbound and inbound state, in four bureaus.

Each transfer is walked through the real services, exactly as the doors would: the person's
archive through the records demo (:func:`records.demo._play`: a collection approved some weeks
ago), then :func:`transfers.services.transfer_open` with a stamped 工作证明 or a 学籍证明
(:func:`records.uploads.attachment_create`), :func:`kjzx.workflow.workflow_transition` for every
step a person or a bureau takes, and the exchange's own services (``outbound_ack``,
``outbound_result``, ``inbound_receive``, ``outbound_timeouts_return``) for what the national
platform does. Then each story is moved back in time with queryset updates, so the queues show due
and overdue work, and the deadline sweeps run once more so the second ``load_demo`` finds nothing new.

Safe to load twice: a person who already has a transfer, and an inbound number already received,
are left as they are (whatever a demo user did since stays). 西藏 (54) is marked "not connected"
once, so the "暂缓办理" refusal can be shown; if provincial staff reconnect it, a reload leaves it.

Bureaus: 城区 140502, 沁水 140521, 小店 140105, 晋城市直 140500 (reviewers of records.demo).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.demo import demo_id_number
from accounts.models import User
from accounts.services import exchange_token_create
from accounts.validators import uscc_check_char
from kjzx.audit import events_shift
from kjzx.deadlines import due_steps_remind, overdue_steps_escalate
from kjzx.models import AuditEvent
from kjzx.workflow import STEP_FIELDS, workflow_transition
from records.demo import (
    REVIEWERS,
    Story,
    _backdate,
    _extra_user,
    _last_working_day,
    _play,
    _reviewers,
    _scan_bytes,
    demo_moment,
    demo_working_day,
)
from records.models import STUDENT_EMPLOYER, Archive, Attachment, AttachmentKind
from records.uploads import attachment_create
from transfers.models import Province, Transfer, TransferType
from transfers.selectors import outbound_timeout
from transfers.services import inbound_receive, outbound_ack, outbound_result, outbound_timeouts_return, transfer_open

EXCHANGE_CLIENT = "national-platform-demo"
NOT_CONNECTED = ("54", "演示：尚未与全国会计人员管理服务平台对接，暂缓办理跨省调转。")
BUREAUS = ("140502", "140521", "140105", "140500")


@dataclass(frozen=True)
class Move:
    """One demo accountant's transfer out of their bureau, and how far it went."""

    story: Story  # the person; their collection was approved some weeks before
    type: str  # intra, outbound
    state: str  # a status; for outbound also "exchange_returned" and "timed_out"
    to: str  # a region code (intra) or a two-digit province code (outbound)
    to_unit: str
    days_ago: int  # working days since submission (or since opening, for a draft)
    note: str  # what this login shows (printed by load_demo)
    reason: str = ""


def _person(name, born, sequence, jurisdiction, employer, **kwargs) -> Story:
    """An accountant collected 40–60 working days ago in ``jurisdiction`` (sequence 6xx: none of records.demo's)."""
    return Story(name, born, sequence, jurisdiction, employer, working_days_ago=40 + sequence % 20, **kwargs)


D = dt.date
MOVES = [
    # 省内调转 (R-TRF-1, R-TRF-2)
    Move(_person("雷蕾", D(1994, 4, 6), 612, "140105", "jinshang", qualification="junior"),
         "intra", "draft", "140502", "晋城市凤台会计服务有限公司", 1,
         "省内调转草稿（小店→城区）：补充后提交"),
    Move(_person("白雪", D(2003, 1, 12), 602, "140502", "student", school="vocational"),
         "intra", "submitted", "140521", STUDENT_EMPLOYER, 3,
         "省内调转待城区受理（在校学生，调入单位“无”，附学籍证明）"),
    Move(_person("钟慧", D(1987, 10, 3), 642, "140500", "transport", qualification="intermediate"),
         "intra", "submitted", "140105", "山西晋商连锁超市股份有限公司", 12,
         "省内调转待晋城市直受理，已逾期（报省财政厅）"),
    Move(_person("侯亮", D(1989, 6, 18), 621, "140521", "qinshui_energy", qualification="junior"),
         "intra", "accepted", "140502", "晋城市城区人民医院", 4,
         "省内调转沁水已受理，待调入地城区审核"),
    Move(_person("秦朗", D(1986, 2, 27), 601, "140502", "fengtai", school="finance", qualification="intermediate"),
         "intra", "completed", "140500", "晋城市交通运输局", 15,
         "省内调转已完成：档案已由城区调入晋城市直"),
    Move(_person("段鹏", D(1991, 8, 30), 611, "140105", "xiaodian_service"),
         "intra", "rejected", "140521", "沁水县财政局", 9,
         "省内调转被调入地沁水不予通过（见原因）：可重新申请",
         "调入单位出具的工作证明与所填调入单位不一致，不予通过。请核实后重新申请。"),
    Move(_person("汪洋", D(1983, 12, 9), 641, "140500", "society", qualification="intermediate"),
         "intra", "returned", "140502", "晋城市凤台会计服务有限公司", 6,
         "省内调转被晋城市直退回（工作证明未盖章）：可重新申请",
         "工作证明未加盖单位公章，请上传盖章后的扫描件重新申请。"),
    Move(_person("龚琳", D(1995, 3, 21), 622, "140521", "qinshui_finance"),
         "intra", "withdrawn", "140105", "太原市小店区晋阳街道社区服务中心", 5,
         "省内调转已撤回（受理前）"),
    # 跨省调出 (R-TRF-3, API.md §2)
    Move(_person("孟凡", D(1990, 11, 2), 631, "140521", "qinshui_energy", qualification="junior"),
         "outbound", "draft", "12", "天津港财务共享中心", 0,
         "跨省调出草稿（沁水→天津）"),
    Move(_person("贾宁", D(1992, 5, 14), 604, "140502", "hospital", qualification="junior"),
         "outbound", "submitted", "11", "北京市朝阳区某会计师事务所", 2,
         "跨省调出待城区受理（→北京）"),
    Move(_person("邵华", D(1988, 9, 25), 632, "140521", "qinshui_finance", qualification="intermediate"),
         "outbound", "accepted", "13", "石家庄某新能源有限公司", 5,
         "跨省调出沁水已受理，待上传全国平台（在交换接口的待上传列表中）"),
    Move(_person("黎明", D(1985, 7, 7), 613, "140105", "jinshang", school="audit", qualification="intermediate"),
         "outbound", "uploaded", "31", "上海某供应链管理有限公司", 8,
         "跨省调出已上传全国平台，待上海接收"),
    Move(_person("龙腾", D(1982, 1, 19), 643, "140500", "transport", school="master", qualification="senior"),
         "outbound", "completed", "32", "南京某集团有限公司", 20,
         "跨省调出已完成：江苏已接收，档案留作历史（已调出本省）"),
    Move(_person("薛峰", D(1990, 4, 28), 603, "140502", "fengtai", qualification="junior"),
         "outbound", "exchange_returned", "44", "深圳某科技有限公司", 10,
         "跨省调出被调入地广东退回（见原因）：可重新申请",
         "广东省财政厅：工作证明所列单位与调入单位不一致，不予接收。"),
    Move(_person("史佳", D(1993, 10, 16), 614, "140105", "xiaodian_service", qualification="junior"),
         "outbound", "timed_out", "33", "杭州某电子商务有限公司", 26,
         "跨省调出超期自动退回（浙江30日内未接收）：可重新申请；试试调往西藏，见“暂缓办理”"),
    Move(_person("顾盼", D(1996, 12, 1), 644, "140500", "society"),
         "outbound", "withdrawn", "41", "郑州某商贸有限公司", 3,
         "跨省调出已撤回（受理前）"),
]


@dataclass(frozen=True)
class Arrival:
    """One record the national platform brings into Shanxi (跨省调入, R-TRF-4), and the bureau's answer."""

    transfer_no: str
    from_province: str
    to_region: str
    to_unit: str
    person: Story  # name, birth date, sequence; id_region is the ID's (outside) address code
    school: tuple[str, str, str, str]  # level, degree, major, school
    employer: tuple[str, str, str]  # name, first 17 characters of the credit code, unit type
    qualification: str  # a level, or ""
    state: str  # received, approved, claimed, rejected
    days_ago: int
    note: str
    login: bool = False  # the person has registered: they can log in and claim
    reason: str = ""


def _outsider(name, born, sequence, id_region) -> Story:
    return Story(name, born, sequence, "140502", "student", id_region=id_region)


ARRIVALS = [
    Arrival("QG11-000318", "11", "140502", "晋城市凤台会计服务有限公司",
            _outsider("方雅", D(1991, 3, 8), 652, "110105"),
            ("bachelor", "bachelor", "会计学", "中央财经大学"),
            ("北京某咨询有限公司", "91110105MA01C7H2X", "enterprise"), "junior", "received", 2,
            "跨省调入（北京→城区）待城区审核"),
    Arrival("QG13-000742", "13", "140105", "山西晋商连锁超市股份有限公司",
            _outsider("任杰", D(1987, 9, 19), 661, "130102"),
            ("junior_college", "none", "会计", "河北金融学院"),
            ("石家庄某商贸有限公司", "91130102MA0D8K6P3", "enterprise"), "", "received", 11,
            "跨省调入（河北→小店）待小店审核，已逾期"),
    Arrival("QG41-001205", "41", "140521", "沁水县财政局",
            _outsider("温婷", D(1992, 4, 15), 662, "410105"),
            ("bachelor", "bachelor", "财务管理", "河南财经政法大学"),
            ("郑州某物流有限公司", "91410105MA44RT7G2", "enterprise"), "intermediate", "approved", 6,
            "跨省调入（河南→沁水）已通过，待本人认领：登录后在“档案调转”中认领", login=True),
    Arrival("QG61-000511", "61", "140500", "晋城市会计学会",
            _outsider("柴永", D(1984, 11, 23), 671, "610113"),
            ("master", "master", "会计", "西安交通大学"),
            ("西安某软件股份有限公司", "91610113MA6U9C4N1", "enterprise"), "senior", "claimed", 14,
            "跨省调入（陕西→晋城市直）已认领：档案有效，可按本省要求通过档案变更登记完善信息", login=True),
    Arrival("QG15-000097", "15", "140502", "晋城市城区人民医院",
            _outsider("包玉", D(1998, 2, 2), 682, "150102"),
            ("junior_college", "none", "护理", "内蒙古医科大学"),
            ("呼和浩特某医院", "12150102MB0N3L5B8", "institution"), "", "rejected", 7,
            "跨省调入（内蒙古→城区）城区不予通过（见原因），调转终止",
            reason="经核实，该人员未从事会计工作，也未取得会计专业技术资格，不属于本省会计人员信息采集对象。"),
]


# --- walking a story through the services ------------------------------------------------------

def _proof(user: User, kind: str) -> Attachment:
    """A stamped 工作证明, or a 学籍证明 for a student (R-TRF-1): a small real PDF."""
    _name, content, content_type = _scan_bytes("evidence")
    name = "学籍证明.pdf" if kind == AttachmentKind.STUDENT_PROOF else "工作证明（加盖公章）.pdf"
    return attachment_create(owner=user, kind=kind, upload=SimpleUploadedFile(name, content, content_type))


def _walk(move: Move, user: User) -> Transfer:
    kind = AttachmentKind.STUDENT_PROOF if move.to_unit == STUDENT_EMPLOYER else AttachmentKind.EMPLOYMENT_PROOF
    where = {"to_region": move.to} if move.type == TransferType.INTRA else {"to_province": move.to}
    transfer = transfer_open(person=user, type=move.type, to_unit=move.to_unit, attachments=[_proof(user, kind).pk],
                             **where)
    if move.state == "draft":
        return transfer
    transfer = workflow_transition(transfer, "submit", by=user)
    if move.state in ("submitted", "withdrawn"):
        return workflow_transition(transfer, "withdraw", by=user) if move.state == "withdrawn" else transfer
    origin = _reviewers(move.story.jurisdiction)[0]
    if move.state == "returned":
        return workflow_transition(transfer, "return", by=origin, reason=move.reason)
    transfer = workflow_transition(transfer, "accept", by=origin)
    if move.state == "accepted":
        return transfer
    if move.type == TransferType.INTRA:
        destination = _reviewers(move.to)[0]
        if move.state == "rejected":
            return workflow_transition(transfer, "reject", by=destination, reason=move.reason)
        return workflow_transition(transfer, "approve", by=destination)
    return _exchange(move, transfer)


def _exchange(move: Move, transfer: Transfer) -> Transfer:
    """What the national platform does with an accepted outbound record (API.md §2)."""
    transfer = outbound_ack(transfer_no=transfer.transfer_no)
    if move.state == "exchange_returned":
        return outbound_result(transfer_no=transfer.transfer_no, result="rejected", reason=move.reason)
    if move.state == "completed":
        return outbound_result(transfer_no=transfer.transfer_no, result="received")
    return transfer  # uploaded; timed_out returns once moved back past the period (_play_move)


def _play_move(move: Move) -> None:
    user = _extra_user(move.story)
    _play(move.story, user)  # the archive, collected weeks ago (records.demo; skipped if there)
    if Transfer.objects.filter(applicant=user).exists():
        return  # loaded before: leave it as it is
    transfer = _walk(move, user)
    started = _started(move.days_ago, transfer.pk)
    if move.state == "timed_out":  # uploaded longer ago than the province's period (R-TRF-3)
        cutoff = outbound_timeout().uploaded_before(timezone.now())  # uploaded before it: returned by the sweep
        day = timezone.localdate(cutoff) - dt.timedelta(days=5)
        started = min(started, demo_moment(_last_working_day(day), transfer.pk * 7))
    delta = timezone.now() - started
    _move_back(transfer, delta, Attachment.objects.filter(transfers=transfer))
    if move.state == "timed_out":
        outbound_timeouts_return()


def _record(arrival: Arrival, mobile: str) -> dict:
    """The body the national platform posts (API.md §2)."""
    story = arrival.person
    level, degree, major, school = arrival.school
    name, first17, unit_type = arrival.employer
    graduated = D(story.born.year + {"junior_college": 21, "bachelor": 22, "master": 25}[level], 7, 1)
    person = {
        "id_type": "resident_id", "id_number": demo_id_number(story.id_region, story.born, story.sequence),
        "name": story.name, "sex": "M" if story.sequence % 2 else "F", "birth_date": story.born.isoformat(),
        "mobile": mobile,
        "education": [{"level": level, "degree": degree, "major": major, "school": school, "mode": "full_time",
                       "graduated_on": graduated.isoformat()}],
        "qualifications": [],
        "employer": {"name": name, "credit_code": first17 + uscc_check_char(first17), "unit_type": unit_type},
        "began_accounting_on": D(graduated.year, 8, 1).isoformat(),
        "cpe": [{"year": timezone.localdate().year - 1, "total": "96.0", "professional": "64.0", "completed": True}],
    }
    if arrival.qualification:
        obtained = D(graduated.year + 3, 9, 20)
        person["qualifications"] = [{"level": arrival.qualification, "obtained_on": obtained.isoformat(),
                                     "certificate_no": f"{arrival.qualification[0].upper()}{obtained.year}"
                                                       f"{story.id_region}{story.sequence:05d}"}]
    return {"transfer_no": arrival.transfer_no, "from_province": arrival.from_province, "person": person,
            "to_region": arrival.to_region, "to_unit": arrival.to_unit}


def _play_arrival(arrival: Arrival) -> None:
    if Transfer.objects.filter(transfer_no=arrival.transfer_no).exists():
        return  # received before (inbound_receive would answer the same; the decisions are not replayed)
    user = _extra_user(arrival.person) if arrival.login else None  # registered before the record came
    mobile = user.mobile if user else f"137{arrival.person.born:%y%m}{arrival.person.sequence:04d}"
    transfer, _created = inbound_receive(body=_record(arrival, mobile))
    reviewer = _reviewers(arrival.to_region)[0]
    if arrival.state == "rejected":
        transfer = workflow_transition(transfer, "reject", by=reviewer, reason=arrival.reason)
    elif arrival.state in ("approved", "claimed"):
        transfer = workflow_transition(transfer, "approve", by=reviewer)
    if arrival.state == "claimed":
        transfer = workflow_transition(transfer, "claim", by=user)
    archive = [transfer.archive] if transfer.archive_id else []
    _move_back(transfer, timezone.now() - _started(arrival.days_ago, transfer.pk), archive)


# --- moving a story back in time (demo only: a real history is never rewritten) -----------------

def _started(working_days_ago: int, salt: int) -> dt.datetime:
    """When a story began: in office hours, on a working day counted back as records.demo counts."""
    return demo_moment(demo_working_day(working_days_ago), 5 + salt * 7 % 50)


def _move_back(transfer: Transfer, delta: dt.timedelta, others) -> None:
    """Move the transfer, its scans (or the archive it made), history and messages back; its due date follows."""
    _backdate([transfer, *others], delta)
    if not any(isinstance(obj, Archive) for obj in others):  # the archive's own events of this transfer
        events_shift(AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(Archive),
                                               target_id=str(transfer.archive_id), extra__transfer=transfer.number),
                     -delta)
    transfer.refresh_from_db()
    if transfer.in_review:  # the step's due date counts from its (moved) start (R-TRF-2, R-DL-1)
        key = "transfer.origin" if transfer.status == "submitted" else "transfer.destination"
        start = transfer.accepted_at or transfer.submitted_at
        transfer.step_begin(key, timezone.localdate(start))
        Transfer.objects.filter(pk=transfer.pk).update(**{name: getattr(transfer, name) for name in STEP_FIELDS})


# --- load ---------------------------------------------------------------------------------------

def _province_not_connected() -> None:
    code, note = NOT_CONNECTED
    Province.objects.filter(pk=code, note="").update(connected=False, note=note)  # once: staff may undo it


def _exchange_client() -> str | None:
    """The demo platform client's token if made now; None if it was made by an earlier load."""
    if User.objects.filter(username=EXCHANGE_CLIENT).exists():
        return None
    return exchange_token_create(name=EXCHANGE_CLIENT)


def load(out) -> None:
    _province_not_connected()
    for move in MOVES:
        _play_move(move)
    for arrival in ARRIVALS:
        _play_arrival(arrival)
    due_steps_remind()  # the moved-back steps get their reminders and escalations now,
    overdue_steps_escalate()  # so a second load finds nothing to send
    _report(out, _exchange_client())


def _login(story: Story) -> str:
    return demo_id_number(story.id_region or story.jurisdiction, story.born, story.sequence)


def _report(out, token: str | None) -> None:
    out.write("档案调转（演示会计人员密码同上）：")
    for move in MOVES:
        out.write(f"  {_login(move.story)}  {move.story.name}：{move.note}")
    for arrival in ARRIVALS:
        name = arrival.person.name
        who = f"{_login(arrival.person)}  {name}" if arrival.login else f"（未注册）{name}"
        out.write(f"  {who}：{arrival.note}")
    today = timezone.localdate()
    for code in BUREAUS:
        waiting = Transfer.objects.filter(Transfer.review_q(), jurisdiction_id=code)
        late = waiting.filter(due_date__lt=today).count()
        out.write(f"  属地 {code}（{REVIEWERS[code][0]}）：待办调转 {waiting.count()} 件（受理调出、审核调入），"
                  f"其中逾期 {late} 件")
    _report_exchange(out, token)


def _report_exchange(out, token: str | None) -> None:
    code, _note = NOT_CONNECTED
    province = Province.objects.get(pk=code)
    state = "未接入全国平台：申请调往该省将被“暂缓办理”" if not province.connected else "已接入全国平台"
    out.write(f"  省份 {province.name}（{code}）{state}；接入名单和调入地接收期限"
              f"（现为 {outbound_timeout().days} 天）在管理后台 /manage/transfers/ 修改。")
    outbox = Transfer.objects.filter(type=TransferType.OUTBOUND, status="accepted").count()
    out.write(f"全国平台交换接口 /api/exchange/v1/（见 docs/exchange.md）：待上传调出记录 {outbox} 件。")
    if token:
        out.write(f"  接口客户端 {EXCHANGE_CLIENT} 本次新建，令牌（仅此一次显示，请保存）：{token}")
        out.write(f"  用法：curl -H 'Authorization: Bearer {token}' http://localhost:8000/api/exchange/v1/outbound/")
    else:
        out.write(f"  接口客户端 {EXCHANGE_CLIENT} 已在先前载入时创建，令牌只在创建时显示一次；"
                  "需要新令牌请运行 python manage.py create_exchange_token 新名称。")
