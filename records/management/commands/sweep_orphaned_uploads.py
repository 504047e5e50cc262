"""python manage.py sweep_orphaned_uploads [--dry-run] [--grace-hours N]: what the daily beat task
``records.tasks.sweep_orphaned_uploads`` does, on demand."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from records.uploads.sweep import GRACE, orphaned_uploads_sweep


class Command(BaseCommand):
    help = "删除存储中没有任何附件记录引用、且早于宽限期的上传文件（每日定时任务也会执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只列出将被删除的文件，不删除、不记审计日志")
        parser.add_argument("--grace-hours", type=float, default=GRACE.total_seconds() / 3600,
                            help="宽限期（小时，默认 24，至少 1）：更新的文件可能正在上传，不删除")

    def handle(self, *args, dry_run, grace_hours, **options):
        if grace_hours < 1:
            raise CommandError("宽限期至少 1 小时：更新的文件可能属于正在进行的上传。")
        result = orphaned_uploads_sweep(grace=dt.timedelta(hours=grace_hours), dry_run=dry_run)
        for name in result.deleted:
            self.stdout.write(("将删除 " if dry_run else "已删除 ") + name)
        verb = "将删除" if dry_run else "已删除"
        self.stdout.write(self.style.SUCCESS(
            f"共检查 {result.listed} 个文件：{result.referenced} 个有记录引用，{result.recent} 个在宽限期内保留，"
            f"{verb} {len(result.deleted)} 个无记录的文件。"))
