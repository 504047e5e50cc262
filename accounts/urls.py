from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from kjzx import views_stats
from records import views_workbench

app_name = "accounts"

urlpatterns = [
    path("accounts/register/", views.register, name="register"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.home, name="home"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/password/reset/", views.password_reset, name="password_reset"),
    path("accounts/password/reset/confirm/", views.password_reset_confirm, name="password_reset_confirm"),
    path("workbench/", views_workbench.queue, name="workbench"),  # 审核工作台, the records app's queue
    path("dashboard/", views_stats.dashboard, name="dashboard"),  # 统计看板
    path("dashboard/reviews.xlsx", views_stats.reviews_xlsx, name="dashboard_reviews_xlsx"),
    path("dashboard/cpe/<int:year>.xlsx", views_stats.cpe_xlsx, name="dashboard_cpe_xlsx"),
]
