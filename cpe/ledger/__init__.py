"""The credit ledger (学分台账): year policy, credits, certificates, the year's close, R-CE-1…5, 12, 13, 15.

``rules`` (collection approved, frozen year), ``selectors`` (year_status, standards in force, the CE
history), ``services`` (credits_register — the one way credits enter — reversals, the close),
``policy`` (the year's policy and credit standards as data), ``certificates`` (issuing,
signing, revoking certificates and their PDF).
"""
