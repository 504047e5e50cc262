"""The certificate's page (学分证明): one A4 page of PDF, rendered by WeasyPrint, R-CE-15.

:func:`certificate_html` fills ``templates/cpe/certificate.html`` with a
:class:`~cpe.ledger.selectors.CertificateStatement`: the document number, the body in a Song face
(Debian's Noto Serif CJK SC, ``fonts-noto-cjk``), the bureau's seal (the PNG uploaded in the admin, as a
``data:`` URI), the verification code and the QR code of the public verify page. Real, searchable text;
``libharfbuzz-subset0`` makes the font subsets in a fraction of a second (bench/certificate_bench.py).
Nothing is read from a file or the network while rendering: only ``data:`` URIs.

The verify address is ``settings.SITE_URL`` (never the host a request came to): see kjzx/settings.py for
its default in development.
"""

from __future__ import annotations

import base64
import functools

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cpe.ledger.selectors import CertificateStatement
from cpe.models import CertificateSeal

TITLE = "会计专业技术人员继续教育学分证明"


def verify_path(code: str) -> str:
    return reverse("cpe_verify", args=[code])


def verify_url(code: str) -> str:
    """The absolute address of the public verification page, for the QR code and the printed line."""
    return f"{settings.SITE_URL.rstrip('/')}{verify_path(code)}"


def seal_data_uri(seal: CertificateSeal | None) -> str:
    """The seal's PNG as a ``data:`` URI (read from storage once per seal and process); "" without one."""
    return _seal_data_uri(seal.pk, seal.image.name) if seal is not None and seal.image else ""


@functools.lru_cache(maxsize=8)
def _seal_data_uri(pk: int, name: str) -> str:
    with CertificateSeal._meta.get_field("image").storage.open(name, "rb") as image:
        return "data:image/png;base64," + base64.b64encode(image.read()).decode()


def certificate_html(statement: CertificateStatement, *, seal_uri: str = "") -> str:
    """The certificate's page as HTML, the QR code inline as SVG and the seal inline as PNG."""
    import segno

    certificate = statement.certificate
    url = verify_url(certificate.code)
    qr = segno.make_qr(url, error="m").svg_data_uri(scale=4, border=2, dark="#000", light="#fff")
    return render_to_string("cpe/certificate.html", {
        "s": statement, "title": TITLE, "number": certificate.number, "verify_url": url, "qr": qr,
        "seal": seal_uri, "issued_on": timezone.localtime(certificate.issued_at).date()})


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # data: URIs only (the QR code, the seal): a certificate never reads a file or the network.
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
