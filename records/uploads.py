"""Uploaded scans (附件): checked by content, limited in size, stored under names we choose.

PDF, JPEG or PNG only, recognised by their first bytes (never by the name or the browser's
Content-Type). Images are decoded in full and re-encoded, which drops EXIF/GPS and anything hidden
after the image; more than 40 megapixels is refused. PDFs must be complete (``%%EOF``) and carry no
JavaScript, embedded files, launch actions, XFA or encryption (looked for in the file and in its
compressed streams): such a PDF is refused, not rasterised. Over ``UPLOAD_MAX_BYTES`` → 413, another type →
415, both as :class:`DomainError` with a Chinese message. Files go through Django's default
storage, so ``STORAGE_BACKEND`` moves them to S3-compatible object storage without a code change.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

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


MAX_IMAGE_PIXELS = 40_000_000  # a 40-megapixel scan is plenty; more is a pixel flood
NOT_ACCEPTED = "只接受 PDF、JPG 或 PNG 文件（按文件内容识别，改扩展名无效）。"
PDF_FORBIDDEN = {b"JavaScript", b"JS", b"EmbeddedFile", b"EmbeddedFiles", b"Launch", b"Encrypt", b"RichMedia",
                 b"XFA"}
_PDF_NAME = re.compile(rb"/((?:[A-Za-z0-9]|#[0-9A-Fa-f]{2})+)")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
MAX_INFLATED = 50 * 1024 * 1024


def reencode_image(upload: UploadedFile, content_type: str) -> bytes:
    """The image decoded in full and written afresh: no EXIF/GPS or other metadata survives (security 35)."""
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image.verify()  # chunk checksums (PNG); the full decode below catches truncated JPEGs
        upload.seek(0)
        with Image.open(upload) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise DomainError({"file": ["图片像素过大，请缩小后再上传。"]}, status_code=413)
            image = ImageOps.exif_transpose(image)  # keep what the camera meant by "up"
            image.load()
            buffer = io.BytesIO()
            if content_type == "image/jpeg":
                image.convert("RGB").save(buffer, format="JPEG", quality=90, optimize=True)
            else:
                if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                    image = image.convert("RGBA")
                image.save(buffer, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError({"file": [NOT_ACCEPTED]}, status_code=415) from None
    finally:
        upload.seek(0)
    return buffer.getvalue()


def _pdf_names(data: bytes) -> set[bytes]:
    """Every name token of a PDF, #xx escapes decoded, in the file and in its Flate streams."""
    chunks = [data]
    for match in _PDF_STREAM.finditer(data):
        inflater = zlib.decompressobj()
        try:
            chunks.append(inflater.decompress(match.group(1), MAX_INFLATED))
        except zlib.error:
            continue  # not Flate (an image, say): nothing to read
    names = set()
    for chunk in chunks:
        for raw in _PDF_NAME.findall(chunk):
            names.add(re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw))
    return names


def check_pdf(upload: UploadedFile) -> None:
    """A complete PDF with no scripts, embedded files, launch actions or encryption (security 36: reject)."""
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if b"%%EOF" not in data[-2048:]:
        raise DomainError({"file": ["PDF 文件不完整或已损坏，请重新导出后上传。"]}, status_code=415)
    found = _pdf_names(data) & PDF_FORBIDDEN
    if found:
        raise DomainError({"file": ["PDF 含有脚本、附件或加密等内容，不能接收；请打印为普通 PDF 或扫描后上传。"]},
                          status_code=415)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
    if content_type is None:
        raise DomainError({"file": [NOT_ACCEPTED]}, status_code=415)
    if content_type == "application/pdf":
        check_pdf(upload)
    return content_type


@transaction.atomic
def attachment_create(*, owner, kind: str, upload: UploadedFile | None) -> Attachment:
    """Store one checked scan for ``owner`` (R-COL-2's supporting scans, R-CHG-1's evidence).

    Images are stored re-encoded; PDFs as they came, once checked. Size and SHA-256 are of the
    stored bytes.
    """
    content_type = check_upload(upload, kind)
    if content_type.startswith("image/"):
        data = reencode_image(upload, content_type)
    else:
        upload.seek(0)
        data = upload.read()
    name = _display_name(upload.name)
    attachment = Attachment(owner=owner, kind=kind, name=name, content_type=content_type, size=len(data),
                            sha256=_sha256(data))
    attachment.file.save("upload", ContentFile(data), save=False)  # attachment_path picks the real name
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    record_event(attachment, "attachment.uploaded", by=owner,
                 extra={"kind": kind, "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def _display_name(raw: str | None) -> str:
    """The user's file name as harmless metadata: no path, no control or bidi characters (security 37)."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name.strip()[:200] or "file"
