"""The queue and the dashboard under their original names in the ``accounts`` namespace (see accounts/urls.py)."""

from django.urls import path

from workbench import views

urlpatterns = [
    path("workbench/", views.queue, name="workbench"),  # 审核工作台
    path("dashboard/", views.dashboard, name="dashboard"),  # 统计看板
    path("dashboard/reviews.xlsx", views.reviews_xlsx, name="dashboard_reviews_xlsx"),
    path("dashboard/cpe/<int:year>.xlsx", views.cpe_xlsx, name="dashboard_cpe_xlsx"),
]
