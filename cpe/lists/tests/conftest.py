"""Fixtures of the name-list tests: a past face-to-face training and five collected people (R-CE-9, R-CE-10)."""

import pytest

from cpe.lists.tests.test_face_to_face import make_training
from tests.factories import make_accountant, make_active_archive


@pytest.fixture
def training(institution_user):
    return make_training(institution_user)


@pytest.fixture
def people(db):
    """Five collected people of 城区: A, B, C, D, E."""
    found = {}
    for key, name, sequence in (("A", "张三", 101), ("B", "王五", 103), ("C", "赵六", 105), ("D", "钱七", 107),
                                ("E", "孙八", 109)):
        person = make_accountant(name=name, sequence=sequence, mobile=f"1380000{sequence:04d}")
        found[key] = make_active_archive(person)
    return found
