"""The workbench's pages outside any namespace: the queue's Excel export (``workbench_export``).

The queue and the dashboard themselves were named inside the ``accounts`` namespace
(``accounts:workbench``, ``accounts:dashboard``, …) before this app existed; those names are kept, so
their routes are in :mod:`workbench.accounts_urls`, which accounts/urls.py mounts.
"""

from django.urls import path

from workbench import views

urlpatterns = [
    path("workbench/export.xlsx", views.queue_export, name="workbench_export"),
]
