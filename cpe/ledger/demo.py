"""Demo credits of continuing education (演示数据：学分台账): histories over the years, and this year.

Fifteen collected demo accountants of :mod:`records.demo` (in 城区, 沁水, 小店 and 晋城市直) get
their credits through the ledger's one way in (:func:`cpe.ledger.services.credit_register`):
registered by the province (``source_type="province"``, source ids ``demo-<year>-<n>``) or from an
exam pass list (``"exam_file"``). Their 2018–2025 histories mix completed and incomplete years; the
app's demo (:mod:`cpe.demo`) then freezes every year whose registration has closed, so the results
stand in each person's credit-information file (R-CE-13). This year some are half-way (45 of 90),
one has the 90 but too few professional credits (R-CE-3), one is complete (a certificate can be
downloaded, R-CE-15), and 陈杰 has nothing yet: the online-learning journey starts from zero.
张伟 has no archive at all (records.demo) and stays so.

Safe to load twice: the source ids make each entry once (a repeat is a ``Conflict``, skipped), and
a frozen year is left alone. Entries carry the time of loading: the ledger is append-only, even here.

The certificates' seal is drawn here too (:func:`seal_ensure`): a generated red round seal of 山西省财政厅,
never a real one, uploaded through the same service as staff use, once.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD, demo_id_number
from accounts.models import User, accountant_username
from cpe.ledger.certificates.seal import demo_seal_png
from cpe.ledger.certificates.services import seal_upload
from cpe.ledger.policy import ce_year_ensure
from cpe.ledger.rules import COLLECTION_APPROVED
from cpe.ledger.selectors import ISSUER, year_status
from cpe.ledger.services import credit_register
from cpe.models import CertificateSeal, CEYear, CreditForm, IntegrityRecord, SourceType, SubjectKind
from kjzx.api import Conflict
from records.demo import DEMO_LOGINS, EXTRA, Story
from records.models import Archive

P, G = SubjectKind.PROFESSIONAL, SubjectKind.GENERAL
FIRST_YEAR = 2018

# One year's credits by pattern: (subject kind, form, credits) each, one ledger entry each.
PATTERNS = {
    "F": ((P, CreditForm.ONLINE, 60), (G, CreditForm.ONLINE, 30)),  # 90 online: complete
    "T": ((P, CreditForm.FACE_TO_FACE, 30), (P, CreditForm.ONLINE, 36), (G, CreditForm.ONLINE, 30)),  # 96
    "C": ((P, CreditForm.CONFERENCE, 20), (P, CreditForm.ONLINE, 40), (G, CreditForm.ONLINE, 30)),  # 90
    "E": ((P, CreditForm.EXAM, 90),),  # one exam subject passed (R-CE-10): complete
    "P": ((P, CreditForm.ONLINE, 40), (G, CreditForm.ONLINE, 50)),  # 90, but 20 professional short
    "H": ((P, CreditForm.ONLINE, 30), (G, CreditForm.ONLINE, 15)),  # 45 of 90: half-way
    "S": ((P, CreditForm.ONLINE, 24),),  # 24: barely started
    "-": (),  # nothing
}

# name → (2018…2025, this year): one pattern letter a year.
HISTORIES = {
    # the logins of accounts.demo
    "杨丽": ("FFTFFCFF", "T"),
    "李强": ("FFFFFFSF", "H"),
    "陈杰": ("FFFFFPFF", "-"),
    # more collected people of records.demo (same password; logins printed below)
    "周建国": ("FFTFECFT", "S"),
    "董立新": ("FFFFEFFF", "H"),
    "郑海燕": ("FF-FFHFP", "S"),
    "吴静": ("FFFFFFF-", "-"),
    "马俊": ("FFFFFFEF", "H"),
    "彭飞": ("F-FFPFFF", "S"),
    "石磊": ("FFFFF-FH", "H"),
    "宋雪": ("FFFFFFTF", "-"),
    "蒋涛": ("FFFFCFFF", "H"),
    "韩冰": ("FFFF-FFF", "P"),
    "许娜": ("FFFFFFFF", "H"),
    "潘志强": ("FFFFFFHF", "S"),
}
COMPLETE_NOW = "杨丽"  # this year complete: the certificate can be downloaded
LEARNER = "陈杰"  # nothing this year: the online-learning journey


def _stories() -> dict[str, Story]:
    everyone = {story.name: story for story in [*DEMO_LOGINS.values(), *EXTRA]}
    return {name: everyone[name] for name in HISTORIES}


def _login(story: Story) -> str:
    return demo_id_number(story.id_region or story.jurisdiction, story.born, story.sequence)


def _archive(story: Story) -> Archive | None:
    """The person's archive if collected (R-CE-12); None otherwise (e.g. a demo user changed it since)."""
    return (Archive.objects.filter(COLLECTION_APPROVED, person__username=accountant_username(_login(story)))
            .select_related("person").first())


def _register_year(archive: Archive, year: int, pattern: str, by) -> int:
    """One year of one person by ``pattern``; returns how many entries are new (0 on a reload)."""
    made = 0
    for n, (kind, form, credits) in enumerate(PATTERNS[pattern], start=1):
        exam = form == CreditForm.EXAM
        label = (f"{year}年度会计专业技术资格考试合格（一科）" if exam
                 else f"{year}年度{CreditForm(form).label}学分（省财政厅登记）")
        try:
            credit_register(archive=archive, year=year, subject_kind=kind, form=form, credits=credits,
                            source_type=SourceType.EXAM_FILE if exam else SourceType.PROVINCE,
                            source_id=f"demo-{year}-{n}", source_label=label, by=by)
        except Conflict:
            continue  # loaded before (the source id), or the year is frozen
        made += 1
    return made


def histories_load() -> tuple[dict[str, Archive | None], int]:
    """Every demo person's credits, past years and this one: ({name: archive or None}, new entries)."""
    this_year = timezone.localdate().year
    ce_year_ensure(this_year)
    seal_ensure()
    province = User.objects.filter(username="sheng").first()
    archives = {name: _archive(story) for name, story in _stories().items()}
    open_years = set(CEYear.objects.filter(frozen_at__isnull=True).values_list("year", flat=True))
    made = 0
    for name, (history, now) in HISTORIES.items():
        archive = archives[name]
        if archive is None:
            continue
        for offset, pattern in enumerate(history):
            if FIRST_YEAR + offset in open_years:
                made += _register_year(archive, FIRST_YEAR + offset, pattern, province)
        made += _register_year(archive, this_year, now, province)
    return archives, made


def seal_ensure() -> CertificateSeal:
    """The seal on the demo's certificates: a generated one (drawn with Pillow), uploaded once."""
    return CertificateSeal.objects.first() or seal_upload(issuer=ISSUER, image=demo_seal_png(ISSUER))


def scan_upload(name: str) -> SimpleUploadedFile:
    """A plain scan (PNG) for the capabilities' demos: evidence of a claim, an attendance sheet."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (250, 250, 245)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# --- the printout --------------------------------------------------------------------------------

def _figures(status) -> str:
    return f"{_n(status.total)}/{_n(status.required_total)}学分（专业科目{_n(status.professional)}）"


def _n(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _past(archive: Archive) -> str:
    missed = list(IntegrityRecord.objects.filter(archive=archive, completed=False).order_by("year")
                  .values_list("year", flat=True))
    if not IntegrityRecord.objects.filter(archive=archive).exists():
        return "历年结果尚未归档"
    if not missed:
        return "已归档年度均已完成"
    return f"{'、'.join(str(year) for year in missed)}年度未完成（已纳入信用信息档案）"


def _state(archive: Archive, this_year: int) -> str:
    status = year_status(archive, this_year)
    if status.completed:
        return f"{this_year}年度已完成 {_figures(status)}：可下载学分证明"
    if not status.total:
        return f"{this_year}年度尚无登记的学分"
    short = [f"还差{_n(status.missing_total)}学分" if status.missing_total else "",
             f"专业科目还差{_n(status.missing_professional)}学分" if status.missing_professional else ""]
    return f"{this_year}年度学习中 {_figures(status)}，{'，'.join(s for s in short if s)}"


def _pick(archives: dict[str, Archive | None], this_year: int, preferred: str, *, complete: bool) -> str | None:
    """The preferred person if their state still fits (a demo user may have learned since), else another."""
    names = [preferred, *(name for name in HISTORIES if name != preferred)]
    for name in names:
        archive = archives[name]
        if archive is None:
            continue
        status = year_status(archive, this_year)
        if (status.completed if complete else not status.total):
            return name
    return None


def report(out, archives: dict[str, Archive | None], made: int, closed: list[int]) -> None:
    this_year = timezone.localdate().year
    out.write(f"继续教育（演示会计人员密码同上：{DEMO_PASSWORD}）：")
    done, learner = (_pick(archives, this_year, COMPLETE_NOW, complete=True),
                     _pick(archives, this_year, LEARNER, complete=False))
    for name, archive in archives.items():
        if archive is None:
            continue
        state = _state(archive, this_year)
        if name == learner:
            state += "，可从零开始体验在线学习"
        mark = "【学分证明】" if name == done else "【在线学习】" if name == learner else ""
        out.write(f"  {archive.person.login_name}  {name}{mark}：{state}；{_past(archive)}")
    frozen = list(CEYear.objects.filter(frozen_at__isnull=False).order_by("year").values_list("year", flat=True))
    years = f"{frozen[0]}–{frozen[-1]}" if frozen else "无"
    out.write(f"  本次登记学分 {made} 条；本次结束登记的年度：{'、'.join(map(str, closed)) or '无'}；"
              f"已归档年度 {years}，共 {IntegrityRecord.objects.count()} 条结果在会计人员信用信息档案中。")
    policy = CEYear.objects.get(pk=this_year)
    out.write(f"  {this_year}年度：应修{_n(policy.required_total)}学分（专业科目{_n(policy.required_professional)}），"
              f"{policy.deadline:%Y-%m-%d}前完成，学分登记截止{policy.registration_closes_on:%Y-%m-%d}。"
              "年度政策与学分计量标准由系统管理员在管理后台 /manage/cpe/ 修改（xitong）；"
              "提前结束某年度：bash scripts/manage.sh close_cpe_year 年度 --force。")
