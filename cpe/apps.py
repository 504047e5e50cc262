from django.apps import AppConfig


class CpeConfig(AppConfig):
    """Continuing education (继续教育): the credit ledger, year policies, courses, certificates, R-CE-*."""

    name = "cpe"
    verbose_name = "继续教育"

    def ready(self):
        """Online learning's hooks: pending online credits count before a year freezes (R-CE-8, R-CE-13),
        and an outbound transfer waits for this year's registration (R-TRF-3)."""
        from cpe import learning, ledger
        from transfers import services as transfer_services

        if learning.register_pending_before_close not in ledger.BEFORE_CLOSE:
            ledger.BEFORE_CLOSE.append(learning.register_pending_before_close)
        if learning.outbound_refusal not in transfer_services.OUTBOUND_CHECKS:
            transfer_services.OUTBOUND_CHECKS.append(learning.outbound_refusal)

        from cpe import claims, exams, face_to_face, institutions  # noqa: F401  (effects, receivers, holders, labels)

        # Claims and institution filings join the bureaus' FIFO queue (records.selectors).
        from cpe.models import CreditClaim, InstitutionFiling
        from records import selectors as records_selectors

        records_selectors.QUEUE_MODELS.setdefault("claim", CreditClaim)
        records_selectors.QUEUE_MODELS.setdefault("filing", InstitutionFiling)
