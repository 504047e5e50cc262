"""The person's CE pages (学分查询, 学分证明) and the public certificate check (included at the site root).

``cpe_verify`` (``/verify/<code>``) is the address printed and QR-coded on every certificate.
"""

from django.urls import path

from cpe import views_person

urlpatterns = [
    path("me/cpe/", views_person.cpe_overview, name="person_cpe"),
    path("me/cpe/<int:year>/", views_person.cpe_year, name="person_cpe_year"),
    path("me/cpe/<int:year>/certificate.pdf", views_person.cpe_certificate, name="person_cpe_certificate"),
    path("verify/", views_person.verify_form, name="cpe_verify_form"),
    path("verify/<str:code>", views_person.verify, name="cpe_verify"),
]
