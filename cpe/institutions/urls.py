"""Training institutions' pages (R-CE-9, R-CE-14), included at the site root.

``workbench_filing`` is the URL name for ``InstitutionFiling.reviewer_url()``.
"""

from django.urls import path

from cpe.institutions import views

urlpatterns = [
    path("institution/", views.institution_home, name="institution_home"),
    path("institution/filing/", views.filing_apply, name="institution_filing"),
    path("institution/teachers/", views.teacher_list, name="institution_teachers"),
    path("institution/teachers/<int:pk>/", views.teacher_edit, name="institution_teacher_edit"),
    path("institution/teachers/<int:pk>/delete/", views.teacher_delete, name="institution_teacher_delete"),
    path("institution/reports/new/", views.report_new, name="institution_report_new"),
    path("institution/trainings/new/", views.training_new, name="institution_training_new"),
    *views.FilingPage.urls("workbench/filings/"),
    path("workbench/institutions/", views.workbench_institutions, name="workbench_institutions"),
    path("workbench/institutions/<int:pk>/evaluation/", views.workbench_institution_evaluate,
         name="workbench_institution_evaluate"),
    path("institutions/", views.public_institutions, name="public_institutions"),
]
