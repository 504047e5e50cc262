"""A small province for the access matrix and the fuzzer (docs/reliability.md, R-ACL-1, R-ACL-2).

Every person has distinctive markers — a name no one else has, the ID number, its masked form, the mobile,
a street and a certificate number — so that a response body can be scanned for anything of a person the
caller may not see. Everything is made through the real services (workflow transitions, uploads, the
ledger, the exchange), at a pinned moment (:data:`NOW`).

People (``Person.key``), objects of every kind each:

===  =========================  ==========================================================================
A    城区 140502 (accountant A)  collection approved, change approved, intra transfer submitted (→ 阳城),
                                claim submitted, CE 2026 complete with its certificate, on institution A's
                                attendance list and on the exam pass list; works for the employer's unit
S    城区 140502                 collection approved, change submitted, claim draft; same unit as A; on the
                                attendance list
B    沁水 140521 (accountant B)  collection approved, change approved, intra transfer submitted, claim
                                submitted; on the exam list
T    太原小店 140105             collection approved, change approved, outbound transfer accepted (in the
                                exchange's outbox), claim submitted
D    城区 140502                 a draft collection only: no bureau sees it yet
I    (北京 → 城区)                an inbound record received from the national platform, no account
===  =========================  ==========================================================================

Actors (``Actor.key``): anonymous, accountant A and B, the county reviewer of 城区 ("inside") and of 沁水
("outside"), the city reviewer of 晋城 ("inside") and of 太原 ("outside"), provincial staff, institution A
(城区, filed, online and face-to-face) and B (太原小店, filing waiting), an employer of A's and S's unit, the
national platform's token, the three administrators, and a reviewer's session with a password and no
second factor.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
from decimal import Decimal

import time_machine

NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a Monday
YEAR = 2026
UNIT_AS = "91140502MA0QXW7K1"  # + check character: the employer's unit (A and S work there)


@dataclasses.dataclass
class Person:
    key: str
    name: str
    county: str
    user: object = None
    archive: object = None
    objects: dict = dataclasses.field(default_factory=dict)  # kind → model instance
    markers: tuple[str, ...] = ()


@dataclasses.dataclass
class Actor:
    key: str
    family: str  # anonymous, accountant, reviewer, institution, employer, exchange, admin
    user: object = None
    scope: str = ""  # a reviewer's region code
    person: str = ""  # an accountant's Person.key
    token: str = ""  # Bearer token for /api/
    sees: frozenset = frozenset()  # Person keys whose markers may appear in this actor's responses

    @property
    def role(self) -> str:
        return getattr(self.user, "role", "") or ""


@dataclasses.dataclass
class World:
    people: dict[str, Person]
    actors: dict[str, Actor]
    things: dict[str, object]  # named objects that belong to no person (institutions, notice, …)

    def markers_foreign_to(self, actor: Actor, allowed: frozenset = frozenset()) -> list[tuple[str, str]]:
        """(person key, marker) of every person ``actor`` may not see."""
        return [(key, marker) for key, person in self.people.items() if key not in actor.sees | allowed
                for marker in person.markers]


def _credit_code(first17: str) -> str:
    from accounts.validators import uscc_check_char

    return first17 + uscc_check_char(first17)


def _xlsx(name: str, rows: list[list]):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _person(key, name, county, sequence, street, certificate, *, born=dt.date(1988, 4, 12)) -> Person:
    from accounts.models import mask_id_number
    from tests.factories import make_accountant

    mobile = f"139{county[2:6]}{sequence:04d}"
    user = make_accountant(address=county, born=born, sequence=sequence, name=name, mobile=mobile)
    markers = (name, user.id_number, mask_id_number(user.id_number), mobile, street, certificate)
    return Person(key=key, name=name, county=county, user=user, markers=markers)


def _fill(person: Person, *, unit: str, unit_name: str):
    """The whole collection form with the person's own street, certificate and unit, and the four scans."""
    from records.services import archive_for_person, archive_update
    from tests.factories import complete_archive_data, make_attachment

    data = complete_archive_data(person.county)
    data["basic"]["name"] = person.name
    data["contact"].update(mobile=person.markers[3], address=f"山西省{person.markers[4]}")
    data["qualifications"][0]["certificate_no"] = person.markers[5]
    data["employer"].update(name=unit_name, credit_code=unit)
    scans = [make_attachment(person.user, kind) for kind in ("photo", "id_card", "diploma", "qualification")]
    data["attachments"] = [scan.pk for scan in scans]
    person.archive = archive_update(archive=archive_for_person(person.user), by=person.user, data=data)
    person.objects["attachment"] = scans[0]


def _collect(person: Person, first, second, *, approve: bool = True):
    from kjzx.workflow import workflow_transition
    from records.services import collection_open

    collection = collection_open(person=person.user)
    if approve:
        collection = workflow_transition(collection, "submit", by=person.user)
        collection = workflow_transition(collection, "approve_first", by=first)
        collection = workflow_transition(collection, "approve_second", by=second)
        person.archive.refresh_from_db()
    person.objects["collection"] = collection


def _change(person: Person, reviewer, *, approve: bool):
    from kjzx.workflow import workflow_transition
    from records.services import change_open
    from tests.factories import make_attachment

    values = {"contact": {"mobile": person.markers[3], "email": "", "address": f"山西省{person.markers[4]}甲"}}
    change = change_open(person=person.user, items=list(values), values=values,
                         attachments=[make_attachment(person.user, "evidence").pk])
    change = workflow_transition(change, "submit", by=person.user)
    if approve:
        change = workflow_transition(change, "approve", by=reviewer)
    person.objects["change"] = change


def _transfer(person: Person, *, outbound_by=None):
    from kjzx.workflow import workflow_transition
    from tests.factories import make_attachment
    from transfers.services import transfer_open

    proof = make_attachment(person.user, "employment_proof")
    if outbound_by is None:
        transfer = transfer_open(person=person.user, type="intra", to_region="140522", to_unit="阳城县某会计师事务所",
                                 attachments=[proof.pk])
        transfer = workflow_transition(transfer, "submit", by=person.user)
    else:
        transfer = transfer_open(person=person.user, type="outbound", to_province="11", to_unit="北京某公司",
                                 attachments=[proof.pk])
        transfer = workflow_transition(transfer, "submit", by=person.user)
        transfer = workflow_transition(transfer, "accept", by=outbound_by)
    person.objects["transfer"] = transfer


def _claim(person: Person, *, submit: bool):
    from cpe.claims.services import claim_open, claim_transition
    from tests.factories import make_attachment

    claim = claim_open(person=person.user, year=YEAR, form="conference", details={"days": 2},
                       attachments=[make_attachment(person.user, "evidence").pk])
    if submit:
        claim = claim_transition(claim, "submit", by=person.user)
    person.objects["claim"] = claim


def _notification(person: Person):
    from kjzx.models import Notification

    person.objects["notification"] = Notification.objects.filter(user=person.user).order_by("pk").first()


def build_world() -> World:
    """Seed the province (call at :data:`NOW`, inside a transaction the caller rolls back)."""
    from accounts.models import Role
    from accounts.services import api_token_issue, exchange_token_create
    from cpe.institutions import services as institutions
    from cpe.learning.services.content import course_save, lesson_save, question_add
    from cpe.ledger.certificates.services import certificate_for
    from cpe.ledger.policy import ce_year_ensure
    from cpe.ledger.services import credit_register
    from cpe.lists.services import exams, face_to_face
    from cpe.models import TrainingPlan
    from employers.services import employer_account_create
    from kjzx.models import Notice
    from kjzx.workflow import workflow_transition
    from tests.factories import inbound_body, make_admin, make_id_number, make_staff, png_bytes
    from transfers.services import inbound_receive

    ce_year_ensure(YEAR)
    staff = {key: make_staff(username, role, region) for key, username, role, region in (
        ("cq1", "surf_cq1", Role.COUNTY_REVIEWER, "140502"), ("cq2", "surf_cq2", Role.COUNTY_REVIEWER, "140502"),
        ("qs1", "surf_qs1", Role.COUNTY_REVIEWER, "140521"), ("qs2", "surf_qs2", Role.COUNTY_REVIEWER, "140521"),
        ("xd1", "surf_xd1", Role.COUNTY_REVIEWER, "140105"), ("xd2", "surf_xd2", Role.COUNTY_REVIEWER, "140105"),
        ("jc", "surf_jc", Role.CITY_REVIEWER, "140500"), ("ty", "surf_ty", Role.CITY_REVIEWER, "140100"),
        ("sheng", "surf_sheng", Role.PROVINCE_STAFF, "140000"),
        ("jg_a", "surf_jg_a", Role.INSTITUTION, "140502"), ("jg_b", "surf_jg_b", Role.INSTITUTION, "140105"))}
    reviewers = {"140502": (staff["cq1"], staff["cq2"]), "140521": (staff["qs1"], staff["qs2"]),
                 "140105": (staff["xd1"], staff["xd2"])}
    unit = _credit_code(UNIT_AS)
    people = {
        "A": _person("A", "欧阳城甲", "140502", 311, "城甲巷101号", "Z2019140502311"),
        "S": _person("S", "欧阳城乙", "140502", 322, "城乙巷202号", "Z2019140502322"),
        "B": _person("B", "上官沁丙", "140521", 333, "沁丙巷303号", "Z2019140521333"),
        "T": _person("T", "诸葛并丁", "140105", 344, "并丁巷404号", "Z2019140105344"),
        "D": _person("D", "公孙城己", "140502", 355, "城己巷505号", "Z2019140502355"),
    }
    units = {"A": (unit, "晋城市城区表面会计服务有限公司"), "S": (unit, "晋城市城区表面会计服务有限公司"),
             "B": (_credit_code("91140521MA0QXW7K2"), "沁水县表面煤业有限公司"),
             "T": (_credit_code("91140105MA0QXW7K3"), "太原市表面商贸有限公司"),
             "D": (_credit_code("91140502MA0QXW7K4"), "晋城市城区表面物业有限公司")}
    for key, person in people.items():
        _fill(person, unit=units[key][0], unit_name=units[key][1])
        first, second = reviewers[person.county]
        _collect(person, first, second, approve=key != "D")
        _notification(person)
    a, s, b, t = people["A"], people["S"], people["B"], people["T"]
    _change(a, staff["cq1"], approve=True)
    _change(s, staff["cq1"], approve=False)
    _change(b, staff["qs1"], approve=True)
    _change(t, staff["xd1"], approve=True)
    _transfer(a)
    _transfer(b)
    _transfer(t, outbound_by=staff["xd1"])
    for person, submit in ((a, True), (s, False), (b, True), (t, True)):
        _claim(person, submit=submit)

    # CE: A completes 2026 (60 professional + 30 general) and holds the certificate.
    for kind, credits in (("professional", "60"), ("general", "30")):
        credit_register(archive=a.archive, year=YEAR, subject_kind=kind, form="online", credits=Decimal(credits),
                        source_type="province", source_id=f"surface-{kind}", source_label="省厅登记")
    certificate = certificate_for(a.archive, YEAR)
    a.objects["certificate"] = certificate

    # The national platform: a token, and a record coming in to 城区.
    exchange_token = exchange_token_create(name="surf_exchange")
    body = inbound_body("11202600777", id_number=make_id_number("110101", dt.date(1987, 2, 3), 366),
                        to_region="140502", name="慕容京戊")
    body["person"]["mobile"] = "13701100366"
    inbound, _ = inbound_receive(body=body)
    people["I"] = Person(key="I", name="慕容京戊", county="140502", objects={"transfer": inbound},
                         markers=("慕容京戊", body["person"]["id_number"], body["person"]["mobile"]))

    # Institutions: A (城区) filed by 城区, online and face to face, with a teacher, a published course, a past
    # training and its attendance list naming A and S; B (太原小店) with its filing waiting.
    filing_a = institutions.filing_apply(user=staff["jg_a"], data={
        "name": "晋城市表面培训中心", "credit_code": _credit_code("52140502MJ0QXW7KA"), "kind": "both",
        "address": "晋城市城区表面路1号", "contact": "0356-1000001"})
    filing_a = workflow_transition(filing_a, "approve", by=staff["cq1"])
    institution_a = filing_a.institution
    institution_a.refresh_from_db()
    teacher_a = institutions.teacher_save(user=staff["jg_a"], institution=institution_a,
                                          data={"name": "表面讲师甲", "title": "高级会计师", "field": "财务会计",
                                                "cv": "从事会计教学十年。"})
    course = course_save(user=staff["jg_a"], institution=institution_a, data={
        "title": "表面课程：政府会计", "subject_kind": "professional", "credits": "2", "hours": "2", "year": YEAR})
    lesson = lesson_save(user=staff["jg_a"], course=course, data={
        "title": "第一节", "kind": "text", "body": "正文。", "duration_seconds": 60})
    question = question_add(user=staff["jg_a"], course=course, data={
        "text": "政府会计由什么构成？", "choices": ["预算会计和财务会计", "只有财务会计"], "answer": 1})
    course = course_save(user=staff["jg_a"], institution=institution_a, course=course, data={
        "title": course.title, "subject_kind": "professional", "credits": "2", "hours": "2", "year": YEAR,
        "published": True})
    training = TrainingPlan.objects.create(
        institution=institution_a, year_id=YEAR, title="表面面授培训", starts_on=NOW.date() - dt.timedelta(days=31),
        ends_on=NOW.date() - dt.timedelta(days=30), hours_per_day=Decimal("8"), subject_kind="professional",
        venue="城区会议中心", capacity=60, filed_by=staff["jg_a"],
        filed_at=NOW - dt.timedelta(days=45))
    training.teachers.set([teacher_a])
    from django.core.files.uploadedfile import SimpleUploadedFile

    attendance = face_to_face.attendance_upload(
        training=training, by=staff["jg_a"],
        file=_xlsx("学员名单.xlsx", [["姓名", "身份证号", "学时"], [a.name, a.user.id_number, 16],
                                    [s.name, s.user.id_number, 16]]),
        evidence=[SimpleUploadedFile("签到表.png", png_bytes(), content_type="image/png")])
    face_to_face.attendance_check(attendance.pk)
    filing_b = institutions.filing_apply(user=staff["jg_b"], data={
        "name": "太原市表面培训学校", "credit_code": _credit_code("52140105MJ0QXW7KB"), "kind": "face_to_face",
        "address": "太原市小店区表面街2号", "contact": "0351-1000002"})
    institution_b = filing_b.institution
    teacher_b = institutions.teacher_save(user=staff["jg_b"], institution=institution_b,
                                          data={"name": "表面讲师乙", "title": "注册会计师", "field": "审计",
                                                "cv": ""})

    # The province's exam pass list (A and B passed a subject), checked and waiting to be registered.
    passed = [["姓名", "证件号码", "通过科目数"], [a.name, a.user.id_number, 1], [b.name, b.user.id_number, 1]]
    exam_import = exams.exam_import_create(year=YEAR, exam="accounting_qualification", by=staff["sheng"],
                                           upload=_xlsx("合格名单.xlsx", passed))
    exams.exam_import_check(exam_import.pk)

    employer = employer_account_create(username="surf_employer", password="Hq7#vR2!zLp9wT", region_code="140502",
                                       credit_codes=[unit], name="表面公司 财务部")
    admins = {role: make_admin(role, f"surf_{role}") for role in ("system_admin", "security_admin", "audit_admin")}
    notice = Notice.objects.create(title="表面通知", body="正文")

    everyone = frozenset(people)
    actors = {
        "anonymous": Actor("anonymous", "anonymous"),
        "accountant_a": Actor("accountant_a", "accountant", a.user, person="A", sees=frozenset("A")),
        "accountant_b": Actor("accountant_b", "accountant", b.user, person="B", sees=frozenset("B")),
        "county_in": Actor("county_in", "reviewer", staff["cq1"], scope="140502", sees=frozenset("ASI")),
        "county_out": Actor("county_out", "reviewer", staff["qs1"], scope="140521", sees=frozenset("B")),
        "city_in": Actor("city_in", "reviewer", staff["jc"], scope="140500", sees=frozenset("ASBI")),
        "city_out": Actor("city_out", "reviewer", staff["ty"], scope="140100", sees=frozenset("T")),
        "province": Actor("province", "reviewer", staff["sheng"], scope="140000", sees=frozenset("ASBTI")),
        "institution_a": Actor("institution_a", "institution", staff["jg_a"], sees=frozenset("AS")),
        "institution_b": Actor("institution_b", "institution", staff["jg_b"]),
        "employer": Actor("employer", "employer", employer, sees=frozenset("AS")),
        "exchange": Actor("exchange", "exchange", token=exchange_token, sees=frozenset("TI")),
        **{role: Actor(role, "admin", user, sees=everyone) for role, user in admins.items()},
        # 城区's second reviewer with a password and no code: a session from outside the login (a device reset
        # while logged in); it must reach nothing but the code step.
        "password_only": Actor("password_only", "password_only", staff["cq2"], scope="140502"),
    }
    for actor in actors.values():
        if actor.user is not None and not actor.token and actor.family != "password_only":
            actor.token = api_token_issue(user=actor.user)[0]
    things = {"institution_a": institution_a, "institution_b": institution_b, "filing_a": filing_a,
              "filing_b": filing_b, "teacher_a": teacher_a, "teacher_b": teacher_b, "course": course,
              "lesson": lesson, "question": question, "training": training, "attendance": attendance,
              "exam_import": exam_import, "notice": notice, "employer": employer, "certificate": certificate,
              "reviewers": staff}
    return World(people=people, actors=actors, things=things)


@contextlib.contextmanager
def world_at_now(django_db_blocker):
    """The world, built once for a module, inside a transaction rolled back at the end; the clock at NOW."""
    from django.db import transaction

    with time_machine.travel(NOW, tick=True), django_db_blocker.unblock(), transaction.atomic():
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
