"""The bureau's pages of collections and changes, and the scans (``attachment_file``).

Each kind's routes come from the one HTML door (:meth:`kjzx.workflow_views.WorkflowPage.urls`):
``workbench_collection``, ``workbench_collection_transition``, ``workbench_collection_reveal``,
``workbench_change``, … The queue (``/workbench/``) and its export are the workbench app's.
"""

from django.urls import path

from records import views_workbench as views

urlpatterns = [
    path("files/<int:pk>/", views.attachment_file, name="attachment_file"),
    path("files/<int:pk>/pages/<int:number>/", views.attachment_page, name="attachment_page"),
    *views.CollectionPage.urls("workbench/collections/"),
    *views.ChangePage.urls("workbench/changes/"),
]
