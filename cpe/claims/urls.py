"""Pages of other-form credit claims (included at the site root), R-CE-11.

``workbench_claim`` is ``CreditClaim.reviewer_url`` (the review queue links there); ``/me/cpe/claims/<pk>/``
(``person_claim_detail``) is ``CreditClaim.applicant_url``.
"""

from django.urls import path

from cpe.claims import views

urlpatterns = [
    path("me/cpe/claims/", views.claim_list, name="person_claim_list"),
    path("me/cpe/claims/<int:pk>/", views.claim_detail, name="person_claim_detail"),
    path("me/cpe/claims/<int:pk>/transitions/<slug:name>/", views.claim_transition,
         name="person_claim_transition"),
    *views.ClaimPage.urls("workbench/claims/"),
]
