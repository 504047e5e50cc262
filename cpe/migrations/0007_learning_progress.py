"""Online learning that earns its credits (R-CE-8): lessons with stored media and a duration,
progress measured by the server (learning sessions, heartbeats, refusals), the timing policy as one row,
and test papers drawn from the course's bank.

Lessons' ``minutes`` become ``duration_seconds``; the institution-provided video addresses go (the
media is now stored and served by the portal); an earlier test attempt keeps its time as its start;
lessons completed before keep their completion, credited with their duration.
"""

import cpe.models.learning
import django.core.validators
import django.db.models.deletion
import django.db.models.expressions
import django.utils.timezone
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


def minutes_to_seconds(apps, schema_editor):
    Lesson = apps.get_model("cpe", "Lesson")
    Lesson.objects.update(duration_seconds=models.F("minutes") * 60)


def seconds_to_minutes(apps, schema_editor):
    Lesson = apps.get_model("cpe", "Lesson")
    Lesson.objects.update(minutes=(models.F("duration_seconds") + 59) / 60)


def earlier_records(apps, schema_editor):
    """Attempts made before papers existed start when they were submitted; lessons marked learned before
    keep their completion (their time was never measured: credited with the lesson's duration)."""
    TestAttempt = apps.get_model("cpe", "TestAttempt")
    LessonProgress = apps.get_model("cpe", "LessonProgress")
    Lesson = apps.get_model("cpe", "Lesson")
    TestAttempt.objects.update(started_at=models.F("submitted_at"))
    duration = Lesson.objects.filter(pk=models.OuterRef("lesson_id")).values("duration_seconds")[:1]
    LessonProgress.objects.filter(completed_at__isnull=False).update(
        credited_seconds=models.Subquery(duration), updated_at=models.F("completed_at"),
        started_at=models.F("completed_at"))


def policy_seed(apps, schema_editor):
    apps.get_model("cpe", "LearningPolicy").objects.get_or_create(pk=1)


class Migration(migrations.Migration):

    dependencies = [
        ('cpe', '0006_training_daily_cap_from_standard'),
        ('records', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='LearningPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('completion_ratio', models.DecimalField(decimal_places=2, default=Decimal('0.95'), help_text='已计学习时长达到章节时长的该比例即完成本节，0.50–1.00。', max_digits=3, validators=[django.core.validators.MinValueValidator(Decimal('0.50')), django.core.validators.MaxValueValidator(Decimal('1.00'))], verbose_name='完成比例')),
                ('max_playback_rate', models.DecimalField(decimal_places=2, default=Decimal('1.25'), help_text='倍速播放时，每秒最多计入的学习时长；超过该倍速的进度记录不予接受。1.00–2.00。', max_digits=3, validators=[django.core.validators.MinValueValidator(Decimal('1.00')), django.core.validators.MaxValueValidator(Decimal('2.00'))], verbose_name='最高计时倍速')),
                ('seek_tolerance_seconds', models.PositiveSmallIntegerField(default=5, help_text='播放位置超出已观看内容的容许误差（网络延迟），1–30秒。', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(30)], verbose_name='进度容差（秒）')),
                ('heartbeat_seconds', models.PositiveSmallIntegerField(default=15, help_text='浏览器在播放且页面可见时上报学习进度的间隔，5–60秒；图文章节每次最多计入两个间隔。', validators=[django.core.validators.MinValueValidator(5), django.core.validators.MaxValueValidator(60)], verbose_name='进度上报间隔（秒）')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='修改时间')),
            ],
            options={
                'verbose_name': '网络学习计时规则',
                'verbose_name_plural': '网络学习计时规则',
            },
        ),
        migrations.CreateModel(
            name='LearningRefusal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间')),
                ('kind', models.CharField(choices=[('forged', '进度记录无效（伪造或校验失败）'), ('replayed', '进度记录重复提交'), ('out_of_order', '进度记录顺序错乱'), ('too_fast', '播放速度超过上限'), ('seek_ahead', '跳过未观看的内容'), ('two_lessons', '同时学习多节课程'), ('too_early', '学习时长不足')], max_length=20, verbose_name='拒收类型')),
                ('reason', models.CharField(max_length=300, verbose_name='原因')),
                ('detail', models.JSONField(default=dict, verbose_name='详情')),
                ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP地址')),
            ],
            options={
                'verbose_name': '学习记录拒收日志',
                'verbose_name_plural': '学习记录拒收日志',
                'ordering': ['-at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='LearningSession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=40, unique=True, verbose_name='会话标识')),
                ('seq', models.PositiveIntegerField(default=0, verbose_name='已接受的进度序号')),
                ('nonce', models.CharField(max_length=40, verbose_name='下一次进度校验码')),
                ('playing', models.BooleanField(default=False, verbose_name='计时中')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='开始时间')),
                ('last_beat_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='最近一次进度时间')),
                ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='结束时间')),
                ('end_reason', models.CharField(blank=True, choices=[('superseded', '已在其他页面或设备开始学习')], max_length=20, verbose_name='结束原因')),
                ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP地址')),
                ('user_agent', models.CharField(blank=True, max_length=200, verbose_name='浏览器')),
            ],
            options={
                'verbose_name': '学习会话',
                'verbose_name_plural': '学习会话',
            },
        ),
        migrations.AlterModelOptions(
            name='testattempt',
            options={'ordering': ['-started_at', '-id'], 'verbose_name': '课程测试记录', 'verbose_name_plural': '课程测试记录'},
        ),
        migrations.RemoveIndex(
            model_name='testattempt',
            name='test_attempt_enrolment_idx',
        ),
        migrations.RemoveField(
            model_name='course',
            name='video_url',
        ),
        migrations.RemoveField(
            model_name='lesson',
            name='video_url',
        ),
        migrations.AddField(
            model_name='course',
            name='test_size',
            field=models.PositiveSmallIntegerField(default=10, help_text='每次测试从题库中随机抽取的题数；题库不足时全部抽取。', verbose_name='每次测试抽题数'),
        ),
        migrations.AddField(
            model_name='lesson',
            name='duration_seconds',
            field=models.PositiveIntegerField(default=2700, help_text='视频章节不得超过视频实际时长；图文、PDF章节为最少阅读时间。', verbose_name='时长（秒）'),
            preserve_default=False,
        ),
        migrations.RunPython(minutes_to_seconds, seconds_to_minutes),
        migrations.RemoveField(
            model_name='lesson',
            name='minutes',
        ),
        migrations.AddField(
            model_name='lesson',
            name='kind',
            field=models.CharField(choices=[('video', '视频'), ('text', '图文'), ('pdf', 'PDF讲义')], default='text', max_length=10, verbose_name='章节类型'),
        ),
        migrations.AddField(
            model_name='lesson',
            name='media',
            field=models.FileField(blank=True, max_length=200, upload_to=cpe.models.learning.lesson_media_path, verbose_name='视频或PDF文件'),
        ),
        migrations.AddField(
            model_name='lesson',
            name='media_seconds',
            field=models.DecimalField(blank=True, decimal_places=2, editable=False, max_digits=8, null=True, verbose_name='视频实际时长（秒）'),
        ),
        migrations.AddField(
            model_name='lesson',
            name='media_type',
            field=models.CharField(blank=True, editable=False, max_length=50, verbose_name='文件类型'),
        ),
        migrations.AddField(
            model_name='lessonprogress',
            name='credited_seconds',
            field=models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=9, verbose_name='已计学习时长（秒）'),
        ),
        migrations.AddField(
            model_name='lessonprogress',
            name='furthest',
            field=models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=9, verbose_name='视频已观看到（秒）'),
        ),
        migrations.AddField(
            model_name='lessonprogress',
            name='position',
            field=models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=9, verbose_name='上次观看位置（秒）'),
        ),
        migrations.AddField(
            model_name='lessonprogress',
            name='started_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='开始学习时间'),
        ),
        migrations.AddField(
            model_name='lessonprogress',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='最近学习时间'),
        ),
        migrations.AddField(
            model_name='question',
            name='retired',
            field=models.BooleanField(default=False, help_text='停用的题目不再抽取，已作答的记录仍保留。', verbose_name='已停用'),
        ),
        migrations.AddField(
            model_name='testattempt',
            name='questions',
            field=models.JSONField(default=list, verbose_name='抽取的题目'),
        ),
        migrations.AddField(
            model_name='testattempt',
            name='started_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='抽题时间'),
        ),
        migrations.AddField(
            model_name='testattempt',
            name='wrong',
            field=models.JSONField(default=list, verbose_name='答错的题目'),
        ),
        migrations.AlterField(
            model_name='lesson',
            name='body',
            field=models.TextField(blank=True, help_text='图文章节的正文；视频、PDF章节可写内容提要。', verbose_name='正文'),
        ),
        migrations.AlterField(
            model_name='lessonprogress',
            name='completed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='完成时间'),
        ),
        migrations.AlterField(
            model_name='testattempt',
            name='passed',
            field=models.BooleanField(blank=True, null=True, verbose_name='是否合格'),
        ),
        migrations.AlterField(
            model_name='testattempt',
            name='score',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='成绩'),
        ),
        migrations.AlterField(
            model_name='testattempt',
            name='submitted_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='提交时间'),
        ),
        migrations.RunPython(earlier_records, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='testattempt',
            index=models.Index(fields=['enrolment', '-started_at'], name='test_attempt_enrolment_idx'),
        ),
        migrations.AddConstraint(
            model_name='course',
            constraint=models.CheckConstraint(condition=models.Q(('test_size__gt', 0)), name='course_test_size_positive'),
        ),
        migrations.AddConstraint(
            model_name='lesson',
            constraint=models.CheckConstraint(condition=models.Q(('duration_seconds__gt', 0)), name='lesson_duration_positive'),
        ),
        migrations.AddConstraint(
            model_name='lesson',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'video'), _negated=True), models.Q(('duration_seconds__lte', django.db.models.expressions.CombinedExpression(models.F('media_seconds'), '+', models.Value(Decimal('1')))), ('media_seconds__isnull', False)), _connector='OR'), name='lesson_video_within_media'),
        ),
        migrations.AddConstraint(
            model_name='lessonprogress',
            constraint=models.CheckConstraint(condition=models.Q(('credited_seconds__gte', 0), ('furthest__gte', 0), ('position__gte', 0)), name='lesson_progress_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='testattempt',
            constraint=models.UniqueConstraint(condition=models.Q(('submitted_at__isnull', True)), fields=('enrolment',), name='test_attempt_one_open_paper'),
        ),
        migrations.AddConstraint(
            model_name='testattempt',
            constraint=models.CheckConstraint(condition=models.Q(('submitted_at__isnull', True), models.Q(('passed__isnull', False), ('score__isnull', False)), _connector='OR'), name='test_attempt_submitted_is_scored'),
        ),
        migrations.AddField(
            model_name='learningpolicy',
            name='updated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='修改人'),
        ),
        migrations.AddField(
            model_name='learningrefusal',
            name='archive',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='learning_refusals', to='records.archive', verbose_name='档案'),
        ),
        migrations.AddField(
            model_name='learningrefusal',
            name='lesson',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cpe.lesson', verbose_name='章节'),
        ),
        migrations.AddField(
            model_name='learningsession',
            name='archive',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='learning_sessions', to='records.archive', verbose_name='档案'),
        ),
        migrations.AddField(
            model_name='learningsession',
            name='progress',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sessions', to='cpe.lessonprogress', verbose_name='章节学习记录'),
        ),
        migrations.AddField(
            model_name='learningrefusal',
            name='session',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='refusals', to='cpe.learningsession', verbose_name='学习会话'),
        ),
        migrations.AddConstraint(
            model_name='learningpolicy',
            constraint=models.CheckConstraint(condition=models.Q(('pk', 1)), name='learning_policy_single_row'),
        ),
        migrations.AddConstraint(
            model_name='learningsession',
            constraint=models.UniqueConstraint(condition=models.Q(('ended_at__isnull', True)), fields=('archive',), name='learning_session_one_active'),
        ),
        migrations.AddIndex(
            model_name='learningrefusal',
            index=models.Index(fields=['archive', '-at'], name='learning_refusal_person_idx'),
        ),
        migrations.AddIndex(
            model_name='learningrefusal',
            index=models.Index(fields=['kind', '-at'], name='learning_refusal_kind_idx'),
        ),
        migrations.RunPython(policy_seed, migrations.RunPython.noop),
    ]
