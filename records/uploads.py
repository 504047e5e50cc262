"""Uploaded scans (附件): checked by content, limited in size, stored under names we choose.

PDF, JPEG or PNG only, recognised by their first bytes (never by the name or the browser's
Content-Type); images must also open in Pillow. Over ``UPLOAD_MAX_BYTES`` → 413, another type →
415, both as :class:`DomainError` with a Chinese message. Files go through Django's default
storage, so ``STORAGE_BACKEND`` moves them to S3-compatible object storage without a code change.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from kjzx.api import DomainError
from kjzx.audit import record_event
from records.models import Attachment, AttachmentKind

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_content_type(upload: UploadedFile) -> str | None:
    """The type the bytes say, or None."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def _image_opens(upload: UploadedFile) -> bool:
    try:
        with Image.open(upload) as image:
            image.verify()
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    finally:
        upload.seek(0)


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def check_upload(upload: UploadedFile | None, kind: str) -> str:
    """The checked content type of ``upload``; DomainError (400/413/415) otherwise."""
    if kind not in AttachmentKind.values:
        raise DomainError({"kind": ["请选择附件类别：" + "、".join(str(x) for x in AttachmentKind.labels)]})
    if upload is None:
        raise DomainError({"file": ["请选择要上传的文件。"]})
    if upload.size > settings.UPLOAD_MAX_BYTES:
        limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        raise DomainError({"file": [f"文件过大：每个文件不超过{limit} MB。"]}, status_code=413)
    if upload.size == 0:
        raise DomainError({"file": ["文件是空的。"]})
    content_type = sniff_content_type(upload)
    if content_type is None or (content_type.startswith("image/") and not _image_opens(upload)):
        raise DomainError({"file": ["只接受 PDF、JPG 或 PNG 文件（按文件内容识别，改扩展名无效）。"]},
                          status_code=415)
    return content_type


@transaction.atomic
def attachment_create(*, owner, kind: str, upload: UploadedFile | None) -> Attachment:
    """Store one checked scan for ``owner`` (R-COL-2's supporting scans, R-CHG-1's evidence)."""
    content_type = check_upload(upload, kind)
    name = (upload.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    attachment = Attachment(owner=owner, kind=kind, name=name, content_type=content_type, size=upload.size,
                            sha256=_sha256(upload))
    attachment.file.save("upload", upload, save=False)  # attachment_path picks the real name
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    record_event(attachment, "attachment.uploaded", by=owner,
                 extra={"kind": kind, "size": attachment.size, "sha256": attachment.sha256})
    return attachment
