"""Uploaded scans (附件): checked by content within bounds, stored clean, under names we choose.

PDF, JPEG or PNG only, recognised by their first bytes (never by the name or the browser's
Content-Type; security 34). Every refusal is a :class:`~records.uploads.refusals.Refused` with a
Chinese message: over ``UPLOAD_MAX_BYTES`` or too many pixels → 413, an empty file → 400, anything
else → 415. In order:

1. size and emptiness; the type by its first bytes (an executable, an archive, HTML or SVG renamed
   ``.pdf``/``.jpg`` is none of the three);
2. no polyglot: no HTML a browser would run, no ZIP directory at the end (:mod:`.refusals`);
3. a PDF is checked for active content within a memory and time budget (:mod:`.pdf`, security 36:
   refused, not rasterised); an image is decoded within a pixel bound and re-encoded (:mod:`.images`,
   security 35);
4. the file is stored under a random name (:func:`records.models.attachment_path`) through Django's
   default storage, so ``STORAGE_BACKEND`` moves it to S3-compatible object storage unchanged; the
   user's file name is kept only as harmless metadata (security 37).

A file stored inside a transaction that then rolls back has no row; :mod:`.sweep` removes such files
after a day (``records.tasks.sweep_orphaned_uploads``, ``manage.py sweep_orphaned_uploads``).
"""

from __future__ import annotations

import hashlib
import unicodedata

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from kjzx.api import DomainError
from kjzx.audit import record_event
from records.models import Attachment, AttachmentKind
from records.uploads.images import MAX_IMAGE_PIXELS, reencode_image
from records.uploads.pdf import pdf_check
from records.uploads.refusals import EMPTY, NOT_ACCEPTED, Refused, refuse_polyglot, too_big

__all__ = ["MAX_IMAGE_PIXELS", "attachment_create", "check_upload", "display_name", "reencode_image",
           "sniff_content_type"]

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_content_type(head: bytes) -> str | None:
    """The type the first bytes say, or None."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def _read(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    upload.seek(0)
    return data


def check_upload(upload: UploadedFile | None, kind: str) -> tuple[str, bytes]:
    """(content type, the bytes to store) of a checked ``upload``; :class:`Refused` or DomainError otherwise."""
    if kind not in AttachmentKind.values:
        raise DomainError({"kind": ["请选择附件类别：" + "、".join(str(x) for x in AttachmentKind.labels)]})
    if upload is None:
        raise DomainError({"file": ["请选择要上传的文件。"]})
    if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise Refused(too_big(settings.UPLOAD_MAX_BYTES), status_code=413, reason=f"{upload.size} bytes")
    data = _read(upload)
    if len(data) > settings.UPLOAD_MAX_BYTES:  # the declared size is the client's word; the bytes are not
        raise Refused(too_big(settings.UPLOAD_MAX_BYTES), status_code=413, reason="more bytes than declared")
    if not data:
        raise Refused(EMPTY, status_code=400, reason="empty")
    content_type = sniff_content_type(data[:16])
    if content_type is None:
        raise Refused(NOT_ACCEPTED, reason=f"unknown signature {data[:8]!r}")
    refuse_polyglot(data)
    if content_type == "application/pdf":
        pdf_check(data)
        return content_type, data
    return content_type, reencode_image(data, content_type)


@transaction.atomic
def attachment_create(*, owner, kind: str, upload: UploadedFile | None) -> Attachment:
    """Store one checked scan for ``owner`` (R-COL-2's supporting scans, R-CHG-1's evidence).

    Images are stored re-encoded; PDFs as they came, once checked. Size and SHA-256 are of the
    stored bytes; the same stored bytes uploaded again by ``owner`` as the same ``kind`` give back the
    attachment already there (``reused`` True), with an ``attachment.reused`` audit row. The file is
    written before the row (a row never points at a missing file); if the caller's transaction rolls
    back, the file is left without a row until the daily sweep.
    """
    content_type, data = check_upload(upload, kind)
    digest = hashlib.sha256(data).hexdigest()
    existing = Attachment.objects.filter(owner=owner, kind=kind, sha256=digest).order_by("-created_at", "-id").first()
    if existing is not None:  # the same file again: no second copy; ``reused`` says so
        existing.reused = True
        record_event(existing, "attachment.reused", by=owner, extra={"kind": kind, "sha256": digest})
        return existing
    attachment = Attachment(owner=owner, kind=kind, name=display_name(upload.name), content_type=content_type,
                            size=len(data), sha256=digest)
    attachment.reused = False
    attachment.file.save("upload", ContentFile(data), save=False)  # attachment_path picks the real name
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    record_event(attachment, "attachment.uploaded", by=owner,
                 extra={"kind": kind, "size": attachment.size, "sha256": attachment.sha256})
    return attachment


# Names Windows keeps for devices: "con.pdf" cannot be saved there under that name.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME = 200  # Attachment.name's length


def display_name(raw: str | None) -> str:
    """The user's file name as harmless metadata (security 37): no path, no control, format (bidi) or
    unassigned characters, no leading dots, not a Windows device name, at most 200 characters with
    the extension kept. Storage never uses it (the stored name is random)."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if stem.split(".")[0].strip().upper() in _RESERVED:
        stem = "_" + stem
    if len(extension) > 10:
        stem, extension = f"{stem}.{extension}" if stem else extension, ""
    suffix = f".{extension}" if extension else ""
    name = stem[:MAX_NAME - len(suffix)] + suffix
    return name if stem else "file"
