"""Page images of PDF scans (扫描件预览), so that a reviewer reads them in any browser.

Bureaus use the 360 and Edge browsers, whose built-in PDF viewers are missing, disabled by policy or
different in each version; an ``<iframe>`` of a PDF shows nothing there. So the server renders the first
:data:`MAX_PAGES` pages of a PDF scan to JPEG images with poppler's ``pdftoppm`` (installed by
``scripts/setup.sh``; ``poppler-utils``) at :data:`DPI`, and the pages are served through the same door as
the scan itself (``/files/<pk>/pages/<n>/``, :func:`records.selectors.attachment_get`: another county's
reviewer gets 404 for the pages as for the file).

- Rendered once per file content: the pages and a small manifest are kept in the default storage under
  ``previews/<sha256>/`` (local disk or object storage alike). The same bytes uploaded twice share them;
  who may see them is still decided per attachment, at the door.
- Bounded: one ``pdftoppm`` process with a wall-clock timeout (:data:`TIMEOUT_SECONDS`), CPU and memory
  limits, and no more than :data:`MAX_PAGES` pages. The uploaded PDF was already checked for active content
  (:mod:`records.uploads.pdf`). A file poppler cannot render, or not in time, gets a manifest without pages
  and the page offers the file itself (打开原文件), which the browser may still show or download.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from records.models import Attachment

log = logging.getLogger(__name__)

PDFTOPPM = "pdftoppm"
PDFINFO = "pdfinfo"
MAX_PAGES = 10
DPI = 110  # an A4 page is 910 × 1286 pixels: an ID card or a diploma reads clearly, a page weighs ~150 KB
JPEG_QUALITY = 82
TIMEOUT_SECONDS = 30
MEMORY_LIMIT = 768 * 1024 * 1024
MANIFEST = "pages.json"
VERSION = 1  # bump to render every file again (a new DPI, another format)


@dataclass(frozen=True)
class Preview:
    """What a PDF scan looks like as images: the storage names of its first pages, and how many it has."""

    pages: tuple[str, ...]
    total: int  # the PDF's page count (0 when unknown): "showing 10 of 14"

    @property
    def truncated(self) -> bool:
        return self.total > len(self.pages)

    @property
    def page_numbers(self) -> range:
        return range(1, len(self.pages) + 1)


def _folder(sha256: str) -> str:
    return f"previews/{sha256[:2]}/{sha256}"


def pdf_preview(attachment: Attachment) -> Preview | None:
    """The page images of a PDF scan, rendered on first use (see the module doc); None for an image scan."""
    if attachment.content_type != "application/pdf":
        return None
    manifest = f"{_folder(attachment.sha256)}/{MANIFEST}"
    cached = _read_manifest(manifest)
    if cached is not None:
        return cached
    preview = _render(attachment)
    default_storage.delete(manifest)  # two first views at once: the later manifest wins, both name real files
    default_storage.save(manifest, ContentFile(json.dumps(
        {"version": VERSION, "pages": list(preview.pages), "total": preview.total}).encode()))
    return preview


def page_name(attachment: Attachment, number: int) -> str | None:
    """The storage name of page ``number`` (1-based) of a PDF scan, or None if there is no such image."""
    preview = pdf_preview(attachment)
    if preview is None or not 1 <= number <= len(preview.pages):
        return None
    return preview.pages[number - 1]


def _read_manifest(name: str) -> Preview | None:
    try:
        with default_storage.open(name, "rb") as stream:
            data = json.loads(stream.read())
    except (FileNotFoundError, OSError, ValueError):
        return None
    if data.get("version") != VERSION:
        return None
    return Preview(pages=tuple(data.get("pages", ())), total=int(data.get("total", 0)))


def _run(arguments: list[str], cwd: str) -> subprocess.CompletedProcess:
    """Run a poppler tool under a wall-clock timeout and, through util-linux ``prlimit`` (not a
    ``preexec_fn``, which is unsafe in a threaded server), CPU and memory limits."""
    limit = shutil.which("prlimit")
    prefix = [limit, f"--cpu={TIMEOUT_SECONDS}", f"--as={MEMORY_LIMIT}", "--"] if limit else []
    return subprocess.run([*prefix, *arguments], cwd=cwd, capture_output=True, timeout=TIMEOUT_SECONDS,  # noqa: S603
                          check=True)


def _render(attachment: Attachment) -> Preview:
    with tempfile.TemporaryDirectory(prefix="kjzx-preview-") as work:
        source = Path(work) / "scan.pdf"
        try:
            with attachment.file.open("rb") as stream:
                source.write_bytes(stream.read())
        except FileNotFoundError:
            return Preview(pages=(), total=0)
        total = _page_count(source, work)
        try:
            _run([PDFTOPPM, "-q", "-f", "1", "-l", str(MAX_PAGES), "-r", str(DPI), "-jpeg",
                  "-jpegopt", f"quality={JPEG_QUALITY}", str(source), "page"], work)
        except (subprocess.SubprocessError, OSError) as exc:
            log.warning("pdftoppm could not render attachment %s: %s", attachment.pk, exc)
        images = sorted(Path(work).glob("page-*.jpg"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))
        folder = _folder(attachment.sha256)
        pages = tuple(default_storage.save(f"{folder}/p{number}.jpg", ContentFile(path.read_bytes()))
                      for number, path in enumerate(images[:MAX_PAGES], start=1))
    return Preview(pages=pages, total=max(total, len(pages)))


def _page_count(source: Path, work: str) -> int:
    try:
        output = _run([PDFINFO, str(source)], work).stdout.decode("utf-8", "replace")
    except (subprocess.SubprocessError, OSError):
        return 0
    for line in output.splitlines():
        if line.startswith("Pages:"):
            value = line.split(":", 1)[1].strip()
            return int(value) if value.isdigit() else 0
    return 0
