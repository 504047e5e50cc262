"""The daily cap of a face-to-face training comes from the credit standard in force (CreditStandard
face_to_face/per_hour, daily_cap), checked when a plan is filed: the fixed 10 学时 constraint goes."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cpe', '0005_filing_deadline'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='trainingplan',
            name='training_at_most_ten_hours_a_day',
        ),
        migrations.AlterField(
            model_name='trainingplan',
            name='hours_per_day',
            field=models.DecimalField(decimal_places=1, help_text='每学时45分钟；每日上限见备案时所在年度的面授培训学分计量标准。', max_digits=4, verbose_name='每日学时'),
        ),
        migrations.AddConstraint(
            model_name='trainingplan',
            constraint=models.CheckConstraint(condition=models.Q(('hours_per_day__gt', 0)), name='training_hours_a_day_positive'),
        ),
    ]
