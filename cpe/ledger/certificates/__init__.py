"""Credit certificates (学分证明) as official documents that prove themselves, R-CE-15.

- ``services``: issuing (a number per issue year, what it states kept, the seal), signing once and
  keeping the PDF, revoking after a correction, uploading the bureau's seal;
- ``document``: the A4 page (WeasyPrint, Noto Serif CJK SC, the seal, the QR code of ``SITE_URL``/verify/…);
- ``signing``: the PAdES signature (pyHanko), the configured key or the generated development pair;
- ``seal``: checking an uploaded seal image, drawing the demo's.

Checking a certificate is :func:`cpe.ledger.selectors.certificate_verify` (the /verify pages and API).
"""
