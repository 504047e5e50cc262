"""/api/v1/cpe/claims/ (API.md §1 "Workflow objects", "Continuing education"), R-CE-11."""

from django.urls import path

from cpe.claims import api

urlpatterns = [
    path("cpe/claims/", api.ClaimListView.as_view(), name="api-cpe-claims"),
    path("cpe/claims/<int:pk>/", api.ClaimDetailView.as_view(), name="api-cpe-claim"),
    path("cpe/claims/<int:pk>/transitions/<str:name>/", api.ClaimTransitionView.as_view(),
         name="api-cpe-claim-transition"),
]
