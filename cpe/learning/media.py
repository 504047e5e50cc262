"""A lesson's file (课程章节文件), R-CE-8: what it really is, and serving it in byte ranges.

- :func:`media_probe` reads an upload by its content, never its name: a PDF (checked for active
  content by :func:`records.uploads.pdf.pdf_check`), or a video that Debian's ``ffprobe`` (package
  ``ffmpeg``) can open, with a video stream (a cover picture does not count) and a real duration. MP4
  (H.264, H.265, AV1) and WebM (VP8, VP9, AV1) play in every browser the portal supports; anything
  else is refused with the reason. Without ffprobe nothing is taken: a duration is never guessed.
- :func:`range_response` serves a stored file (through Django's storage API) with HTTP range
  requests: ``Accept-Ranges: bytes``, ``206 Partial Content`` with ``Content-Range`` for one range,
  ``416`` with ``Content-Range: bytes */size`` for one that cannot be satisfied, the whole file
  otherwise. A file on object storage (django-storages' S3) is read with a ranged GET of just those
  bytes, so a seek never downloads the whole video into the web process.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import tempfile
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse, StreamingHttpResponse

from cpe.models import LessonKind
from kjzx.api import DomainError

CHUNK = 64 * 1024
PROBE_SECONDS = 30  # a well-formed file is probed in well under a second; a hostile one is cut off
NO_FFPROBE = "服务器未安装视频检测程序 ffprobe（Debian 软件包 ffmpeg），暂不能接收视频，请联系系统管理员。"
NOT_MEDIA = "只接受 MP4（H.264）或 WebM 视频，以及 PDF 讲义（按文件内容识别，改扩展名无效）。"
NOT_PLAYABLE = "无法识别该视频：文件已损坏，或不是可在浏览器中播放的视频（请导出为 MP4（H.264）或 WebM）。"
NO_VIDEO = "该文件没有视频画面（可能是音频或图片），不能作为视频章节。"
NO_DURATION = "无法读取该视频的时长，请重新导出后上传。"
PDF_FOR_VIDEO = "视频章节请上传视频文件；PDF 讲义请选择“PDF讲义”类型。"
VIDEO_FOR_PDF = "PDF讲义章节请上传 PDF 文件；视频请选择“视频”类型。"

# ffprobe's format name → (content type, extension, the video codecs a browser plays in it)
CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": ("video/mp4", ".mp4", {"h264", "hevc", "av1"}),
    "matroska,webm": ("video/webm", ".webm", {"vp8", "vp9", "av1"}),
}


def media_max_bytes() -> int:
    return int(getattr(settings, "LEARNING_MEDIA_MAX_MB", 500)) * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Probe:
    """What an upload really is."""

    kind: str  # LessonKind.VIDEO or LessonKind.PDF
    content_type: str
    extension: str
    seconds: Decimal | None  # a video's duration, to the hundredth, rounded down


def _head(upload: UploadedFile, size: int = 8) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def media_probe(upload: UploadedFile, kind: str) -> Probe:
    """What ``upload`` is, for a lesson of ``kind`` (video or PDF); a DomainError (``media``) says why not."""
    if upload.size is None or upload.size == 0:
        raise DomainError({"media": ["文件是空的。"]})
    if upload.size > media_max_bytes():
        raise DomainError({"media": [f"文件过大：每个文件不超过{media_max_bytes() // (1024 * 1024)} MB。"]},
                          status_code=413)
    is_pdf = _head(upload).startswith(b"%PDF-")
    if kind == LessonKind.PDF:
        if not is_pdf:
            raise DomainError({"media": [VIDEO_FOR_PDF]}, status_code=415)
        return _pdf_probe(upload)
    if is_pdf:
        raise DomainError({"media": [PDF_FOR_VIDEO]}, status_code=415)
    return _video_probe(upload)


def _pdf_probe(upload: UploadedFile) -> Probe:
    from records.uploads.pdf import pdf_check
    from records.uploads.refusals import Refused

    upload.seek(0)
    try:
        pdf_check(upload.read())
    except Refused as exc:
        raise DomainError({"media": exc.errors["file"]}, status_code=exc.status_code) from None
    finally:
        upload.seek(0)
    return Probe(LessonKind.PDF, "application/pdf", ".pdf", None)


def _ffprobe(path: str) -> dict:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise DomainError({"media": [NO_FFPROBE]}, status_code=503)
    try:
        done = subprocess.run(  # noqa: S603 (a fixed program, the file as one argument)
            [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", path],
            capture_output=True, timeout=PROBE_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise DomainError({"media": [NOT_PLAYABLE]}, status_code=415) from None
    if done.returncode != 0:
        raise DomainError({"media": [NOT_PLAYABLE]}, status_code=415)
    try:
        return json.loads(done.stdout or b"{}")
    except ValueError:
        raise DomainError({"media": [NOT_PLAYABLE]}, status_code=415) from None


def _with_local_path(upload: UploadedFile, probe):
    """Run ``probe(path)`` on the upload as a file on disk (Django's temporary file, or a copy of it)."""
    if hasattr(upload, "temporary_file_path"):
        return probe(upload.temporary_file_path())
    with tempfile.NamedTemporaryFile(prefix="kjzx-lesson-", suffix=".media") as copy:
        upload.seek(0)
        for chunk in upload.chunks(CHUNK):
            copy.write(chunk)
        copy.flush()
        upload.seek(0)
        return probe(copy.name)


def _video_probe(upload: UploadedFile) -> Probe:
    info = _with_local_path(upload, _ffprobe)
    container = CONTAINERS.get((info.get("format") or {}).get("format_name", ""))
    if container is None:
        raise DomainError({"media": [NOT_MEDIA]}, status_code=415)
    content_type, extension, codecs = container
    videos = [stream for stream in info.get("streams") or [] if stream.get("codec_type") == "video"
              and not (stream.get("disposition") or {}).get("attached_pic")]
    if not videos:
        raise DomainError({"media": [NO_VIDEO]}, status_code=415)
    if not any(stream.get("codec_name") in codecs for stream in videos):
        raise DomainError({"media": [NOT_PLAYABLE]}, status_code=415)
    try:
        seconds = Decimal(str((info.get("format") or {}).get("duration"))).quantize(Decimal("0.01"), ROUND_DOWN)
    except ArithmeticError:
        raise DomainError({"media": [NO_DURATION]}, status_code=415) from None
    if not seconds.is_finite() or seconds <= 0:
        raise DomainError({"media": [NO_DURATION]}, status_code=415)
    return Probe(LessonKind.VIDEO, content_type, extension, seconds)


# --- serving in byte ranges ------------------------------------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """``(first, last)`` of a single satisfiable range; None for no (or an ignorable) Range header, so
    the whole file is sent; False for one that cannot be satisfied (416)."""
    header = (header or "").strip()
    if not header:
        return None
    match = _RANGE.match(header.replace(" ", ""))
    if match is None:  # several ranges, or another unit: RFC 9110 lets a server send the whole file
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


def _reader(storage, name: str, start: int, end: int):
    """The bytes ``start``..``end`` of a stored file, a chunk at a time."""
    bucket = getattr(storage, "bucket", None)
    if bucket is not None and hasattr(storage, "_normalize_name"):  # django-storages' S3: a ranged GET
        body = bucket.Object(storage._normalize_name(name)).get(Range=f"bytes={start}-{end}")["Body"]
        try:
            yield from iter(lambda: body.read(CHUNK), b"")
        finally:
            body.close()
        return
    with storage.open(name, "rb") as handle:
        handle.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk


def range_response(field_file, content_type: str, range_header: str, *, filename: str = "") -> HttpResponse:
    """The stored file of ``field_file`` (a FieldFile), whole or the one range asked for."""
    storage, name = field_file.storage, field_file.name
    size = storage.size(name)
    wanted = parse_range(range_header, size)
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted if wanted else (0, size - 1)
        response = StreamingHttpResponse(_reader(storage, name, start, end) if size else iter(()),
                                         status=206 if wanted else 200, content_type=content_type)
        response["Content-Length"] = str(end - start + 1 if size else 0)
        if wanted:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if filename:
        from django.utils.http import content_disposition_header

        response["Content-Disposition"] = content_disposition_header(False, filename)
    return response


def stored_name(probe: Probe, token: str) -> str:
    """The name a lesson's file is saved under: random, with the extension of what it really is."""
    return f"{token}{probe.extension}"


def file_size(field_file) -> int | None:
    try:
        return field_file.storage.size(field_file.name) if field_file else None
    except (OSError, NotImplementedError):
        return None

