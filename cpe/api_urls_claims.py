"""/api/v1/cpe/claims/ (API.md §1 "Workflow objects", "Continuing education"), R-CE-11."""

from django.urls import path

from cpe import api_claims

urlpatterns = [
    path("cpe/claims/", api_claims.ClaimListView.as_view(), name="api-cpe-claims"),
    path("cpe/claims/<int:pk>/", api_claims.ClaimDetailView.as_view(), name="api-cpe-claim"),
    path("cpe/claims/<int:pk>/transitions/<str:name>/", api_claims.ClaimTransitionView.as_view(),
         name="api-cpe-claim-transition"),
]
