"""/api/v1/transfers/ (API.md §1)."""

urlpatterns = []
