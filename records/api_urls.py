"""/api/v1/ routes of the records app (API.md §1)."""

urlpatterns = []
