"""Every continuing-education page, included once at the site root: each capability brings its own."""

from django.urls import include, path

urlpatterns = [
    path("", include("cpe.ledger.urls")),
    path("", include("cpe.learning.urls")),
    path("", include("cpe.lists.urls")),
    path("", include("cpe.claims.urls")),
    path("", include("cpe.institutions.urls")),
]
