"""The bureau's period for an institution's filing: 10 working days (our choice; the seeds give none)."""

from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("kjzx", "StepDeadline").objects.get_or_create(
        key="filing.review", defaults={"label": "培训机构备案审核", "working_days": 10})


class Migration(migrations.Migration):
    dependencies = [("cpe", "0004_institutions_sources_claims"), ("kjzx", "0005_seed_step_deadlines")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
