"""Fixtures every CE test may use, beside the root conftest's personas: the training institutions' accounts."""

import pytest

from accounts.models import Role
from tests.factories import make_staff


@pytest.fixture
def institution_user(db):
    """A training institution's account (role 培训机构) in 城区."""
    return make_staff("jigou_a", Role.INSTITUTION, "140502")


@pytest.fixture
def other_institution_user(db):
    """Another institution's account in 城区: sees nothing of ``institution_user``'s (R-ACL-1)."""
    return make_staff("jigou_b", Role.INSTITUTION, "140502")
