"""Writes of certificates (学分证明): issuing, signing, revoking; the bureau's seal. R-CE-15.

- :func:`certificate_for` — the year's valid certificate, issued on first request when the year is
  complete: numbered (晋财会继教证〔2026〕000123, per issue year), what it states kept (``stated``), the
  newest seal chosen, audited (``cpe.certificate_issued``) — one short transaction under the year's
  lock, as corrections take it. Then :func:`certificate_sign` renders and signs its PDF (PAdES) outside
  any transaction and keeps it in Django's storage (``cpe.certificate_signed``, with the file's SHA-256):
  every download after that is the same bytes. Should signing fail, the certificate stands and the
  next download signs it.
- :func:`certificate_revoke_if_incomplete` — called by :func:`cpe.ledger.services.credit_reverse` in
  the correction's transaction: when the year falls below the requirement its certificate is void
  (作废, ``revoked_at`` and the reason, ``cpe.certificate_revoked``); /verify says so, and once the
  year is complete again :func:`certificate_for` issues a new one (new code, new number).
- :func:`seal_upload` — a new seal for certificates issued from now on (``cpe.seal_uploaded``).
- :func:`certificate_machinery_warm` — a web worker's start (``gunicorn.conf.py``): what the first
  certificate of a process would otherwise wait for, loaded before any request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import time
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from cpe.ledger.certificates.document import certificate_html, html_to_pdf, seal_data_uri
from cpe.ledger.certificates.seal import SealError, demo_seal_png, seal_png
from cpe.ledger.certificates.signing import sign_pdf, signing_material
from cpe.ledger.selectors import (
    ISSUER,
    CertificateStatement,
    YearStatus,
    ce_year_get,
    certificate_statement,
    statement_now,
    statement_snapshot,
    year_status,
)
from cpe.models import Certificate, CertificateSeal, CEYear, CreditEntry, certificate_number
from kjzx.api import DomainError
from kjzx.audit import record_event, register_event_labels
from records.models import Archive

logger = logging.getLogger(__name__)

register_event_labels({
    "cpe.certificate_issued": "签发学分证明",
    "cpe.certificate_signed": "学分证明电子签名",
    "cpe.certificate_revoked": "学分证明作废",
    "cpe.seal_uploaded": "上传学分证明用章",
})

NOT_COMPLETE = "该年度继续教育尚未完成，暂无学分证明。"
SIGNATURE_REASON = "出具会计专业技术人员继续教育学分证明"
SIGNATURE_LOCATION = "山西省"


def certificate_for(archive: Archive | None, year: int | CEYear) -> Certificate:
    """The year's valid certificate, issued and signed on first request; Http404 while not complete."""
    policy = year if isinstance(year, CEYear) else ce_year_get(year)
    if archive is None:
        raise Http404(NOT_COMPLETE)
    certificate = certificate_issue(archive, policy)
    return certificate if certificate.document else certificate_sign(certificate)


def _valid(archive: Archive, policy: CEYear) -> Certificate | None:
    return (Certificate.objects.filter(archive=archive, year=policy, revoked_at__isnull=True)
            .select_related("seal").first())


def certificate_issue(archive: Archive, policy: CEYear) -> Certificate:
    """The year's valid certificate, or a new one (numbered, its statement kept, audited), not yet signed."""
    certificate = _valid(archive, policy)
    if certificate is not None:
        return certificate
    try:
        with transaction.atomic():
            CEYear.objects.select_for_update().filter(pk=policy.pk).first()  # as a correction locks it
            seal = CertificateSeal.objects.first()  # the newest
            certificate = Certificate(archive=archive, year=policy, seal=seal)
            statement = statement_now(archive, policy, certificate=certificate, issuer=seal.issuer if seal else ISSUER)
            if not statement.status.completed:
                raise Http404(NOT_COMPLETE)
            certificate.stated = statement_snapshot(statement)
            certificate.save()
            record_event(certificate, "cpe.certificate_issued", by=archive.person, extra={
                "archive": archive.pk, "year": policy.year, "code": certificate.code, "number": certificate.number})
    except IntegrityError:  # the same person asked twice at once: the other request's certificate
        certificate = _valid(archive, policy)
        if certificate is None:
            raise
    return certificate


def sample_statement() -> CertificateStatement:
    """A full certificate held in memory, nothing read from or written to the database: a completed 2024
    with credits in four forms (the warm-up below and bench/certificate_bench.py render it)."""
    archive = Archive(name="欧阳明华", id_type="resident_id", id_number="14050219900101101X")
    status = YearStatus(2024, True, Decimal("90"), Decimal("60"), Decimal("96.5"), Decimal("66.5"), Decimal("30"),
                        {"online": Decimal("54.5"), "face_to_face": Decimal("24"), "exam": Decimal("12"),
                         "paper": Decimal("6")}, True, dt.date(2025, 3, 31), True)
    certificate = Certificate(archive=archive, year_id=2024, code="7KQ2M9XW4HT8PZ3R", number_year=2025,
                              number=certificate_number(2025, 123),
                              issued_at=dt.datetime(2025, 4, 2, 9, 30, tzinfo=dt.UTC))
    return CertificateStatement(certificate, archive.name, archive.masked_id_number, status, ISSUER)


def certificate_machinery_warm() -> float:
    """Render and sign :func:`sample_statement` once, keeping nothing; returns the seconds it took.

    The first certificate of a process costs about a second more than the next ones (WeasyPrint finds
    and loads the fonts, the template compiles, pyHanko is imported and the signing key read):
    ``gunicorn.conf.py`` runs this as each web worker starts, so no accountant waits for it. A failure
    (no fonts, a key that cannot be read) is logged and the worker serves on: the certificate download
    then says what is wrong, as it would have without the warm-up.
    """
    started = time.monotonic()
    try:
        seal = "data:image/png;base64," + base64.b64encode(demo_seal_png(ISSUER)).decode()
        sign_pdf(html_to_pdf(certificate_html(sample_statement(), seal_uri=seal)), signer_name=ISSUER,
                 reason=SIGNATURE_REASON, location=SIGNATURE_LOCATION)
    except Exception:
        logger.exception("certificate warm-up failed: the first certificate download will say why")
    return time.monotonic() - started


def certificate_pdf_unsigned(statement: CertificateStatement, seal: CertificateSeal | None) -> bytes:
    return html_to_pdf(certificate_html(statement, seal_uri=seal_data_uri(seal)))


def certificate_sign(certificate: Certificate) -> Certificate:
    """Render, sign and keep the certificate's PDF, once (see the module doc); returns the certificate."""
    seal = certificate.seal if certificate.stated else CertificateSeal.objects.first()
    statement = certificate_statement(certificate)
    if not certificate.stated:  # issued before certificates kept what they state: as it stands now
        statement = statement_now(certificate.archive, certificate.year, certificate=certificate,
                                  issuer=seal.issuer if seal else ISSUER)
    material = signing_material()
    pdf = sign_pdf(certificate_pdf_unsigned(statement, seal), signer_name=statement.issuer,
                   reason=SIGNATURE_REASON, location=SIGNATURE_LOCATION, material=material)
    with transaction.atomic():
        locked = Certificate.objects.select_for_update(of=("self",)).select_related("seal").get(pk=certificate.pk)
        if locked.document:  # another request signed it meanwhile: theirs is the one
            return locked
        locked.stated, locked.seal, locked.signed_by = statement_snapshot(statement), seal, material.subject
        locked.document.save(f"{locked.code}.pdf", ContentFile(pdf), save=False)
        locked.save(update_fields=["stated", "seal", "signed_by", "document"])
        record_event(locked, "cpe.certificate_signed", extra={
            "number": locked.number, "signed_by": material.subject, "development_key": material.development,
            "bytes": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()})
    return locked


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate's signed PDF as kept (signed now if it never was)."""
    if not certificate.document:
        certificate = certificate_sign(certificate)
    try:
        with certificate.document.open("rb") as document:
            return document.read()
    except FileNotFoundError:  # the storage lost it: sign again what the certificate states
        logger.error("Certificate %s: its PDF %s is missing from storage; signing it again.", certificate.pk,
                     certificate.document.name)
        Certificate.objects.filter(pk=certificate.pk).update(document="")
        certificate.document = ""
        return certificate_pdf(certificate_sign(certificate))


def certificate_revoke_if_incomplete(reversal: CreditEntry, *, by, reason: str) -> Certificate | None:
    """After a correction (更正): if the year is now below the requirement, its certificate is void (作废).

    Runs inside :func:`cpe.ledger.services.credit_reverse`'s transaction, which holds the year's lock.
    """
    certificate = (Certificate.objects.select_for_update()
                   .filter(archive_id=reversal.archive_id, year_id=reversal.year_id, revoked_at__isnull=True).first())
    if certificate is None or year_status(reversal.archive, reversal.year_id).completed:
        return None
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = f"学分更正后该年度学分未达到要求：{reason}"[:200]
    certificate.save(update_fields=["revoked_at", "revoked_reason"])
    record_event(certificate, "cpe.certificate_revoked", by=by, reason=certificate.revoked_reason, extra={
        "number": certificate.number, "code": certificate.code, "reversal": reversal.pk})
    return certificate


@transaction.atomic
def seal_upload(*, issuer: str, image: bytes, by=None) -> CertificateSeal:
    """A new seal (学分证明用章) for the certificates issued from now on; DomainError for a bad image."""
    issuer = (issuer or "").strip()
    if not issuer:
        raise DomainError({"issuer": ["请填写出具单位。"]})
    try:
        png = seal_png(image)
    except SealError as error:
        raise DomainError({"image": [str(error)]}) from None
    seal = CertificateSeal(issuer=issuer[:100], uploaded_by=by if getattr(by, "pk", None) else None)
    seal.image.save("seal.png", ContentFile(png), save=False)
    seal.save()
    record_event(seal, "cpe.seal_uploaded", by=by, extra={
        "issuer": seal.issuer, "bytes": len(png), "sha256": hashlib.sha256(png).hexdigest()})
    return seal
