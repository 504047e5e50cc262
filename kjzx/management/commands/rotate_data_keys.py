"""python manage.py rotate_data_keys: every sealed ID and mobile number under the current data key.

Rotation (docs/deployment.md, "Data keys"): put the new key first in ``KJZX_DATA_KEYS`` and keep the old
one listed after it (values sealed under it still open), restart, run this command, then drop the old
key. It walks every table with an encrypted column (:func:`kjzx.sealing.sealed_tables`) by primary key
in batches, opens each value under whatever key id it names and seals it again under the current one;
a value already under the current key is left alone, so the command is safe to run twice or to resume.

``--rehash`` also recomputes every keyed hash (the search and uniqueness indexes) and the accountants'
user names after ``KJZX_HASH_KEY`` changed (there is no old hash key to keep: run it at once).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from kjzx import crypto
from kjzx.audit import record_event, register_event_labels
from kjzx.sealing import BATCH, rotate_all

register_event_labels({"security.data_keys_rotated": "数据加密密钥轮换"})


class Command(BaseCommand):
    help = "用当前数据密钥重新加密全部证件号码和手机号码（密钥轮换）；--rehash 同时按当前哈希密钥重算检索哈希。"

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="同时重算全部检索哈希（KJZX_HASH_KEY 更换后）。")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"每批处理的行数（默认 {BATCH}）。")

    def handle(self, *args, rehash: bool = False, batch: int = BATCH, **options):
        if batch < 1:
            raise CommandError("--batch 须为正整数。")
        try:
            ring = crypto.keyring()
            counts = rotate_all(connection, rehash=rehash, batch=batch)
        except (crypto.SealError, crypto.ImproperlyConfigured) as error:
            raise CommandError(str(error)) from None
        for table, count in counts.items():
            self.stdout.write(f"{table}: {count.rows} 行，重新加密 {count.changed} 行")
        changed = sum(count.changed for count in counts.values())
        record_event(None, "security.data_keys_rotated",
                     extra={"key_id": ring.current, "rehash": rehash, "rows_changed": changed})
        self.stdout.write(self.style.SUCCESS(f"完成：当前密钥 {ring.current}，共重新加密 {changed} 行。"))
