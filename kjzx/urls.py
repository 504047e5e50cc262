from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from kjzx import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("me/notifications/", views.notification_list_page, name="notifications"),
    path("me/notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("me/notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("", include("accounts.urls")),
    path("", include("records.urls")),
    path("", include("transfers.urls")),
    path("", include("cpe.urls_person")),
    path("", include("cpe.urls_learning")),
    path("", include("cpe.urls_face_to_face")),
    path("", include("cpe.urls_exams")),
    path("", include("cpe.urls_claims")),
    path("", include("cpe.urls_institutions")),
    path("manage/", admin.site.urls),
    path("api/v1/", include("kjzx.api_urls")),
    path("api/exchange/v1/", include("transfers.exchange_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
