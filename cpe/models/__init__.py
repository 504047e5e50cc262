"""Continuing education (继续教育): the year's policy, the credit ledger, online learning, certificates.

R-CE-1…8, R-CE-12, R-CE-13, R-CE-15. 学分 (study credits) are ``CreditEntry`` rows; the
credit-information file (会计人员信用信息档案) is ``IntegrityRecord`` — two different words, two names.
The rules are in the capabilities' services and selectors (``cpe/ledger/``, ``cpe/learning/``, ``cpe/lists/``,
``cpe/claims/``, ``cpe/institutions/``; docs/cpe.md says what is where).
"""


from cpe.models.claims import *  # noqa: F403
from cpe.models.institutions import *  # noqa: F403
from cpe.models.learning import *  # noqa: F403
from cpe.models.ledger import *  # noqa: F403
from cpe.models.sources import *  # noqa: F403
from cpe.models.summaries import *  # noqa: F403
