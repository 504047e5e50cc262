"""/api/v1/me/cpe/… and /api/v1/verify/… (API.md "Continuing education")."""

from django.urls import path

from cpe.ledger import api

urlpatterns = [
    path("me/cpe/<int:year>/", api.MyYearView.as_view(), name="api-me-cpe-year"),
    path("me/cpe/<int:year>/entries/", api.MyYearEntriesView.as_view(), name="api-me-cpe-entries"),
    path("me/cpe/<int:year>/certificate.pdf", api.MyCertificateView.as_view(), name="api-me-cpe-certificate"),
    path("verify/<str:code>/", api.VerifyView.as_view(), name="api-verify"),
]
