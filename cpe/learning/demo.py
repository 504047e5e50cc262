"""Demo data of online learning (演示数据：网络学习): a filed online institution, its courses, two learners.

"山西会计继续教育网络学院" (filed with the province) offers eight published courses for this year —
专业 24 + 24 + 18 + 12 + 12 and 公需 12 + 12 + 6, 120 credits in all, 90 of them professional — and two
for last year. Each course opens with a short **video** lesson whose media is generated here, at load
time, by Debian's ffmpeg (a test pattern and a tone, ``testsrc2`` + ``sine``: small MP4 files written
through the storage API, then probed like any upload — nothing binary is committed), followed by text
lessons with their reading time; one course has a **PDF** handout (rendered by WeasyPrint). Every
course has a three-question bank. Without ffmpeg the video lessons are text lessons, and the printout
says so.

Then two collected demo accountants learn through the real services (:mod:`cpe.learning.services`),
their sittings replayed on the server's clock as heartbeats a browser would have sent — every lesson
takes the time it says, even here:

- 吴静 (nothing registered this year) passed two professional courses, 36 credits that wait as
  已学待登记 until her year reaches 90 (R-CE-8), and is half-way through a third;
- 石磊 (45 registered this year) passed two courses: 45 + 48 >= 90, so the system registered them
  and told him so.

陈杰 starts from zero: the printout says how long his lessons take at the least to reach 90 credits with
60 professional (hours, not seconds). ``KJZX_LEARNING_TIME_SCALE`` (DEBUG only, docs/cpe.md) shortens
that for a demonstration without changing any check.

Safe to load twice: institutions, courses, lessons and questions are looked up by their natural
keys and left as they are; a learner's lesson is learned only while not completed, the test taken
only while the course is not passed. Called by :func:`cpe.demo.load` before the due years are frozen.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.validators import uscc_check_char
from cpe.learning import selectors, services
from cpe.learning.media import media_probe, stored_name
from cpe.ledger.rules import COLLECTION_APPROVED
from cpe.models import (
    CEYear,
    Course,
    InstitutionKind,
    Lesson,
    LessonKind,
    LessonProgress,
    Question,
    SubjectKind,
    TrainingInstitution,
)
from records.models import Archive

P, G = SubjectKind.PROFESSIONAL, SubjectKind.GENERAL
INSTITUTION = "山西会计继续教育网络学院"
CREDIT_CODE_17 = "52140000MJ0K7H3L2"

# title, subject kind, credits, hours, description, lessons [(title, minutes, body)],
# questions [(text, choices, answer)]
THIS_YEAR = [
    ("《企业会计准则第14号——收入》应用解析", P, 24, 8,
     "系统讲解收入准则的五步法模型、时段履约义务与合同成本，结合制造、建筑和软件企业的常见业务。",
     [("收入确认的五步法模型", 45,
       "新收入准则以控制权转移替代风险报酬转移作为收入确认时点的判断标准，并规定了“五步法”：识别与客户订立的合同；"
       "识别合同中的单项履约义务；确定交易价格；将交易价格分摊至各单项履约义务；履行各单项履约义务时确认收入。"),
      ("在某一时段内履行的履约义务", 45,
       "满足下列条件之一的，属于在某一时段内履行的履约义务：客户在企业履约的同时即取得并消耗企业履约所带来的经济利益；"
       "客户能够控制企业履约过程中在建的商品；企业履约过程中所产出的商品具有不可替代用途，且企业在整个合同期间内有权就"
       "累计至今已完成的履约部分收取款项。\n企业应当在该段时间内按照履约进度确认收入，履约进度不能合理确定的除外。"),
      ("合同取得成本与合同履约成本", 40,
       "企业为取得合同发生的增量成本预期能够收回的，应当作为合同取得成本确认为一项资产；但该资产摊销期限不超过一年的，"
       "可以在发生时计入当期损益。\n为履行合同发生的成本，不属于其他企业会计准则规范范围且同时满足相关条件的，应当作为"
       "合同履约成本确认为一项资产。")],
     [("新收入准则下，收入确认时点的判断标准是（ ）。",
       ["风险和报酬转移", "客户取得相关商品控制权", "开具发票", "收到货款"], 1),
      ("下列不属于收入确认“五步法”步骤的是（ ）。", ["识别与客户订立的合同", "识别单项履约义务", "确定交易价格",
                                           "计提坏账准备"], 3),
      ("合同取得成本形成的资产，摊销期限不超过（ ）的，可以在发生时计入当期损益。",
       ["三个月", "六个月", "一年", "三年"], 2)]),
    ("管理会计工具方法：全面预算管理实务", P, 24, 8,
     "依据《管理会计应用指引第200号——预算管理》，讲解预算的内容、编制方法以及执行、调整与考核。",
     [("全面预算的内容与编制程序", 45,
       "全面预算一般包括经营预算（也称业务预算）、专门决策预算和财务预算。财务预算包括资金预算、预计利润表和预计资产"
       "负债表等。\n企业编制预算一般按照“上下结合、分级编制、逐级汇总”的程序进行。"),
      ("预算编制方法", 45,
       "按出发点不同，预算编制方法分为增量预算法和零基预算法；按业务量基础的数量特征不同，分为固定预算法和弹性预算法；"
       "按预算期的时间特征不同，分为定期预算法和滚动预算法。\n零基预算法不受历史期经济活动中不合理因素的影响，但编制"
       "工作量较大。"),
      ("预算的执行、调整与考核", 40,
       "预算一经批准下达，一般不予调整。市场环境、经营条件、政策法规等发生重大变化，致使预算的编制基础不成立，或者"
       "将导致预算执行结果产生重大偏差的，可以按规定程序调整预算。\n预算考核应坚持目标导向、客观公正、刚性与柔性相结合。")],
     [("下列预算中，属于财务预算的是（ ）。", ["销售预算", "生产预算", "资金预算", "直接材料预算"], 2),
      ("不受历史期经济活动中不合理因素影响的预算编制方法是（ ）。",
       ["增量预算法", "零基预算法", "固定预算法", "定期预算法"], 1),
      ("企业编制预算一般遵循的程序是（ ）。",
       ["自上而下、一次下达", "上下结合、分级编制、逐级汇总", "由财务部门独立编制",
                                  "由各部门自行编制后执行"], 1)]),
    ("政府会计制度与行政事业单位财务管理", P, 18, 6,
     "面向行政事业单位会计人员，讲解政府会计“双功能、双基础、双报告”的核算模式与平行记账。",
     [("政府会计核算模式", 45,
       "政府会计由预算会计和财务会计构成。预算会计实行收付实现制（国务院另有规定的，依照其规定），财务会计实行权责"
       "发生制。\n单位对于纳入部门预算管理的现金收支业务，在采用财务会计核算的同时应当进行预算会计核算，即“平行记账”。"),
      ("政府会计要素与报告", 45,
       "预算会计要素包括预算收入、预算支出与预算结余；财务会计要素包括资产、负债、净资产、收入和费用。\n政府财务报告"
       "以权责发生制为基础编制，政府决算报告以收付实现制为基础编制。")],
     [("政府会计中，财务会计实行（ ）。", ["收付实现制", "权责发生制", "现金制", "混合制"], 1),
      ("下列属于预算会计要素的是（ ）。", ["资产", "净资产", "预算结余", "费用"], 2),
      ("对纳入部门预算管理的现金收支业务，单位应当（ ）。", ["只进行财务会计核算", "只进行预算会计核算",
                                         "同时进行财务会计和预算会计核算", "年末一次性补记"], 2)]),
    ("企业内部控制与风险管理", P, 12, 4,
     "依据《企业内部控制基本规范》及配套指引，讲解内部控制的目标、五要素和常见控制措施。",
     [("内部控制的目标与要素", 40,
       "内部控制的目标是合理保证企业经营管理合法合规、资产安全、财务报告及相关信息真实完整，提高经营效率和效果，"
       "促进企业实现发展战略。\n内部控制包括内部环境、风险评估、控制活动、信息与沟通、内部监督五要素。"),
      ("常见控制措施", 40,
       "控制措施一般包括不相容职务分离控制、授权审批控制、会计系统控制、财产保护控制、预算控制、运营分析控制和绩效"
       "考评控制等。\n例如，出纳人员不得兼任稽核、会计档案保管和收入、支出、费用、债权债务账目的登记工作。")],
     [("下列不属于内部控制五要素的是（ ）。", ["内部环境", "风险评估", "绩效考评", "内部监督"], 2),
      ("出纳人员可以兼任的工作是（ ）。", ["稽核", "会计档案保管", "收入账目登记", "现金日记账登记"], 3),
      ("内部控制能为控制目标的实现提供（ ）。", ["绝对保证", "合理保证", "完全保证", "无法提供保证"], 1)]),
    ("数电发票与会计信息化", P, 12, 4,
     "讲解全面数字化的电子发票、电子会计凭证的报销入账归档，以及会计信息化工作的基本要求。",
     [("全面数字化的电子发票", 40,
       "全面数字化的电子发票（简称数电发票）与纸质发票具有同等法律效力。数电发票不以纸质形式存在，不需要介质支撑，"
       "无需申请领用发票、发票验旧及申请增版增量，纳税人开具发票的额度实行动态调整。"),
      ("电子会计凭证的报销、入账与归档", 40,
       "来源可靠、程序规范、要素合规的电子会计凭证，可以仅以电子形式报销、入账、归档。\n单位以电子会计凭证的纸质打印件"
       "作为报销入账归档依据的，必须同时保存打印该纸质件的电子会计凭证。")],
     [("关于数电发票，下列说法正确的是（ ）。", ["与纸质发票具有同等法律效力", "必须打印后才能入账", "需要申请领用发票",
                                    "开票额度固定不变"], 0),
      ("以电子会计凭证的纸质打印件入账归档的，还应当（ ）。", ["销毁电子会计凭证", "同时保存该电子会计凭证",
                                           "由税务机关盖章", "另行开具纸质发票"], 1),
      ("满足条件的电子会计凭证可以（ ）。", ["仅以电子形式报销、入账、归档", "不予入账", "只能作为附件",
                              "须经财政部门审批后入账"], 0)]),
    ("专业技术人员职业道德与诚信建设", G, 12, 4,
     "解读《会计人员职业道德规范》“三坚三守”，介绍会计人员信用信息档案与失信惩戒。",
     [("会计人员职业道德规范", 40,
       "《会计人员职业道德规范》提出“三坚三守”：坚持诚信，守法奉公；坚持准则，守责敬业；坚持学习，守正创新。这是对"
       "会计人员职业道德要求的集中表达。"),
      ("诚信建设与信用信息档案", 40,
       "会计人员信用信息档案记录会计人员的基本信息、继续教育、奖惩及失信行为等信息。\n会计专业技术人员参加继续教育的"
       "情况，在当年度学分登记工作结束后纳入其信用信息档案。")],
     [("“三坚三守”中，“坚持诚信”对应的是（ ）。", ["守法奉公", "守责敬业", "守正创新", "守口如瓶"], 0),
      ("下列属于“三坚三守”内容的是（ ）。", ["坚持学习，守正创新", "坚持盈利，守财有道", "坚持竞争，守住市场",
                                 "坚持节约，守住成本"], 0),
      ("会计专业技术人员参加继续教育的情况（ ）。", ["纳入会计人员信用信息档案", "不作记录", "仅由单位保存",
                                   "只在评职称时提交"], 0)]),
    ("人工智能与数字经济发展概论", G, 12, 4,
     "介绍数字经济的内涵、人工智能在财务工作中的应用，以及数据安全与个人信息保护的基本要求。",
     [("数字经济的内涵", 35,
       "数字经济是以数据资源为关键要素，以现代信息网络为主要载体，以信息通信技术融合应用、全要素数字化转型为重要推动力"
       "的新经济形态。数据作为新型生产要素，对传统生产方式变革具有重大影响。"),
      ("人工智能在财务领域的应用", 35,
       "财务机器人（RPA）适合处理规则明确、重复性高的业务，如银行对账、发票查验和纳税申报数据整理。\n生成式人工智能"
       "可以辅助撰写分析报告，但其结论需要专业人员复核，涉及商业秘密和个人信息的数据不得随意上传。"),
      ("数据安全与个人信息保护", 30,
       "处理个人信息应当遵循合法、正当、必要和诚信原则，采取措施保障个人信息安全。会计人员在工作中接触大量敏感信息，"
       "应当严格遵守保密规定。")],
     [("数字经济的关键要素是（ ）。", ["土地", "数据资源", "劳动力", "资本"], 1),
      ("财务机器人（RPA）最适合处理的业务是（ ）。",
       ["规则明确、重复性高的业务", "重大投资决策", "会计政策选择", "舞弊调查"], 0),
      ("处理个人信息应当遵循的原则不包括（ ）。", ["合法", "正当", "必要", "最大化收集"], 3)]),
    ("《中华人民共和国民法典》合同编要点", G, 6, 2,
     "围绕合同的订立、履行与违约责任，讲解与会计工作关系密切的合同编条款。",
     [("合同的订立", 30,
       "当事人订立合同，可以采用书面形式、口头形式或者其他形式。以电子数据交换、电子邮件等方式能够有形地表现所载内容，"
       "并可以随时调取查用的数据电文，视为书面形式。"),
      ("合同的履行与违约责任", 30,
       "当事人应当按照约定全面履行自己的义务。\n当事人一方不履行合同义务或者履行合同义务不符合约定的，应当承担继续履行、"
       "采取补救措施或者赔偿损失等违约责任。")],
     [("以电子邮件订立、能够有形地表现所载内容并可随时调取查用的合同，视为（ ）。", ["口头形式", "书面形式", "其他形式",
                                                         "无效合同"], 1),
      ("当事人一方不履行合同义务的，应当承担的违约责任不包括（ ）。",
       ["继续履行", "采取补救措施", "赔偿损失", "行政拘留"], 3),
      ("当事人应当按照约定（ ）履行自己的义务。", ["部分", "全面", "选择性", "延期"], 1)]),
]

LAST_YEAR = [
    ("企业所得税汇算清缴实务", P, 24, 8,
     "讲解企业所得税年度汇算清缴的范围、期限和常见纳税调整项目。",
     [("汇算清缴的范围与期限", 45,
       "实行查账征收和核定应税所得率征收企业所得税的居民企业纳税人，应当在纳税年度终了之日起五个月内，进行企业所得税"
       "汇算清缴，结清应缴应退税款。"),
      ("常见纳税调整项目", 45,
       "业务招待费按发生额的60%扣除，但最高不得超过当年销售（营业）收入的5‰；职工福利费支出不超过工资薪金总额14%的部分"
       "准予扣除；职工教育经费支出不超过工资薪金总额8%的部分准予扣除，超过部分准予在以后纳税年度结转扣除。")],
     [("企业所得税汇算清缴应在纳税年度终了之日起（ ）内进行。", ["三个月", "四个月", "五个月", "六个月"], 2),
      ("业务招待费按发生额的（ ）扣除，但最高不得超过当年销售（营业）收入的5‰。", ["40%", "50%", "60%", "80%"], 2),
      ("职工教育经费支出不超过工资薪金总额（ ）的部分准予扣除。", ["2%", "8%", "14%", "2.5%"], 1)]),
    ("《优化营商环境条例》解读", G, 12, 4,
     "介绍《优化营商环境条例》的主要制度安排和政务服务改革。",
     [("条例的主要内容", 40,
       "《优化营商环境条例》自2020年1月1日起施行，从市场主体保护、市场环境、政务服务、监管执法、法治保障等方面作出规定，"
       "明确国家实行全国统一的市场准入负面清单制度。"),
      ("政务服务与“一网通办”", 40,
       "政府及其有关部门应当推进政务服务标准化，推行当场办结、一次办结、限时办结等制度，实现集中办理、就近办理、网上办理、"
       "异地可办。")],
     [("《优化营商环境条例》的施行日期是（ ）。", ["2019年1月1日", "2020年1月1日", "2021年1月1日", "2022年1月1日"], 1),
      ("国家实行全国统一的（ ）制度。", ["市场准入负面清单", "市场准入正面清单", "行政审批备案", "企业年检"], 0),
      ("下列属于条例推行的政务服务制度的是（ ）。",
       ["当场办结、一次办结、限时办结", "多次办结", "逐级审批", "先审后批"], 0)]),
]

# The opening video lesson of each course: its length in seconds (the clip generated for it is this long).
CLIP_SECONDS = [95, 120, 80, 75, 90, 70, 85, 60]
LAST_YEAR_CLIP_SECONDS = [100, 65]
PDF_LESSON = (THIS_YEAR[3][0], 2)  # 企业内部控制与风险管理, lesson 2: a PDF handout

# name → [(course title, lessons to complete: "all" or a number, pass the test?)]
LEARNERS = {
    "吴静": [(THIS_YEAR[0][0], "all", True), (THIS_YEAR[3][0], "all", True), (THIS_YEAR[1][0], 1, False)],
    "石磊": [(THIS_YEAR[1][0], "all", True), (THIS_YEAR[0][0], "all", True)],
}


def institution_ensure() -> TrainingInstitution:
    institution, _ = TrainingInstitution.objects.get_or_create(
        credit_code=CREDIT_CODE_17 + uscc_check_char(CREDIT_CODE_17),
        defaults={"name": INSTITUTION, "kind": InstitutionKind.ONLINE, "region_id": "140000", "filed": True,
                  "contact": "0351-4000000（工作日 9:00–17:00）"})
    return institution


def demo_clip(seconds: int) -> bytes | None:
    """A small MP4 of ``seconds`` (a test pattern with a 440 Hz tone), made by ffmpeg now; None without it."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kjzx-demo-clip-") as folder:
        target = Path(folder) / "clip.mp4"
        subprocess.run(  # noqa: S603 (a fixed program and arguments)
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=duration={seconds}:size=240x136:rate=5",
             "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate=16000",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-crf", "38", "-g", "50",
             "-c:a", "aac", "-b:a", "24k", "-ac", "1", "-shortest", "-movflags", "+faststart", str(target)],
            check=True, capture_output=True, timeout=120)
        return target.read_bytes()


def demo_pdf(title: str, body: str) -> bytes:
    """A one-page handout (讲义) of the lesson's text, rendered by WeasyPrint."""
    from django.utils.html import escape, linebreaks
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = (f"<html lang='zh-Hans'><body style='font-family: \"Noto Serif CJK SC\", serif; font-size: 12pt'>"
            f"<h1 style='font-size: 16pt'>{escape(title)}</h1>{linebreaks(escape(body))}"
            f"<p style='color: #666'>（演示讲义）</p></body></html>")
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def _attach(lesson: Lesson, content: bytes, name: str, kind: str) -> None:
    """Store a generated file the way an upload is stored: probed first, under a random name."""
    upload = SimpleUploadedFile(name, content)
    probe = media_probe(upload, kind)
    lesson.kind = kind
    lesson.media.save(stored_name(probe, secrets.token_hex(16)), upload, save=False)
    lesson.media_type, lesson.media_seconds = probe.content_type, probe.seconds


def _course(institution: TrainingInstitution, policy: CEYear, spec, clip: int | None) -> tuple[Course, bool]:
    title, kind, credits, hours, description, lessons, questions = spec
    course, created = Course.objects.get_or_create(institution=institution, year=policy, title=title, defaults={
        "subject_kind": kind, "credits": Decimal(credits), "hours": Decimal(hours), "description": description,
        "published": True})
    for order, (lesson_title, minutes, body) in enumerate(lessons, start=1):
        if Lesson.objects.filter(course=course, order=order).exists():
            continue
        lesson = Lesson(course=course, order=order, title=lesson_title, body=body, duration_seconds=minutes * 60)
        media = demo_clip(clip) if order == 1 and clip else None
        if media is not None:
            _attach(lesson, media, "导学视频.mp4", LessonKind.VIDEO)
            lesson.title, lesson.duration_seconds = f"导学视频：{lesson_title}", clip
        elif (title, order) == PDF_LESSON:
            _attach(lesson, demo_pdf(lesson_title, body), "讲义.pdf", LessonKind.PDF)
        lesson.save()
    for order, (text, choices, answer) in enumerate(questions, start=1):
        Question.objects.get_or_create(course=course, order=order, defaults={
            "text": text, "choices": choices, "answer": answer})
    return course, created


class Sitting:
    """A learner's replayed sittings on the server's clock: heartbeats as the lesson page sends them."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def learn(self, person, lesson: Lesson) -> None:
        """Watch the video to its end, or read the text or PDF for its time, beat by beat."""
        policy = selectors.learning_policy()
        standing = services.session_start(person=person, lesson=lesson, playing=True, now=self.now)
        step = lesson.media_seconds if lesson.kind == LessonKind.VIDEO else 2 * policy.heartbeat_seconds
        position = Decimal(0)
        while not standing.completed:
            if lesson.kind == LessonKind.VIDEO and position >= lesson.media_seconds:
                raise RuntimeError(f"演示章节{lesson.pk}看完仍未学满：请检查其时长与计时规则。")
            self.now += dt.timedelta(seconds=float(step))
            position = min(position + Decimal(step), lesson.media_seconds or Decimal(0))
            standing = services.heartbeat(person=person, lesson=lesson, now=self.now, beat=services.Beat(
                key=standing.session.key, seq=standing.session.seq + 1, nonce=standing.session.nonce,
                position=position, rate=Decimal(1), playing=True))
        self.now += dt.timedelta(minutes=2)  # a short break before the next lesson


def _learn(archive: Archive, course: Course, lessons, passes: bool, sitting: Sitting) -> None:
    """One learner's course through the real services; a passed course is left alone on a reload."""
    person = archive.person
    enrolment = services.course_enrol(person=person, course=course)
    if enrolment.passed_at:
        return
    done = set(LessonProgress.objects.filter(enrolment=enrolment, completed_at__isnull=False)
               .values_list("lesson_id", flat=True))
    todo = list(course.lessons.order_by("order"))
    for lesson in todo if lessons == "all" else todo[:lessons]:
        if lesson.pk not in done:
            sitting.learn(person, lesson)
    if passes:
        paper = services.test_paper(person=person, course=course)
        answers = [question.answer for question in services.paper_questions(paper)]
        wrong = [(answers[0] + 1) % 2, *answers[1:]]  # a first try with one wrong answer: 67 points, a pass
        services.test_submit(person=person, course=course, answers=wrong, attempt=paper.pk)


def fastest_year(courses: list[Course], policy: CEYear) -> tuple[int, list[Course]]:
    """The least learning time (required seconds, the time scale included) over the year's courses that
    reaches the required total with the required professional credits, and those courses."""
    timing = selectors.learning_policy()
    seconds = {course.pk: sum(selectors.required_seconds(lesson, timing) for lesson in course.lessons.all())
               for course in courses}
    best: tuple[int, list[Course]] = (0, [])
    for size in range(1, len(courses) + 1):
        for chosen in itertools.combinations(courses, size):
            total = sum(course.credits for course in chosen)
            professional = sum(c.credits for c in chosen if c.subject_kind == SubjectKind.PROFESSIONAL)
            if total >= policy.required_total and professional >= policy.required_professional:
                time = sum(seconds[course.pk] for course in chosen)
                if not best[1] or time < best[0]:
                    best = (time, list(chosen))
    return best


def load(out) -> None:
    this_year = timezone.localdate().year
    institution = institution_ensure()
    made = 0
    courses: dict[str, Course] = {}
    plans = ((this_year, THIS_YEAR, CLIP_SECONDS), (this_year - 1, LAST_YEAR, LAST_YEAR_CLIP_SECONDS))
    for year, specs, clips in plans:
        policy = CEYear.objects.filter(pk=year).first()
        if policy is None:
            continue
        for spec, clip in zip(specs, clips, strict=True):
            course, created = _course(institution, policy, spec, clip)
            if year == this_year:
                courses[course.title] = course
            made += created
    learners = []
    sitting = Sitting(timezone.now() - dt.timedelta(days=2))
    for name, plan in LEARNERS.items():
        archive = (Archive.objects.filter(COLLECTION_APPROVED, name=name, person__isnull=False)
                   .select_related("person").first())
        if archive is None:
            continue
        for title, lessons, passes in plan:
            if title in courses and not selectors.learning_refusal(courses[title].year):
                _learn(archive, courses[title], lessons, passes, sitting)
        learners.append(name)
    _report(out, institution, this_year, made, learners)


def _report(out, institution: TrainingInstitution, this_year: int, made: int, learners: list[str]) -> None:
    offered = Course.objects.filter(institution=institution, published=True)
    now, before = offered.filter(year_id=this_year).count(), offered.filter(year_id=this_year - 1).count()
    out.write(f"网络学习：{institution.name}（已备案）{this_year}年度课程 {now} 门、{this_year - 1}年度 {before} 门"
              f"（本次新建 {made} 门）。")
    videos = Lesson.objects.filter(course__institution=institution, kind=LessonKind.VIDEO).count()
    out.write(f"  课程视频 {videos} 个（ffmpeg 生成的演示视频）" if videos else
              "  未找到 ffmpeg（Debian 软件包 ffmpeg）：演示课程没有视频章节，章节均为图文。")
    policy = CEYear.objects.filter(pk=this_year).first()
    catalogue = list(offered.filter(year_id=this_year).prefetch_related("lessons"))
    if policy is not None and catalogue:
        seconds, _chosen = fastest_year(catalogue, policy)
        total, professional = selectors.plain(policy.required_total), selectors.plain(policy.required_professional)
        out.write(f"  从零学满{total}学分（其中专业科目{professional}）至少需学习 {selectors.in_words(seconds)}"
                  f"（各节须学满的时长之和，心跳计时；"
                  f"KJZX_LEARNING_TIME_SCALE 可在 DEBUG 演示时缩短，见 docs/cpe.md）。")
    if learners:
        out.write(f"  演示学员：{'、'.join(learners)}（吴静有已学待登记的学分，石磊的网络学习学分已由系统自动登记）。")
