"""The seeds' review periods (晋财会〔2022〕68号): collection 5, change 10, transfer steps 10 working days."""

from django.db import migrations

STEPS = [
    ("collection.review", "信息采集审核（初审、复审）", 5),
    ("change.review", "档案变更审核", 10),
    ("transfer.origin", "调转：调出地受理", 10),
    ("transfer.destination", "调转：调入地审核", 10),
    ("claim.review", "其他形式学分登记审核", 10),
]


def seed(apps, schema_editor):
    StepDeadline = apps.get_model("kjzx", "StepDeadline")
    for key, label, days in STEPS:
        StepDeadline.objects.get_or_create(key=key, defaults={"label": label, "working_days": days})


class Migration(migrations.Migration):
    dependencies = [("kjzx", "0004_stepdeadline")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
