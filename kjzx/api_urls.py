"""/api/v1/: each app contributes its routes here."""

from django.urls import include, path

from kjzx import api_notifications

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("records.api_urls")),
    path("", include("transfers.api_urls")),
    path("", include("cpe.api_urls")),
    path("me/notifications/", api_notifications.NotificationListView.as_view(), name="api-notifications"),
    path("me/notifications/<int:pk>/read/", api_notifications.NotificationReadView.as_view(),
         name="api-notification-read"),
    path("", include("workbench.api_urls")),
    path("", include("employers.api_urls")),
]
