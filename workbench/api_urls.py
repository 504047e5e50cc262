"""/api/v1/stats/: the dashboard's figures (API.md "Notifications and figures")."""

from django.urls import path

from workbench import api

urlpatterns = [
    path("stats/reviews/", api.ReviewStatsView.as_view(), name="api-stats-reviews"),
    path("stats/cpe/<int:year>/", api.CpeStatsView.as_view(), name="api-stats-cpe"),
]
