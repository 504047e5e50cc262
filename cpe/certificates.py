"""Credit certificates (学分证明) and the person's own CE figures, R-CE-3, R-CE-4, R-CE-13, R-CE-15, R-ACL-2.

- :func:`certificate_for` issues a year's one :class:`~cpe.models.Certificate` the first time the
  person asks for it, and only for a completed year (R-CE-15); a year not complete is a 404.
- :func:`certificate_pdf` renders it: one A4 page with WeasyPrint, real (searchable) Chinese text in
  Debian's Noto Sans CJK SC (``fonts-noto-cjk``), a verification code and a QR code of the public
  ``/verify/<code>`` page. ``libharfbuzz-subset0`` makes the font subset in a fraction of a second
  (without it WeasyPrint falls back to fontTools and a page takes seconds; bench/certificate_bench.py).
- :func:`certificate_verify` answers what a code's certificate states, the ID number masked.

The figures are always :func:`cpe.ledger.year_status`'s, read when the page is made: a year later
frozen shows the figures in the credit-information file (R-CE-13), and nothing carries from one
year to another (R-CE-4). The person's archive is always the caller's own (R-ACL-2): no function
here takes an archive id from a client.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cpe.ledger import ZERO, YearStatus, obligation_start_year, year_status
from cpe.models import Certificate, CEYear, CreditForm
from kjzx.audit import record_event, register_event_labels
from records.models import Archive

ISSUER = "山西省财政厅"
TITLE = "会计专业技术人员继续教育学分证明"
FIRST_YEAR = 2018  # the national rules (财会〔2018〕10号) took effect in 2018; CEYear starts there too
CODE_PATTERN = re.compile(r"^[A-Z0-9]{16}$")
NOT_COMPLETE = "该年度继续教育尚未完成，暂无学分证明。"

register_event_labels({"cpe.certificate_issued": "签发学分证明"})


# --- the person's own archive and figures (R-ACL-2) -------------------------------------------------

def person_archive(user) -> Archive | None:
    """The caller's own archive, or None: a read never opens one (see transfers.views_person)."""
    return Archive.objects.filter(person=user).prefetch_related("qualifications").first()


def ce_year_get(year: int) -> CEYear:
    """The year's policy, or a 404: a year without one has nothing to show."""
    try:
        return CEYear.objects.get(pk=year)
    except CEYear.DoesNotExist:
        raise Http404(f"没有{year}年度的继续教育安排。") from None


def person_year_status(archive: Archive | None, policy: CEYear) -> YearStatus:
    """:func:`year_status` for the person; someone without an archive yet owes nothing and has nothing."""
    if archive is not None:
        return year_status(archive, policy)
    return YearStatus(policy.year, False, policy.required_total, policy.required_professional, ZERO, ZERO, ZERO,
                      {}, False, policy.deadline, policy.is_frozen)


def person_years(archive: Archive | None, today: dt.date | None = None) -> list[YearStatus]:
    """Each year from the person's obligation start (2018 at the earliest) to this year, newest first."""
    start = obligation_start_year(archive) if archive is not None else None
    if start is None:
        return []
    this_year = (today or timezone.localdate()).year
    policies = CEYear.objects.filter(year__gte=max(start, FIRST_YEAR), year__lte=this_year).order_by("-year")
    return [year_status(archive, policy) for policy in policies]


def by_form_rows(status: YearStatus) -> list[tuple[str, str, object]]:
    """(form, Chinese label, credits) for every form that has credits, in the credit table's order."""
    return [(form, label, status.by_form[form]) for form, label in CreditForm.choices if status.by_form.get(form)]


# --- issuing, rendering, verifying (R-CE-15) -----------------------------------------------------

def certificate_for(archive: Archive, year: int | CEYear) -> Certificate:
    """The year's credit certificate (学分证明), issued on first request; Http404 while not complete."""
    policy = year if isinstance(year, CEYear) else ce_year_get(year)
    if archive is None or not year_status(archive, policy).completed:
        raise Http404(NOT_COMPLETE)
    with transaction.atomic():
        certificate, created = Certificate.objects.get_or_create(archive=archive, year=policy)
        if created:
            record_event(certificate, "cpe.certificate_issued", by=archive.person,
                         extra={"archive": archive.pk, "year": policy.year, "code": certificate.code})
    return certificate


def verify_path(code: str) -> str:
    return reverse("cpe_verify", args=[code])


def verify_url(code: str, site_url: str) -> str:
    """The absolute address of the public verification page, for the QR code and the printed line."""
    return f"{site_url.rstrip('/')}{verify_path(code)}"


@dataclasses.dataclass(frozen=True)
class CertificateStatement:
    """What a certificate states, as printed on it and shown by /verify/ (the ID number masked)."""

    certificate: Certificate
    name: str
    masked_id_number: str
    status: YearStatus
    issuer: str = ISSUER

    @property
    def valid(self) -> bool:
        """Genuine, and the year still complete (a later correction could have taken it below 90)."""
        return self.status.completed

    @property
    def forms(self):
        return by_form_rows(self.status)


def certificate_statement(certificate: Certificate) -> CertificateStatement:
    archive = certificate.archive
    # The year by id, read now: a year frozen since the certificate was loaded states its frozen figures.
    return CertificateStatement(certificate, archive.name, archive.masked_id_number,
                                year_status(archive, certificate.year_id))


def normalise_code(code: str) -> str:
    """What people type: spaces, dashes, other punctuation and lower case are forgiven."""
    return re.sub(r"[^A-Z0-9]", "", str(code or "")[:200].upper())[:32]


def certificate_verify(code: str) -> CertificateStatement | None:
    """What the certificate with ``code`` states, or None if there is none (anyone may ask)."""
    code = normalise_code(code)
    if not CODE_PATTERN.match(code):
        return None
    certificate = (Certificate.objects.filter(code=code).select_related("archive", "year")
                   .prefetch_related("archive__qualifications").first())
    return certificate_statement(certificate) if certificate is not None else None


def certificate_html(statement: CertificateStatement, *, site_url: str) -> str:
    """The certificate's page as HTML (templates/cpe/certificate.html), the QR code inline as SVG."""
    import segno

    url = verify_url(statement.certificate.code, site_url)
    qr = segno.make_qr(url, error="m").svg_data_uri(scale=4, border=2, dark="#000", light="#fff")
    return render_to_string("cpe/certificate.html", {
        "s": statement, "title": TITLE, "verify_url": url, "qr": qr,
        "issued_on": timezone.localtime(statement.certificate.issued_at).date()})


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # data: URIs only (the QR code): a certificate never reads a file or the network.
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def certificate_pdf(certificate: Certificate, *, site_url: str) -> bytes:
    """The certificate as one A4 page of PDF, with the figures as they stand now (or frozen)."""
    return html_to_pdf(certificate_html(certificate_statement(certificate), site_url=site_url))
