"""Every continuing-education endpoint under /api/v1/, included once: each capability brings its own."""

from django.urls import include, path

urlpatterns = [
    path("", include("cpe.ledger.api_urls")),
    path("", include("cpe.learning.api_urls")),
    path("", include("cpe.claims.api_urls")),
    path("", include("cpe.institutions.api_urls")),
    path("", include("cpe.lists.api_urls")),
]
