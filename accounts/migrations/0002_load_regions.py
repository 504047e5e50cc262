"""Load Shanxi's jurisdiction tree (GB/T 2260) from accounts/data/regions_shanxi.csv."""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.regions import load_regions

    load_regions(apps.get_model("accounts", "Region"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
