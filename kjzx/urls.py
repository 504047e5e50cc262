from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from kjzx import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("me/notifications/", views.notification_list_page, name="notifications"),
    path("me/notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("me/notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("me/notifications/settings/", views.notification_settings, name="notification_settings"),
    path("", include("accounts.urls")),
    path("", include("records.urls")),
    path("", include("transfers.urls")),
    path("", include("workbench.urls")),
    path("", include("cpe.urls")),
    path("", include("employers.urls")),
    path("manage/", admin.site.urls),
    path("api/v1/", include("kjzx.api_urls")),
    path("api/exchange/v1/", include("transfers.exchange_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's script is a file (the split view), so script-src stays strict; its styles are inline.
    path("api/docs/", csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(
        url_name="api-schema")), name="api-docs"),
]

# Under /api/, errors that happen before a DRF view runs answer JSON as well (kjzx.api).
handler400 = "kjzx.api.bad_request"
handler403 = "kjzx.api.permission_denied"
handler404 = "kjzx.api.page_not_found"
handler500 = "kjzx.api.server_error"
