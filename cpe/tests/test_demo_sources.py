"""The demo holds every other CE source, ready for the bureau and the province (API.md §3; R-CE-9…11, R-CE-14)."""

import pytest

from cpe.models import AttendanceList, CreditClaim, ExamImport, InstitutionFiling, TrainingInstitution

pytestmark = pytest.mark.django_db


def test_load_demo_holds_institutions_lists_claims_and_an_exam_list(demo):
    """The demo the suite loads once, twice over (nothing doubles: records/tests/test_demo.py counts)."""
    assert set(InstitutionFiling.objects.values_list("status", flat=True)) == {"filed", "submitted"}
    assert TrainingInstitution.objects.filter(owner__username="jigou1", filed=True).count() == 1
    assert AttendanceList.objects.get().status == "checked"
    assert sorted(CreditClaim.objects.values_list("status", flat=True)) == ["approved", "submitted"]
    imported = ExamImport.objects.get()
    assert imported.status == "checked" and imported.rows.filter(state="pending").count() == 1
