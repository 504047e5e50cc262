"""Pages of other-form credit claims (included at the site root), R-CE-11.

``workbench_claim`` is the name ``CreditClaim.reviewer_url`` should reverse (the review queue links
there); ``/me/cpe/claims/<pk>/`` (``person_claim_detail``) is ``CreditClaim.applicant_url``.
"""

from django.urls import path

from cpe import views_claims

urlpatterns = [
    path("me/cpe/claims/", views_claims.claim_list, name="person_claim_list"),
    path("me/cpe/claims/<int:pk>/", views_claims.claim_detail, name="person_claim_detail"),
    path("me/cpe/claims/<int:pk>/transitions/<slug:name>/", views_claims.claim_transition,
         name="person_claim_transition"),
    path("workbench/claims/<int:pk>/", views_claims.workbench_claim, name="workbench_claim"),
    path("workbench/claims/<int:pk>/transitions/<slug:name>/", views_claims.workbench_claim_transition,
         name="workbench_claim_transition"),
]
