from django.apps import AppConfig


class CpeConfig(AppConfig):
    """Continuing education (继续教育): the credit ledger, year policies, courses, certificates, R-CE-*."""

    name = "cpe"
    verbose_name = "继续教育"

    def ready(self):
        """The plug-in points only (each documented where it is declared), and the modules whose import
        registers something: workflow effects (claims, filings), the exam lists' signal receiver, event labels.

        - ``cpe.ledger.services.BEFORE_CLOSE``: online learning registers pending passes before a year
          freezes (R-CE-8, R-CE-13); the ledger sits below online learning and cannot call it by name.
        - ``kjzx.workflow.TRANSITION_HOOKS``: a decision on an application about an archive moves its CE sums
          (``cpe.ledger.summaries.after_transition``: region, obligation).
        - ``records.selectors.ATTACHMENT_HOLDERS``: a reviewer may open the evidence of a claim or of a
          face-to-face list in their scope (records sits below cpe and cannot import it).
        """
        from cpe.claims import selectors as claim_selectors
        from cpe.claims import services as claim_services  # noqa: F401  (workflow effects, labels)
        from cpe.institutions import services as institution_services  # noqa: F401  (workflow effects, labels)
        from cpe.learning import services as learning_services
        from cpe.ledger import services as ledger_services
        from cpe.ledger import summaries as ledger_summaries
        from cpe.lists import selectors as list_selectors
        from cpe.lists.services import exams, face_to_face  # noqa: F401  (the signal receiver, labels)
        from kjzx.workflow import TRANSITION_HOOKS
        from records import selectors as records_selectors

        if ledger_summaries.after_transition not in TRANSITION_HOOKS:  # the dashboards' CE sums follow archives
            TRANSITION_HOOKS.append(ledger_summaries.after_transition)
        if learning_services.register_pending_before_close not in ledger_services.BEFORE_CLOSE:
            ledger_services.BEFORE_CLOSE.append(learning_services.register_pending_before_close)
        for holder in (claim_selectors.claims_visible_to_reviewer, list_selectors.lists_with_evidence_visible_to):
            if holder not in records_selectors.ATTACHMENT_HOLDERS:
                records_selectors.ATTACHMENT_HOLDERS.append(holder)
