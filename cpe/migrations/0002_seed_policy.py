"""The CE years since the national rules (财会〔2018〕10号, in force 2018-07-01) through this year, the
seeds' dates, and the credit standards of the SPEC table (财会〔2018〕10号 art. 13, 晋财会〔2021〕23号).

Year N is due by 31 March of N+1 (晋财会〔2024〕10号: 2024 by 2025-03-31). 2020–2023 could be made up
until 2024-12-31 ("今后不再组织补学": no other year has a make-up window). Registration closes
when both have passed. All of it is data that provincial staff edit in the admin.
On PostgreSQL a trigger makes the ledger append-only: UPDATE and DELETE of a credit entry fail.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

MAKEUP = {2020: dt.date(2024, 12, 31), 2021: dt.date(2024, 12, 31), 2022: dt.date(2024, 12, 31),
          2023: dt.date(2024, 12, 31)}

STANDARDS = [
    # form, variant, label, credits, per, daily cap
    ("face_to_face", "per_hour", "面授培训（含注册会计师、资产评估师协会培训）", "3", "学时", "30"),
    ("exam", "per_subject", "会计专业技术资格、注册会计师、资产评估师、税务师考试通过一科", "90", "科", None),
    ("other", "talent", "通过选拔考试进入高端会计人才培养或参加财政部、省财政厅高端人才培训", "90", "", None),
    ("conference", "per_day", "会计类专业会议", "10", "天", None),
    ("degree", "per_course", "中专以上会计类专业学历（学位）教育，当年度通过一门课程考试", "90", "门", None),
    ("research", "sole", "会计类课题研究（独立完成）", "90", "", None),
    ("research", "host", "会计类课题研究（主持人）", "90", "", None),
    ("research", "participant", "会计类课题研究（其他参与人）", "60", "", None),
    ("paper", "sole", "在有CN刊号的经济管理类期刊发表会计类论文（独立作者）", "30", "篇", None),
    ("paper", "first", "在有CN刊号的经济管理类期刊发表会计类论文（第一作者）", "30", "篇", None),
    ("paper", "other", "在有CN刊号的经济管理类期刊发表会计类论文（其他作者）", "10", "篇", None),
    ("book", "sole", "公开出版会计类著作（独著）", "90", "部", None),
    ("book", "first", "公开出版会计类著作（第一作者）", "90", "部", None),
    ("book", "other", "公开出版会计类著作（其他作者）", "60", "部", None),
]

IMMUTABLE_SQL = """
CREATE OR REPLACE FUNCTION cpe_creditentry_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '学分登记不可修改或删除：更正请登记冲销记录（credit entries are append-only）';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cpe_creditentry_append_only BEFORE UPDATE OR DELETE ON cpe_creditentry
  FOR EACH ROW EXECUTE FUNCTION cpe_creditentry_append_only();
"""


def seed(apps, schema_editor):
    CEYear = apps.get_model("cpe", "CEYear")
    for year in range(2018, timezone.localdate().year + 1):
        deadline = dt.date(year + 1, 3, 31)
        makeup = MAKEUP.get(year)
        CEYear.objects.get_or_create(year=year, defaults={
            "deadline": deadline, "makeup_until": makeup,
            "registration_closes_on": max(deadline, makeup) if makeup else deadline,
            "note": "2018年7月1日起施行《会计专业技术人员继续教育规定》" if year == 2018 else ""})
    CreditStandard = apps.get_model("cpe", "CreditStandard")
    for form, variant, label, credits, per, cap in STANDARDS:
        CreditStandard.objects.get_or_create(form=form, variant=variant, effective_from=2018, defaults={
            "label": label, "credits": Decimal(credits), "per": per,
            "daily_cap": Decimal(cap) if cap else None, "subject_kind": "professional"})


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE_SQL)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS cpe_creditentry_append_only ON cpe_creditentry;")


class Migration(migrations.Migration):
    dependencies = [("cpe", "0001_initial")]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
