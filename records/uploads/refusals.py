"""Why an upload is refused: the Chinese messages, the status codes, and the marks of a polyglot.

Every refusal is a :class:`Refused` (a :class:`~kjzx.api.DomainError`, so the API answers 4xx with
``{"file": [message]}`` and the pages show the message beside the input) carrying a short English
``reason`` for logs and tests. 413 is "too big" (bytes or pixels), 415 "not a file we take", 400 an
empty file (API.md, errors).
"""

from __future__ import annotations

import re

from kjzx.api import DomainError

NOT_ACCEPTED = "只接受 PDF、JPG 或 PNG 文件（按文件内容识别，改扩展名无效）。"
EMPTY = "文件是空的。"
PDF_INCOMPLETE = "PDF 文件不完整或已损坏，请重新导出后上传。"
PDF_ACTIVE = ("PDF 含有脚本、自动操作、附件、表单提交、外部文件链接或加密等内容，不能接收；"
              "请打印为普通 PDF 或扫描后上传。")
PDF_UNCHECKABLE = ("PDF 内容过于复杂、压缩层次过多或已损坏，无法完成安全检查，不能接收；"
                   "请打印为普通 PDF 或扫描后上传。")
POLYGLOT = "文件中夹带网页代码或压缩包等其他内容，不能接收；请重新扫描或导出后上传。"
IMAGE_BROKEN = "图片不完整或已损坏，请重新拍摄或导出后上传。"
TOO_LARGE_TO_DECODE = "图片过大，无法在限定的内存内处理；请缩小后，或另存为普通（非渐进式）JPEG 后再上传。"


def too_many_pixels(limit: int) -> str:
    return (f"图片像素过大：不超过{limit // 10_000}万像素（A4 纸按 300 dpi 扫描约 870 万像素），"
            "请降低扫描分辨率或缩小后再上传。")


def too_big(limit_bytes: int) -> str:
    return f"文件过大：每个文件不超过{limit_bytes // (1024 * 1024)} MB。"


class Refused(DomainError):
    """An upload we do not take: ``message`` for the person, ``reason`` for the log and the tests."""

    def __init__(self, message: str, *, status_code: int = 415, reason: str = ""):
        super().__init__({"file": [message]}, status_code=status_code)
        self.reason = reason or message


# What makes a file a browser page as well (HTML a browser would sniff and run) — looked for in the
# raw bytes of every upload, case-insensitively. The marks are long enough that compressed or image
# data holds one by chance about once in 2^40 positions: a few times in a million 10 MB uploads at most.
_MARKUP = (b"<script", b"<iframe", b"javascript:")
_MARKUP_TAGS = (b"<html", b"<body")  # followed by whitespace, "/" or ">"
_MARKUP_DOCTYPE = re.compile(rb"<!doctype\s+html")
_TAG_END = frozenset(b"\t\n\x0c\r />")
# A ZIP (or .docx, .jar, .apk) is read from its end-of-central-directory record, which must lie in the
# last 65,557 bytes: a scan that carries one opens as an archive too (security 40).
_ZIP_END = b"PK\x05\x06"
_ZIP_END_WINDOW = 22 + 65_535


def _markup(data: bytes) -> bytes | None:
    low = data.lower()  # bytes.find runs at C speed; a case-insensitive regex over 10 MB does not
    for mark in _MARKUP:
        if low.find(mark) >= 0:
            return mark
    for tag in _MARKUP_TAGS:
        at = low.find(tag)
        while at >= 0:
            if at + len(tag) < len(low) and low[at + len(tag)] in _TAG_END:
                return tag
            at = low.find(tag, at + 1)
    found = _MARKUP_DOCTYPE.search(low) if low.find(b"<!doctype") >= 0 else None
    return found.group() if found else None


def refuse_polyglot(data: bytes) -> None:
    """Refuse a file that is also a web page or a ZIP archive (the PDF+HTML and JPEG+ZIP polyglots)."""
    found = _markup(data)
    if found:
        raise Refused(POLYGLOT, reason=f"markup {found!r}")
    if data.rfind(_ZIP_END, max(0, len(data) - _ZIP_END_WINDOW)) >= 0:
        raise Refused(POLYGLOT, reason="zip end-of-central-directory record")
