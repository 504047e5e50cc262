"""/api/v1/: each app contributes its routes here."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
]
