"""Uploads are judged by their bytes and stored clean (R-COL-2 scans; security promises 34–37)."""

from __future__ import annotations

import io
import re
import zlib

import pytest
from PIL import Image

from records.forms import AttachmentsForm
from records.models import Attachment
from records.uploads import attachment_create, display_name
from records.uploads.refusals import Refused
from tests.factories import PDF_BYTES, png_bytes, upload

pytestmark = pytest.mark.django_db


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (16, 16), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "某品牌手机"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 50.0, 0.0)}  # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def refused(person, content, name="scan.pdf") -> Refused:
    with pytest.raises(Refused) as caught:
        attachment_create(owner=person, kind="evidence", upload=upload(name, content, "application/pdf"))
    assert not Attachment.objects.exists()
    return caught.value


def test_images_are_reencoded_without_exif_or_gps(accountant):
    """A phone photo loses its EXIF and GPS on the way in (security 35)."""
    original = jpeg_with_gps()
    assert b"Exif" in original
    attachment = attachment_create(owner=accountant, kind="photo", upload=upload("照片.jpg", original, "image/jpeg"))
    stored = attachment.file.read()
    assert attachment.content_type == "image/jpeg" and stored.startswith(b"\xff\xd8\xff")
    assert b"Exif" not in stored and "GPS" not in str(Image.open(io.BytesIO(stored)).getexif())
    assert attachment.size == len(stored)


def test_a_truncated_jpeg_is_refused(accountant):
    broken = jpeg_with_gps()[:-40]
    with pytest.raises(Refused) as caught:
        attachment_create(owner=accountant, kind="photo", upload=upload("a.jpg", broken, "image/jpeg"))
    assert caught.value.status_code == 415 and "不完整" in caught.value.message


def test_a_pixel_flood_is_refused(accountant, monkeypatch):
    """An image of absurd dimensions is refused before it is decoded (security 35)."""
    monkeypatch.setattr("records.uploads.images.MAX_IMAGE_PIXELS", 100)
    with pytest.raises(Refused) as caught:
        attachment_create(owner=accountant, kind="photo", upload=upload("big.png", png_bytes((20, 20))))
    assert caught.value.status_code == 413 and "像素" in caught.value.message


def test_a_pdf_must_be_complete(accountant):
    error = refused(accountant, PDF_BYTES.replace(b"%%EOF", b""))
    assert error.status_code == 415 and "不完整" in error.message


@pytest.mark.parametrize("payload", [
    b"3 0 obj<</Type/Action/S/JavaScript/JS(app.alert(1))>>endobj",
    b"3 0 obj<</S/J#61vaScript/JS(x)>>endobj",  # the same name, hex-escaped
    b"3 0 obj<</Type/Filespec/EF<</F 5 0 R>>/EmbeddedFile 5 0 R>>endobj",
    b"3 0 obj<</S/Launch/F(cmd.exe)>>endobj",
    b"3 0 obj<</S/SubmitForm/F(http://example.com/)>>endobj",
])
def test_pdfs_with_active_content_are_refused(accountant, payload):
    """Scripts, form posts, embedded files and launch actions are refused (security 36)."""
    error = refused(accountant, PDF_BYTES.replace(b"trailer", payload + b"\ntrailer"))
    assert error.status_code == 415 and "脚本" in error.message


def test_an_encrypted_pdf_is_refused(accountant):
    """Encryption hides what is inside from the check: refused (security 36)."""
    error = refused(accountant, PDF_BYTES.replace(b"trailer<<", b"trailer<</Encrypt 9 0 R"))
    assert error.status_code == 415 and "加密" in error.message


def test_javascript_hidden_in_a_compressed_stream_is_found(accountant):
    hidden = zlib.compress(b"<</S/JavaScript/JS(app.alert(1))>>")
    content = PDF_BYTES.replace(b"trailer", b"3 0 obj<</Filter/FlateDecode>>stream\n" + hidden + b"endstream\ntrailer")
    assert refused(accountant, content).status_code == 415


def test_a_plain_pdf_is_kept_as_it_came(accountant):
    attachment = attachment_create(owner=accountant, kind="diploma", upload=upload("毕业证.pdf", PDF_BYTES,
                                                                                  "application/pdf"))
    assert attachment.file.read() == PDF_BYTES and attachment.content_type == "application/pdf"


def test_the_users_file_name_is_only_harmless_metadata(accountant):
    """Paths, control and bidi characters are dropped; the stored name is ours (security 37)."""
    attachment = attachment_create(owner=accountant, kind="photo",
                                   upload=upload("../../etc/\u202eevil\x00gnp.png", png_bytes()))
    assert attachment.name == "evilgnp.png"
    assert re.fullmatch(r"attachments/\d{4}/\d{2}/[0-9a-f]{32}\.png", attachment.file.name)


@pytest.mark.parametrize(("raw", "shown"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Windows\\system32\\cmd.pdf", "cmd.pdf"),
    ("scan\x00.pdf", "scan.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ("con.pdf", "_con.pdf"),
    ("LPT1.tar.png", "_LPT1.tar.png"),
    ("...hidden.png", "hidden.png"),
    ("", "file"),
    ("..", "file"),
    ("证" * 300 + ".pdf", "证" * 196 + ".pdf"),
])
def test_hostile_file_names_become_harmless_display_names(raw, shown):
    """No path, NUL, bidi override or device name survives; 200 characters at most, extension kept (security 37)."""
    assert display_name(raw) == shown


def test_a_failed_forms_files_come_back_only_if_they_are_the_callers_own_in_one_query(
        accountant, other_accountant, django_assert_num_queries):
    """The ``pending`` ids a page posts back (files uploaded with a form that then failed) are the
    browser's word: another person's file, another kind, one already attached and junk are dropped."""
    def stored(owner, kind, side):  # each its own bytes: the same file again would be the one stored
        return attachment_create(owner=owner, kind=kind, upload=upload(f"{side}.png", png_bytes((side, side))))

    mine = [stored(accountant, "evidence", side) for side in (8, 9, 10)]
    theirs, photo = stored(other_accountant, "evidence", 11), stored(accountant, "photo", 12)
    posted = {"pending": ",".join(str(pk) for pk in (mine[2].pk, theirs.pk, photo.pk, mine[0].pk, mine[1].pk,
                                                     mine[2].pk)) + ",x,-1"}
    with django_assert_num_queries(1):
        form = AttachmentsForm.for_user(accountant, posted, kinds=["evidence"], attached=[mine[1]])
    assert form.pending == [mine[2], mine[0]]
