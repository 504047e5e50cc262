"""Scans are readable: large images with zoom and rotation, PDFs as page
images rendered on the server with poppler so every browser shows them, the ID card beside the typed fields —
all through the one scoped door of the scans (R-ACL-1/2: another county's reviewer gets 404, pages included).
"""

from __future__ import annotations

import io
import re
from itertools import count

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from kjzx.workflow import workflow_transition
from records import previews
from records.services import archive_update
from records.uploads import attachment_create
from tests.factories import PDF_BYTES, login_staff, make_accountant, make_collection, upload

pytestmark = pytest.mark.django_db

_sequence = count(971, 2)


def pdf_bytes(pages: int) -> bytes:
    """A real PDF of ``pages`` pages (one scanned-looking image each), as a scanner's software makes them."""
    images = [Image.new("RGB", (600, 850), (255, 255 - 20 * n % 255, 200)) for n in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:], resolution=72)
    return buffer.getvalue()


def submitted_with_pdf(person, content: bytes, name="学历证书.pdf"):
    """A submitted collection whose scans include a PDF diploma."""
    collection = make_collection(person, "draft")
    pdf = attachment_create(owner=person, kind="diploma", upload=upload(name, content, "application/pdf"))
    scans = [*collection.archive.attachments.values_list("pk", flat=True), pdf.pk]
    archive_update(archive=collection.archive, by=person, data={"attachments": scans})
    return workflow_transition(collection, "submit", by=person), pdf


def page_url(pdf, number: int) -> str:
    return reverse("attachment_page", args=[pdf.pk, number])


def detail(client, user, collection) -> str:
    login_staff(client, user)
    response = client.get(reverse("workbench_collection", args=[collection.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_reviewer_gets_page_images_of_a_pdf(client, accountant, county_reviewer):
    """The page shows each page of a PDF as an image served by the scoped door, rendered once."""
    collection, pdf = submitted_with_pdf(accountant, pdf_bytes(2))
    page = detail(client, county_reviewer, collection)
    assert f'<img src="{page_url(pdf, 1)}"' in page and f'<img src="{page_url(pdf, 2)}"' in page
    assert "第 2 页，共 2 页" in page and "<iframe" not in page
    assert '<script src="/static/js/scans.js" defer></script>' in page  # zoom and rotation, from our own files
    for number in (1, 2):
        response = client.get(page_url(pdf, number))
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert response["Content-Security-Policy"] == "sandbox" and "no-store" in response["Cache-Control"]
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\xff\xd8")
        assert Image.open(io.BytesIO(body)).size == (917, 1299)  # 600×850 points at 110 dpi
    assert client.get(page_url(pdf, 3)).status_code == 404
    login_staff(client, accountant)  # the owner may open their own pages too
    assert client.get(page_url(pdf, 1)).status_code == 200


def test_another_countys_reviewer_gets_404_for_the_page_images_too(client, accountant, county_reviewer,
                                                                    other_county_reviewer, other_city_reviewer):
    """Outside the region the pages do not exist, like the file and the application (R-ACL-1)."""
    collection, pdf = submitted_with_pdf(accountant, pdf_bytes(1))
    detail(client, county_reviewer, collection)  # rendered: the 404 is the door's, not a missing image
    for reviewer in (other_county_reviewer, other_city_reviewer):
        login_staff(client, reviewer)
        assert client.get(page_url(pdf, 1)).status_code == 404
        assert client.get(reverse("attachment_file", args=[pdf.pk])).status_code == 404
    client.logout()
    assert client.get(page_url(pdf, 1)).status_code == 302  # a login first


def test_pages_are_rendered_once_and_bounded(client, accountant, county_reviewer, monkeypatch):
    """At most 10 pages are rendered, at 110 dpi, kept by the file's SHA-256; once kept, poppler is not run
    again."""
    collection, pdf = submitted_with_pdf(accountant, pdf_bytes(12))
    page = detail(client, county_reviewer, collection)
    assert page_url(pdf, 10) in page and page_url(pdf, 11) not in page
    assert "此处显示前 10 页（共 12 页）" in page
    manifest = f"previews/{pdf.sha256[:2]}/{pdf.sha256}/pages.json"
    assert default_storage.exists(manifest)
    monkeypatch.setattr(previews, "PDFTOPPM", "/nonexistent/pdftoppm")
    monkeypatch.setattr(previews, "PDFINFO", "/nonexistent/pdfinfo")
    assert client.get(page_url(pdf, 10)).status_code == 200
    assert previews.pdf_preview(pdf).total == 12


def test_a_pdf_poppler_cannot_render_falls_back_to_the_file(client, accountant, county_reviewer):
    """No page images (an empty or broken PDF): the page says so and offers the file itself."""
    collection, pdf = submitted_with_pdf(accountant, PDF_BYTES, name="空白.pdf")
    page = detail(client, county_reviewer, collection)
    assert "该PDF无法生成页面预览" in page and f'<iframe src="/files/{pdf.pk}/"' in page
    assert client.get(page_url(pdf, 1)).status_code == 404


def test_the_id_card_is_beside_the_typed_name_number_and_birth_date(client, county_reviewer):
    """On the collection's page the ID card scans sit in the identity section, next to the fields they prove;
    the other scans stay below."""
    person = make_accountant(sequence=next(_sequence), name="周八")
    collection = make_collection(person)
    id_card = collection.archive.attachments.get(kind="id_card")
    photo = collection.archive.attachments.get(kind="photo")
    page = detail(client, county_reviewer, collection)
    identity = re.search(r'<div class="identity-with-scans">(.*?)<h3>', page, re.S).group(1)
    assert "周八" in identity and collection.archive.masked_id_number in identity and "出生日期" in identity
    assert f'<img src="/files/{id_card.pk}/"' in identity and f"/files/{photo.pk}/" not in identity
    assert f'<img src="/files/{photo.pk}/"' in page
