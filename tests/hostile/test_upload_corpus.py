"""The hostile-upload corpus through both doors (security 34–37, 40).

Every file of :data:`tests.hostile.corpus.CORPUS` — renamed executables, archives, HTML and SVG,
polyglots, PDFs with scripts, actions or attachments (plain and hidden in encoded object streams), a
deflate bomb, pixel floods, an empty file, 11 MB, hostile file names — is refused with its status and
a Chinese message by the service in bounded memory and time, by ``POST /api/v1/attachments/`` and by
the accountant's collection page, and nothing is stored: no row, no file. Before 19 of
these 42 files were accepted (listed in docs/security.md).
"""

from __future__ import annotations

import time
import tracemalloc
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from records.models import Attachment
from records.tests.test_person_pages import form_of
from records.uploads import attachment_create
from records.uploads.refusals import Refused
from tests.factories import png_bytes
from tests.hostile.corpus import CORPUS

pytestmark = pytest.mark.django_db
IDS = [item.label for item in CORPUS]


def stored_files() -> set[Path]:
    return {path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


@pytest.fixture
def nothing_stored():
    before = stored_files()
    yield
    assert not Attachment.objects.exists()
    assert stored_files() == before


@pytest.mark.parametrize("item", CORPUS, ids=IDS)
def test_the_service_refuses_each_in_bounded_memory_and_time(accountant, item, nothing_stored):
    """Refused with its status and message; Python's peak under 100 MB beyond the file, under 10 s each."""
    content = item.content()
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(Refused) as caught:
            attachment_create(owner=accountant, kind="evidence", upload=SimpleUploadedFile(item.filename, content))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.status_code == item.status and item.says in caught.value.message
    assert peak < len(content) * 3 + 100 * 1024 * 1024 and time.monotonic() - started < 10


@pytest.mark.parametrize("item", CORPUS, ids=IDS)
def test_the_api_refuses_each(accountant, item, nothing_stored):
    """POST /api/v1/attachments/ answers the status with {"file": [message]} (API.md: 413 size, 415 type)."""
    client = APIClient()
    client.force_authenticate(accountant)
    response = client.post("/api/v1/attachments/", {"kind": "evidence",
                                                    "file": SimpleUploadedFile(item.filename, item.content())},
                           format="multipart")
    assert response.status_code == item.status, response.content[:300]
    assert item.says in response.json()["file"][0]


@pytest.mark.parametrize("item", CORPUS, ids=IDS)
def test_the_collection_page_refuses_each(client, accountant, item, nothing_stored):
    """The accountant's 信息采集 page (its scans step) names the refused file beside its input, shows
    the step again, stores nothing."""
    client.force_login(accountant)
    data = form_of(client.get("/me/collection/?step=scans"))
    data.update({"go": "stay", "diploma": SimpleUploadedFile(item.filename, item.content())})
    response = client.post("/me/collection/?step=scans", data)
    html = unescape(response.content.decode())
    assert response.status_code == 200 and (item.page_says or item.says) in html
    assert "第 5 步，共 6 步" in html


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\boot.ini", "scan\x00.png", "证书\u202egnp.exe",
                                  "con.png", "x" * 300 + ".png"])
def test_a_good_scan_under_a_hostile_name_is_stored_under_our_name(accountant, name):
    """The name is metadata only: stored as attachments/YYYY/MM/<random>.png under MEDIA_ROOT, shown harmless
    (no path, NUL or bidi override, not a device name, 200 characters at most) — security 37."""
    before = stored_files()
    client = APIClient()
    client.force_authenticate(accountant)
    response = client.post("/api/v1/attachments/", {"kind": "photo", "file": SimpleUploadedFile(name, png_bytes())},
                           format="multipart")
    assert response.status_code == 201
    attachment = Attachment.objects.get()
    shown = response.json()["name"]
    assert not {"/", "\\", "\x00", "\u202e"} & set(shown) and len(shown) <= 200 and shown.lower() != "con.png"
    created = stored_files() - before
    assert [path.relative_to(settings.MEDIA_ROOT).as_posix() for path in created] == [attachment.file.name]
    assert attachment.file.name.startswith("attachments/") and attachment.file.name.endswith(".png")
