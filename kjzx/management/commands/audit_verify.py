"""python manage.py audit_verify: walk the audit history's hash chain and name the first broken link.

Security promise 58 (等保 8.1.4.3 c): every row must match its keyed hash (HMAC-SM3, kjzx.audit_chain)
and point to the row before it. The walk is in id order, a page of rows at a time (constant memory).
Exit status 0 when the chain holds, 1 at the first broken link (``--all``: after naming every one).

``--expect ID:HASH`` also checks that row ID still carries HASH — the head printed by an earlier run,
kept elsewhere (a log store, the operations diary): removing the newest rows is invisible to the chain
itself, not to an anchor taken before.
"""

from django.core.management.base import BaseCommand, CommandError

from kjzx.audit_chain import BATCH, Break, Summary, verify
from kjzx.models import AuditEvent


class Command(BaseCommand):
    help = "校验审计记录的哈希链：逐条核对每条记录的哈希及其与前一条的衔接，指出第一处断裂（有断裂时退出码为 1）。"

    def add_arguments(self, parser):
        parser.add_argument("--all", dest="report_all", action="store_true",
                            help="不在第一处断裂停止，列出全部断裂处。")
        parser.add_argument("--expect", metavar="ID:HASH", help="同时核对某条记录仍带有此前记下的哈希（锚点）。")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"每次读取的记录数（默认 {BATCH}）。")

    def handle(self, *args, report_all: bool = False, expect: str | None = None, batch: int = BATCH, **options):
        anchor = self._anchor(expect) if expect else None
        if batch < 1:
            raise CommandError("--batch 须为正整数。")
        breaks: list[Break] = []
        summary = Summary()
        for item in verify(AuditEvent, batch=batch):
            if isinstance(item, Summary):
                summary = item
                break
            breaks.append(item)
            self.stderr.write(f"断裂：{item}")
            if not report_all:
                break
        if breaks:
            more = f"；共 {len(breaks)} 处" if report_all else ""
            raise CommandError(f"审计链断裂，第一处：{breaks[0]}{more}。")
        if anchor is not None:
            self._check_anchor(*anchor)
        if not summary.rows:
            self.stdout.write("审计记录为空。")
            return
        self.stdout.write(self.style.SUCCESS(
            f"审计链完整：共 {summary.rows} 条记录（id {summary.first_id}–{summary.last_id}，"
            f"首条记于 {summary.first_at:%Y-%m-%d}）；末条 id={summary.last_id}，哈希 {summary.head}。"))

    @staticmethod
    def _anchor(text: str) -> tuple[int, str]:
        pk, sep, digest = text.partition(":")
        if not sep or not pk.strip().isdigit() or len(digest.strip()) != 64:
            raise CommandError("--expect 的格式应为 记录id:64位十六进制哈希。")
        return int(pk), digest.strip().lower()

    @staticmethod
    def _check_anchor(pk: int, digest: str) -> None:
        found = AuditEvent.objects.filter(pk=pk).values_list("row_hash", flat=True).first()
        if found != digest:
            raise CommandError(f"锚点不符：id={pk} 应带哈希 {digest}，实为 {found or '（该记录不存在）'}。")
