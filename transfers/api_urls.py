"""/api/v1/transfers/ (API.md §1)."""

from django.urls import path

from transfers import api

urlpatterns = [
    path("transfers/", api.TransferListView.as_view(), name="api-transfers"),
    path("transfers/<int:pk>/", api.TransferDetailView.as_view(), name="api-transfer"),
    path("transfers/<int:pk>/transitions/<str:name>/", api.TransferTransitionView.as_view(),
         name="api-transfer-transition"),
]
