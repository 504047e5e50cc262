"""/api/v1/: each app contributes its routes here."""

from django.urls import include, path

from kjzx import api_notifications, api_stats

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("records.api_urls")),
    path("", include("transfers.api_urls")),
    path("", include("cpe.api_urls")),
    path("", include("cpe.api_urls_learning")),
    path("", include("cpe.api_urls_claims")),
    path("", include("cpe.api_urls_institutions")),
    path("", include("cpe.api_urls_sources")),
    path("me/notifications/", api_notifications.NotificationListView.as_view(), name="api-notifications"),
    path("me/notifications/<int:pk>/read/", api_notifications.NotificationReadView.as_view(),
         name="api-notification-read"),
    path("stats/reviews/", api_stats.ReviewStatsView.as_view(), name="api-stats-reviews"),
    path("stats/cpe/<int:year>/", api_stats.CpeStatsView.as_view(), name="api-stats-cpe"),
]
