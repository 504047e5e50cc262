"""The provinces other than Shanxi (GB/T 2260), all marked connected to the national platform.

Which provinces are connected is not in the seeds; provincial staff correct the list in the admin
(管理后台 → 省份（跨省调转）). Hong Kong, Macao and Taiwan are not on the platform and not listed.
"""

from django.db import migrations

PROVINCES = [
    ("11", "北京市"), ("12", "天津市"), ("13", "河北省"), ("15", "内蒙古自治区"), ("21", "辽宁省"),
    ("22", "吉林省"), ("23", "黑龙江省"), ("31", "上海市"), ("32", "江苏省"), ("33", "浙江省"),
    ("34", "安徽省"), ("35", "福建省"), ("36", "江西省"), ("37", "山东省"), ("41", "河南省"),
    ("42", "湖北省"), ("43", "湖南省"), ("44", "广东省"), ("45", "广西壮族自治区"), ("46", "海南省"),
    ("50", "重庆市"), ("51", "四川省"), ("52", "贵州省"), ("53", "云南省"), ("54", "西藏自治区"),
    ("61", "陕西省"), ("62", "甘肃省"), ("63", "青海省"), ("64", "宁夏回族自治区"), ("65", "新疆维吾尔自治区"),
]


def seed(apps, schema_editor):
    Province = apps.get_model("transfers", "Province")
    for code, name in PROVINCES:
        Province.objects.get_or_create(code=code, defaults={"name": name, "connected": True})
    apps.get_model("transfers", "ExchangePolicy").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("transfers", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
