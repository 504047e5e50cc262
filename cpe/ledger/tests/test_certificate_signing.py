"""A certificate that proves itself (R-CE-15): the PAdES signature, its key, and the bureau's seal."""

from __future__ import annotations

import io
import logging
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from accounts.backends import ADD, ADMIN_PERMISSIONS, VIEW
from accounts.models import Role
from cpe.ledger.certificates import services, signing
from cpe.ledger.certificates.seal import demo_seal_png, seal_png
from cpe.ledger.certificates.services import certificate_for, certificate_machinery_warm, certificate_pdf, seal_upload
from cpe.ledger.services import credit_register
from cpe.models import Certificate, CertificateSeal
from kjzx.api import DomainError
from kjzx.audit import AuditEvent
from tests.factories import as_admin, login_staff, make_active_archive

pytestmark = pytest.mark.django_db


def complete(archive, year=2024):
    for source, kind, credits in (("p1", "professional", 60), ("g1", "general", 30)):
        credit_register(archive=archive, year=year, subject_kind=kind, form="online", credits=credits,
                        source_type="province", source_id=source, source_label=f"省登记{source}")


def validate(pdf: bytes, trust: asn1_x509.Certificate):
    """pyHanko's validator, trusting ``trust`` only and fetching nothing."""
    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 1
    return validate_pdf_signature(signatures[0], ValidationContext(trust_roots=[trust], allow_fetching=False))


def tampered(pdf: bytes) -> bytes:
    """One byte changed in the middle of the file's longest stream (signed; the file still parses)."""
    spans = [(found.end(), pdf.index(b"endstream", found.end())) for found in re.finditer(rb"(?<!end)stream\r?\n", pdf)]
    start, end = max(spans, key=lambda span: span[1] - span[0])
    middle = (start + end) // 2
    return pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1:]


@pytest.fixture
def archive(accountant):
    return make_active_archive(accountant)


@pytest.fixture
def signed(archive):
    complete(archive)
    return certificate_pdf(certificate_for(archive, 2024))


def test_the_signed_certificate_validates_and_a_changed_byte_does_not(signed):
    """pyHanko's validator, trusting the development CA, finds the PAdES signature intact, valid,
    trusted and covering the whole file; one changed byte and it is no longer intact."""
    status = validate(signed, signing.development_ca())
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE" and status.modification_level.name == "NONE"
    assert "山西省财政厅" in status.signing_cert.subject.human_friendly
    broken = validate(tampered(signed), signing.development_ca())
    assert not broken.intact and not broken.bottom_line


def test_a_signature_is_not_trusted_on_another_ca(signed):
    """The validator trusts only the CA given: the same file against a stranger's CA is intact but untrusted."""
    _, _, stranger = signing._new_development_pair()
    status = validate(signed, asn1_x509.Certificate.load(stranger.public_bytes(serialization.Encoding.DER)))
    assert status.intact and not status.trusted and not status.bottom_line


def test_the_configured_key_and_certificate_sign(archive, settings, tmp_path):
    """the key and certificate come from configuration (a path, or PEM text with \\n for line breaks)."""
    key, certificate, ca = signing._new_development_pair()
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(b"s3cret")))
    chain = (certificate.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    settings.CERTIFICATE_SIGNING_KEY = str(key_file)
    settings.CERTIFICATE_SIGNING_CERT = chain.decode().replace("\n", "\\n")
    settings.CERTIFICATE_SIGNING_KEY_PASSWORD = "s3cret"
    complete(archive)
    document = certificate_for(archive, 2024)
    pdf = certificate_pdf(document)
    ours = asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))
    assert validate(pdf, ours).bottom_line
    assert not validate(pdf, signing.development_ca()).trusted
    event = AuditEvent.objects.get(event_type="cpe.certificate_signed")
    assert event.extra["development_key"] is False and document.signed_by == signing.signing_material().subject


def test_a_key_that_is_not_the_certificates_is_refused(settings, tmp_path):
    """A misconfiguration says what is wrong, before anything is signed."""
    key, _, _ = signing._new_development_pair()
    _, certificate, _ = signing._new_development_pair()
    settings.CERTIFICATE_SIGNING_KEY = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()).decode()
    settings.CERTIFICATE_SIGNING_CERT = certificate.public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(ImproperlyConfigured, match="not the key's"):
        signing.signing_material()
    settings.CERTIFICATE_SIGNING_CERT = str(tmp_path / "missing.pem")
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        signing.signing_material()


def test_the_development_pair_is_made_once_without_the_cas_key(settings, tmp_path):
    """with nothing configured, a development pair under VAR_DIR: one file (0600) with the signing key,
    its certificate and the CA's certificate — never the CA's key — and the CA alone in ca.pem."""
    settings.VAR_DIR = tmp_path
    material = signing.signing_material()
    bundle = tmp_path / "certificate-signing" / "development.pem"
    text = bundle.read_text()
    assert material.development and oct(bundle.stat().st_mode & 0o777) == "0o600"
    assert text.count("PRIVATE KEY-----") == 2 and text.count("BEGIN CERTIFICATE") == 2  # one key, two certs
    assert signing.signing_material() is material  # loaded once
    ca = (tmp_path / "certificate-signing" / "ca.pem").read_bytes()
    assert b"PRIVATE" not in ca and material.chain[0].dump() == _der(ca)


def _der(pem: bytes) -> bytes:
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


# --- the seal ---------------------------------------------------------------------------------------

def png(size=(400, 400), mode="RGBA", colour=(0, 0, 0, 0), format="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=format)
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (png(format="JPEG", mode="RGB", colour=(255, 255, 255)), "PNG格式"),
    (b"not an image at all", "无法识别"),
    (png(size=(200, 200)), "不少于300像素"),
    (png(size=(400, 800)), "正方形"),
    (png(mode="RGB", colour=(255, 255, 255)), "透明背景"),
])
def test_a_seal_that_is_not_a_transparent_round_png_is_refused(data, message, province_staff):
    """the seal is a transparent PNG of a fair size; anything else is refused with the reason."""
    with pytest.raises(DomainError, match=message):
        seal_upload(issuer="山西省财政厅", image=data, by=province_staff)
    assert not CertificateSeal.objects.exists()


def test_the_demo_seal_is_generated_red_round_and_transparent():
    """the demo draws its seal (never a real one): a PNG the upload check accepts as it is."""
    data = demo_seal_png("山西省财政厅")
    image = Image.open(io.BytesIO(data)).convert("RGBA")
    assert image.size == (600, 600) and seal_png(data) == data
    assert image.getpixel((5, 5))[3] == 0  # a transparent corner
    red, green, blue, alpha = image.getpixel((300, 240))  # the star's centre
    assert alpha > 200 and red > 180 and green < 80 and blue < 80


def test_staff_upload_the_seal_in_the_admin_and_new_certificates_bear_it(client, province_staff, archive,
                                                                        monkeypatch):
    """the seal is uploaded in the admin (audited); the certificates issued after bear it, embedded
    in the PDF as an image with transparency (pdfimages lists it with its soft mask)."""
    table = ADMIN_PERMISSIONS[Role.SYSTEM_ADMIN]
    if "cpe.certificateseal" not in table:  # until accounts/backends.py lists the seal for the system administrator
        monkeypatch.setitem(ADMIN_PERMISSIONS, Role.SYSTEM_ADMIN, {**table, "cpe.certificateseal": (VIEW, ADD)})
    as_admin(province_staff, "system_admin")
    login_staff(client, province_staff)
    refused = client.post("/manage/cpe/certificateseal/add/", {
        "issuer": "山西省财政厅", "upload": SimpleUploadedFile("seal.png", png(mode="RGB", colour=(255, 255, 255)))})
    assert refused.status_code == 200 and "透明背景" in refused.text and not CertificateSeal.objects.exists()
    response = client.post("/manage/cpe/certificateseal/add/", {
        "issuer": "山西省财政厅", "upload": SimpleUploadedFile("seal.png", demo_seal_png("山西省财政厅"))})
    assert response.status_code == 302
    seal = CertificateSeal.objects.get()
    assert seal.uploaded_by == province_staff
    assert AuditEvent.objects.get(event_type="cpe.seal_uploaded").actor == province_staff
    listing = client.get("/manage/cpe/certificateseal/")
    assert listing.status_code == 200 and "data:image/png;base64," in listing.text
    assert client.get(f"/manage/cpe/certificateseal/{seal.pk}/delete/").status_code == 403
    complete(archive)
    certificate = certificate_for(archive, 2024)
    assert certificate.seal == seal
    images = subprocess.run([shutil.which("pdfimages"), "-list", "-"], input=certificate_pdf(certificate),  # noqa: S603
                            capture_output=True, check=True).stdout.decode()
    assert " smask " in images  # the seal's transparency, kept


# --- a web worker's start ---------------------------------------------------------------------------------

def test_the_warm_up_renders_and_signs_in_memory_and_keeps_nothing(tmp_path, settings, caplog):
    """gunicorn.conf.py's post_worker_init: the sample page rendered and signed, no row, no file, no audit,
    and no line of WeasyPrint's progress in the log (seven a certificate at INFO, the portal's log level)."""
    settings.MEDIA_ROOT = str(tmp_path)
    with caplog.at_level(logging.INFO):
        seconds = certificate_machinery_warm()
    assert not [record for record in caplog.records if record.name.startswith("weasyprint")]
    assert 0 < seconds < 60
    assert not Certificate.objects.exists() and not AuditEvent.objects.exists()
    assert not any(tmp_path.iterdir())


def test_a_warm_up_that_fails_is_logged_and_the_worker_serves_on(monkeypatch, caplog):
    def unreadable(*args, **kwargs):
        raise ImproperlyConfigured("Certificate signing: the key or certificate cannot be read (bad PEM).")

    monkeypatch.setattr(services, "sign_pdf", unreadable)
    assert certificate_machinery_warm() >= 0
    assert "certificate warm-up failed" in caplog.text and "bad PEM" in caplog.text


def test_gunicorn_warms_each_worker_from_its_settings_file():
    config = runpy.run_path(str(Path(__file__).resolve().parents[3] / "gunicorn.conf.py"))
    assert callable(config["post_worker_init"])
